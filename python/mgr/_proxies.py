"""Proxies: Python objects standing for shared objects in an mgr manager.

A proxy holds an Object handle (mgr._mgr.Object: the object id and this
process's reference) and a Token(typeid, address, id). Built-in types call
mgrd's own methods (dict.get, lock.acquire...) through the C extension;
registered Python classes call their methods in the manager process (see
_pyserve.py). Pickling a proxy gives what another process needs to reach the
same object: the address, the id, the mgr type and the proxy type; the
receiving process adopts its own reference (spawn, forkserver, a queue).
After fork() an inherited proxy adopts the child's reference on first use."""
import threading
import weakref

from ._ext import _mgr
from . import _errors

_clients = {}
_clients_lock = threading.Lock()
_handles = weakref.WeakValueDictionary()  # (address, id) -> Object, this process


def client_for(address, authkey=None):
    """The process's one Client for address (libmgr reconnects after fork).
    A TCP address ("tcp:HOST:PORT") connects with authkey, else the key this
    process last connected there with, else current_process().authkey (as
    CPython's proxies); a different authkey for a connected address opens a
    new Client with it (checked now), which the address's proxies use next."""
    c = _clients.get(address)
    if c is None or _key_differs(address, authkey):
        with _clients_lock:
            c = _clients.get(address)
            if c is None or _key_differs(address, authkey):
                c = _clients[address] = _connect(address, authkey)
    return c


def _key_differs(address, authkey):
    return authkey is not None and address in _keys and _keys[address] != bytes(authkey)


_keys = {}  # TCP address -> the key this process's Client there proved


def _connect(address, authkey):
    if not address.startswith('tcp:'):
        return _mgr.Client(address)
    if authkey is None:
        authkey = _keys.get(address)
    if authkey is None:
        import multiprocessing
        authkey = multiprocessing.current_process().authkey
    try:
        c = _mgr.Client(address, bytes(authkey))
    except _errors.NotPermitted as e:  # the key (or TLS) refused, either way
        raise _errors.AuthenticationError(str(e)) from None
    _keys[address] = bytes(authkey)
    return c


def _spawn_key(address):
    """The key to carry in a pickle: only to a child being spawned (as
    CPython's BaseProxy.__reduce__), never through a queue or a pipe."""
    from multiprocessing.context import get_spawning_popen
    return _keys.get(address) if get_spawning_popen() is not None else None


class Token(object):
    """As multiprocessing.managers.Token: (typeid, address, id)."""
    __slots__ = ('typeid', 'address', 'id')

    def __init__(self, typeid, address, id):
        (self.typeid, self.address, self.id) = (typeid, address, id)

    def __getstate__(self):
        return (self.typeid, self.address, self.id)

    def __setstate__(self, state):
        (self.typeid, self.address, self.id) = state

    def __repr__(self):
        return '%s(typeid=%r, address=%r, id=%r)' % (
            self.__class__.__name__, self.typeid, self.address, self.id)


# mgr type name -> (typeid, proxy factory, exposed): how a ref in a reply
# becomes a proxy. Filled by the managers' registrations.
proxy_for_type = {}


def _proxy_from_handle(handle):
    entry = proxy_for_type.get(handle.type)
    if entry is None:
        return handle
    typeid, factory, exposed = entry
    return _make_proxy(factory, handle, typeid, exposed)


def _make_proxy(factory, handle, typeid, exposed=None, manager=None):
    address = handle.client.address
    _handles[(address, handle.id)] = handle
    token = Token(typeid, address, handle.id)
    if isinstance(factory, type) and issubclass(factory, BaseProxy):
        return factory(token, handle=handle, manager=manager, exposed=exposed)
    return factory(token, handle=handle, manager=manager, exposed=exposed)


def rebuild(factory, address, id, mgrtype, typeid, exposed, authkey=None):
    """Unpickling a proxy: this process's own handle (and reference)."""
    handle = _handles.get((address, id))
    if handle is None or handle.client.address != address:
        handle = client_for(address, authkey).adopt(id, mgrtype)
        _handles[(address, id)] = handle
    return factory(Token(typeid, address, id), handle=handle, exposed=exposed)


class BaseProxy(object):
    """Base of every proxy (multiprocessing.managers.BaseProxy)."""
    _exposed_ = None
    _method_to_typeid_ = None
    _mgr_factory = None  # a staticmethod on generated classes: what rebuilds them

    def __init__(self, token, serializer=None, manager=None, authkey=None, exposed=None,
                 incref=True, manager_owned=False, handle=None):
        if handle is None:
            handle = client_for(token.address).adopt(token.id, _mgrtype_of(token))
            _handles[(token.address, token.id)] = handle
        self._mgr_object = handle
        self._token = token
        self._id = token.id
        self._manager = manager
        self._serializer = serializer
        self._exposed_given = exposed

    # the generic entry point, as CPython's
    def _callmethod(self, methodname, args=(), kwds={}):
        if self._mgr_object.type.startswith('py.'):
            return call_python(self._mgr_object, methodname, args, kwds)
        fn = getattr(self, methodname, None)
        if fn is None or methodname.startswith('_') and methodname not in _DUNDER_OK:
            raise _errors.RemoteError('method %r is not exposed by %s' % (methodname, self._token.typeid))
        return fn(*args, **kwds)

    def _getvalue(self):
        if self._mgr_object.type.startswith('py.'):
            return call_python(self._mgr_object, '#GETVALUE', (), {})
        return self._copy()

    def _copy(self):
        raise NotImplementedError

    def __reduce__(self):
        factory = self._mgr_factory or type(self)
        return (rebuild, (factory, self._token.address, self._token.id,
                          self._mgr_object.type, self._token.typeid, self._exposed_given,
                          _spawn_key(self._token.address)))

    def __deepcopy__(self, memo):
        return self._getvalue()

    def __repr__(self):
        return '<%s object, typeid %r at %#x>' % (type(self).__name__, self._token.typeid, id(self))

    def __str__(self):
        try:
            return self._mgr_object.client.manager_call('repr', self._mgr_object)
        except Exception:
            return repr(self)[:-1] + "; '__str__()' failed>"


_DUNDER_OK = {'__getitem__', '__setitem__', '__delitem__', '__len__', '__contains__', '__iter__',
              '__next__', '__add__', '__mul__', '__rmul__', '__imul__', '__iadd__', '__reversed__',
              '__enter__', '__exit__', '__repr__', '__str__', '__getattribute__', '__setattr__',
              '__delattr__'}


# typeid -> mgr type name, for a Token alone (BaseProxy(token) built by hand)
typeid_to_mgrtype = {}


def _mgrtype_of(token):
    return typeid_to_mgrtype.get(token.typeid, 'py.' + token.typeid)


class _RemoteException(object):
    """What a Python-served method raised, carried back pickled."""
    __slots__ = ('exc',)

    def __init__(self, exc):
        self.exc = exc

    def __reduce__(self):
        return (_RemoteException, (self.exc,))


def call_python(handle, name, args, kwds):
    r = handle.call('call', name, list(args), kwds or None)
    if type(r) is _RemoteException:
        raise r.exc
    return r


def _flag(r):
    return bool(r & 1) if type(r) is int else bool(r)


def _ms(timeout):
    return None if timeout is None else timeout


# ---- built-in types ----

class DictProxy(BaseProxy):
    def __getitem__(self, key):
        try:
            return self._mgr_object.kcall('get', key)
        except KeyError:
            raise KeyError(key) from None

    def __setitem__(self, key, value):
        self._mgr_object.kcall('set', key, value)

    def __delitem__(self, key):
        try:
            self._mgr_object.kcall('del', key)
        except KeyError:
            raise KeyError(key) from None

    def __contains__(self, key):
        return self._mgr_object.kcall('contains', key)

    def __len__(self):
        return self._mgr_object.call('len')

    def __iter__(self):
        return MgrIterator(self._mgr_object.call('iter', 'keys'))

    def keys(self):
        return self._mgr_object.call('keys')

    def values(self):
        return self._mgr_object.call('values')

    def items(self):
        return [tuple(kv) for kv in self._mgr_object.call('items')]

    def get(self, key, default=None):
        return self._mgr_object.kcall('get', key, default)

    _nodefault = object()

    def pop(self, key, default=_nodefault):
        try:
            if default is DictProxy._nodefault:
                return self._mgr_object.kcall('pop', key)
            return self._mgr_object.kcall('pop', key, default)
        except KeyError:
            raise KeyError(key) from None

    def popitem(self):
        try:
            return tuple(self._mgr_object.call('popitem'))
        except KeyError:
            raise KeyError('popitem(): dictionary is empty') from None

    def setdefault(self, key, default=None):
        return self._mgr_object.kcall('setdefault', key, default)

    def update(self, *args, **kwds):
        self._mgr_object.call('update', dict(*args, **kwds))

    def clear(self):
        self._mgr_object.call('clear')

    def copy(self):
        return self._mgr_object.call('copy')

    _copy = copy

    def incr(self, key, delta=1):
        """mgr's atomic d[key] += delta (absent counts as 0); the new value."""
        return self._mgr_object.kcall('incr', key, delta)


class _SequenceProxy(BaseProxy):
    """What a list and an Array share: indexing by position (a slice on a
    copy, written back whole) and len; _kind names it in IndexError's
    message, as Python's own list and array do."""
    _kind = 'list'

    def _item(self, i):
        try:
            return self._mgr_object.call('get', i)
        except IndexError:
            raise IndexError('%s index out of range' % self._kind) from None

    def _replace(self, items):
        self._mgr_object.call('clear')
        self._mgr_object.call('extend', items)

    def __setitem__(self, i, value):
        if isinstance(i, slice):
            items = self._mgr_object.call('copy')
            items[i] = value
            self._replace(items)
            return
        try:
            self._mgr_object.call('set', i, value)
        except IndexError:
            raise IndexError('%s assignment index out of range' % self._kind) from None

    def __len__(self):
        return self._mgr_object.call('len')


class ListProxy(_SequenceProxy):
    def __getitem__(self, i):
        if isinstance(i, slice):
            if i.step is None and (i.start is None or type(i.start) is int) and \
                    (i.stop is None or type(i.stop) is int):
                return self._mgr_object.call('slice', i.start, i.stop)
            return self.copy()[i]
        return self._item(i)

    def __delitem__(self, i):
        if isinstance(i, slice):
            items = self.copy()
            del items[i]
            self._replace(items)
            return
        try:
            self._mgr_object.call('del', i)
        except IndexError:
            raise IndexError('list assignment index out of range') from None

    def __contains__(self, value):
        return self._mgr_object.call('contains', value)

    def __iter__(self):
        return MgrIterator(self._mgr_object.call('iter'))

    def __reversed__(self):
        return reversed(self.copy())

    def __add__(self, other):
        return self._mgr_object.call('concat', list(other))

    def __mul__(self, n):
        return self._mgr_object.call('repeat', n)

    __rmul__ = __mul__

    def __iadd__(self, other):
        self._mgr_object.call('extend', list(other))
        return self

    def __imul__(self, n):
        self._mgr_object.call('imul', n)
        return self

    def append(self, value):
        self._mgr_object.call('append', value)

    def extend(self, values):
        self._mgr_object.call('extend', list(values))

    def insert(self, i, value):
        self._mgr_object.call('insert', i, value)

    def pop(self, i=-1):
        try:
            return self._mgr_object.call('pop', i)
        except IndexError:
            raise IndexError('pop from empty list' if not len(self) else 'pop index out of range') from None

    def remove(self, value):
        try:
            self._mgr_object.call('remove', value)
        except ValueError:
            raise ValueError('list.remove(x): x not in list') from None

    def index(self, value, *args):
        if args:
            return self.copy().index(value, *args)
        try:
            return self._mgr_object.call('index', value)
        except ValueError:
            raise ValueError('%r is not in list' % (value,)) from None

    def count(self, value):
        return self._mgr_object.call('count', value)

    def reverse(self):
        self._mgr_object.call('reverse')

    def sort(self, key=None, reverse=False):
        if key is None:
            try:
                return self._mgr_object.call('sort', bool(reverse))
            except TypeError:
                pass
        items = self.copy()
        items.sort(key=key, reverse=reverse)
        self._replace(items)

    def clear(self):
        self._mgr_object.call('clear')

    def copy(self):
        return self._mgr_object.call('copy')

    _copy = copy


class NamespaceProxy(BaseProxy):
    """Attributes not starting with '_' live in the manager."""

    def __getattr__(self, key):
        if key[0] == '_':
            raise AttributeError(key)
        try:
            return object.__getattribute__(self, '_mgr_object').call('get', key)
        except AttributeError:
            raise AttributeError("'Namespace' object has no attribute %r" % key) from None

    def __setattr__(self, key, value):
        if key[0] == '_':
            return object.__setattr__(self, key, value)
        self._mgr_object.call('set', key, value)

    def __delattr__(self, key):
        if key[0] == '_':
            return object.__delattr__(self, key)
        try:
            self._mgr_object.call('del', key)
        except AttributeError:
            raise AttributeError(key) from None

    def __repr__(self):
        items = self._mgr_object.call('vars')
        return 'Namespace(%s)' % ', '.join('%s=%r' % kv for kv in items.items())

    def __getattribute__(self, key):
        return object.__getattribute__(self, key)

    def _copy(self):
        from multiprocessing.managers import Namespace
        return Namespace(**self._mgr_object.call('vars'))


class ValueProxy(BaseProxy):
    _typecode = None

    def get(self):
        return self._mgr_object.call('get', 'value')

    def set(self, value):
        self._mgr_object.call('set', 'value', value)

    value = property(get, set)

    def _copy(self):
        return self.get()

    def __repr__(self):
        return '%s(%r, %r)' % (type(self).__name__, self._typecode, self.get())


class ArrayProxy(_SequenceProxy):
    _kind = 'array'

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self._mgr_object.call('copy')[i]
        return self._item(i)

    def tolist(self):
        return self._mgr_object.call('copy')

    _copy = tolist


def _acquire(o, blocking, timeout):
    if not blocking:
        if timeout is not None and timeout != -1:
            raise ValueError("can't specify a timeout for a non-blocking call")
        return _flag(o.call('acquire', False))
    if timeout is None or timeout == -1:
        return _flag(o.call('acquire', True))
    if timeout < 0:
        raise ValueError('timeout value must be a non-negative number')
    return _flag(o.call('acquire', True, timeout=timeout))


class AcquirerProxy(BaseProxy):
    def acquire(self, blocking=True, timeout=None):
        return _acquire(self._mgr_object, blocking, timeout)

    def release(self):
        try:
            self._mgr_object.call('release')
        except _errors.BadState:
            raise RuntimeError('release unlocked lock') from None

    def locked(self):
        return self._mgr_object.call('locked')

    def __enter__(self):
        return self.acquire()

    def __exit__(self, exc_type, exc_val, exc_tb):
        return self.release()

    def _copy(self):
        return self._mgr_object.client.manager_call('describe', self._mgr_object)


class SemaphoreProxy(AcquirerProxy):
    def release(self, n=1):
        try:
            self._mgr_object.call('release', n)
        except _errors.BadState:
            raise ValueError('Semaphore released too many times') from None

    def get_value(self):
        return self._mgr_object.call('get_value')


class ConditionProxy(AcquirerProxy):
    _lock = None

    def wait(self, timeout=None):
        if timeout is not None and timeout < 0:
            timeout = 0
        try:
            return _flag(self._mgr_object.call('wait', timeout=timeout))
        except _errors.NotPermitted:
            raise RuntimeError('cannot wait on un-acquired lock') from None

    def notify(self, n=1):
        try:
            self._mgr_object.call('notify', n)
        except _errors.NotPermitted:
            raise RuntimeError('cannot notify on un-acquired lock') from None

    def notify_all(self):
        try:
            self._mgr_object.call('notify_all')
        except _errors.NotPermitted:
            raise RuntimeError('cannot notify on un-acquired lock') from None

    notifyAll = notify_all

    def wait_for(self, predicate, timeout=None):
        import time
        result = predicate()
        if result:
            return result
        if timeout is not None:
            endtime = time.monotonic() + timeout
        else:
            endtime = None
            waittime = None
        while not result:
            if endtime is not None:
                waittime = endtime - time.monotonic()
                if waittime <= 0:
                    break
            self.wait(waittime)
            result = predicate()
        return result


class EventProxy(BaseProxy):
    def is_set(self):
        return self._mgr_object.call('is_set')

    def set(self):
        self._mgr_object.call('set')

    def clear(self):
        self._mgr_object.call('clear')

    def wait(self, timeout=None):
        if timeout is not None and timeout < 0:
            timeout = 0
        return _flag(self._mgr_object.call('wait', timeout=timeout))

    def _copy(self):
        return self.is_set()


class BarrierProxy(BaseProxy):
    def wait(self, timeout=None):
        if timeout is not None and timeout < 0:
            timeout = 0
        try:
            return self._mgr_object.call('wait', timeout=timeout)
        except _errors.Timeout:
            import threading as t
            raise t.BrokenBarrierError from None

    def abort(self):
        self._mgr_object.call('abort')

    def reset(self):
        self._mgr_object.call('reset')

    @property
    def parties(self):
        return self._mgr_object.call('parties')

    @property
    def n_waiting(self):
        return self._mgr_object.call('n_waiting')

    @property
    def broken(self):
        return self._mgr_object.call('broken')


class QueueProxy(BaseProxy):
    def put(self, item, block=True, timeout=None):
        o = self._mgr_object
        if not block:
            return o.call('put', item, False)
        if timeout is None:
            return o.call('put', item)  # mgrd's put blocks by default: one value less
        if timeout < 0:
            raise ValueError("'timeout' must be a non-negative number")
        return o.call('put', item, True, timeout=timeout)

    def get(self, block=True, timeout=None):
        o = self._mgr_object
        if not block:
            return o.call('get', False)
        if timeout is None:
            return o.call('get')
        if timeout < 0:
            raise ValueError("'timeout' must be a non-negative number")
        return o.call('get', True, timeout=timeout)

    def put_nowait(self, item):
        return self._mgr_object.call('put_nowait', item)

    def get_nowait(self):
        return self._mgr_object.call('get_nowait')

    def qsize(self):
        return self._mgr_object.call('qsize')

    def empty(self):
        return self._mgr_object.call('empty')

    def full(self):
        return self._mgr_object.call('full')

    def task_done(self):
        try:
            self._mgr_object.call('task_done')
        except _errors.BadState:
            raise ValueError('task_done() called too many times') from None
        except _errors.NoMethod:
            raise AttributeError('task_done') from None

    def join(self):
        self._mgr_object.call('join')


class MgrIterator(object):
    """Iterates one of mgrd's iterators (dict.iter, list.iter), fetching up to
    `batch` entries per call: a dict changed in between raises RuntimeError
    at the next fetch, a list is walked by index (items set later are seen)."""
    __slots__ = ('_it', '_buf', '_batch')

    def __init__(self, handle, batch=64):
        self._it = handle
        self._buf = []
        self._batch = batch

    def __iter__(self):
        return self

    def __next__(self):
        if not self._buf:
            if self._it is None:
                raise StopIteration
            try:
                self._buf = self._it.call('next', self._batch)
            except StopIteration:
                self._it = None
                raise StopIteration from None
            except RuntimeError as e:
                self._it = None
                raise RuntimeError('dictionary changed size during iteration') from e
            self._buf.reverse()
        return self._buf.pop()


class IteratorProxy(BaseProxy):
    _exposed_ = ('__next__', 'send', 'throw', 'close')

    def __iter__(self):
        return self

    def __next__(self, *args):
        return self._callmethod('__next__', args)

    def send(self, *args):
        return self._callmethod('send', args)

    def throw(self, *args):
        return self._callmethod('throw', args)

    def close(self, *args):
        return self._callmethod('close', args)


# ---- registered Python classes ----

def MakeProxyType(name, exposed, _cache={}):
    """A proxy class whose methods call `exposed` (as CPython's)."""
    exposed = tuple(exposed)
    try:
        return _cache[(name, exposed)]
    except KeyError:
        pass
    dic = {}
    for meth in exposed:
        exec('''def %s(self, /, *args, **kwds):
        return self._callmethod(%r, args, kwds)''' % (meth, meth), dic)
    ProxyType = type(name, (BaseProxy,), dic)
    ProxyType._exposed_ = exposed
    ProxyType._mgr_factory = staticmethod(AutoProxy)
    _cache[(name, exposed)] = ProxyType
    return ProxyType


def AutoProxy(token, serializer=None, manager=None, authkey=None, exposed=None, incref=True,
              manager_owned=False, handle=None):
    """A proxy for a registered class, with the methods it exposes."""
    if exposed is None:
        if handle is None:
            handle = client_for(token.address).adopt(token.id, _mgrtype_of(token))
        exposed = call_python(handle, '#EXPOSED', (), {})
    ProxyType = MakeProxyType('AutoProxy[%s]' % token.typeid, exposed)
    proxy = ProxyType(token, manager=manager, exposed=exposed, handle=handle)
    return proxy


AutoProxy._mgr_is_auto = True


def public_methods(obj):
    """The public callable attributes of obj (CPython's)."""
    return [name for name in dir(obj) if name[0] != '_' and callable(getattr(obj, name))]
