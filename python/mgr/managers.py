"""mgr.managers: multiprocessing.managers' API over mgr.

BaseManager starts a private manager (a fork of this process running
mgrd's core, serving the Python classes registered on the manager class)
or connects to a running one by socket path; SyncManager adds the standard
types, served by mgrd's own C types (no Python runs for them in the
manager). See python/README.md for the differences from CPython."""
import os
import threading
import weakref
from multiprocessing.managers import Namespace, Value, State, Array  # noqa: F401 (re-exported)

from ._ext import _mgr
from . import _errors, _proxies, _pyserve, _values
from ._errors import RemoteError
from ._proxies import (  # noqa: F401 (re-exported)
    Token, BaseProxy, AutoProxy, MakeProxyType, IteratorProxy, DictProxy, ListProxy,
    NamespaceProxy, ValueProxy, ArrayProxy, AcquirerProxy, ConditionProxy, EventProxy,
    BarrierProxy, QueueProxy, SemaphoreProxy, public_methods, client_for)

__all__ = ['BaseManager', 'SyncManager', 'BaseProxy', 'Token', 'RemoteError', 'Namespace',
           'Value', 'Array', 'AutoProxy', 'MakeProxyType', 'State']

_mgr._set_hooks(_values.dumps, _values.loads, _proxies._proxy_from_handle,
                _errors.ERROR_MAP, _errors.Error)


class _Builtin(object):
    """A registry callable standing for one of mgrd's own types."""

    def __init__(self, mgrtype, make):
        self.mgrtype = mgrtype
        self.make = make  # (client, *args, **kwds) -> Object

    def __call__(self, *a, **kw):
        raise TypeError('%s is served by mgrd, not called' % self.mgrtype)


def _timeout_ms(t):
    return None if t is None else int(t * 1000)


def _barrier(c, parties, action=None, timeout=None):
    if action is not None:
        raise NotImplementedError('mgr: a Barrier action would run code in the manager')
    return c.create('barrier', None, parties, None, _timeout_ms(timeout))


def _condition(c, lock=None):
    return c.create('condition', None, lock)


def _value(c, typecode, value, lock=True):
    return c.create('namespace', None, {'value': value})


BUILTINS = {
    'dict': ('dict', DictProxy, lambda c, *a, **kw: c.create('dict', None, dict(*a, **kw))),
    'list': ('list', ListProxy, lambda c, seq=(): c.create('list', None, list(seq))),
    'Namespace': ('namespace', NamespaceProxy, lambda c, **kw: c.create('namespace', None, kw)),
    'Value': ('namespace', ValueProxy, _value),
    'Array': ('list', ArrayProxy,
              lambda c, typecode, seq, lock=True: c.create(
                  'list', None, list(seq) if not isinstance(seq, int) else [0] * seq)),
    'Lock': ('lock', AcquirerProxy, lambda c: c.create('lock', None, True)),
    'RLock': ('rlock', AcquirerProxy, lambda c: c.create('rlock', None, True)),
    'Semaphore': ('semaphore', SemaphoreProxy,
                  lambda c, value=1: c.create('semaphore', None, value, False)),
    'BoundedSemaphore': ('bounded_semaphore', SemaphoreProxy,
                         lambda c, value=1: c.create('bounded_semaphore', None, value, False)),
    'Condition': ('condition', ConditionProxy, _condition),
    'Event': ('event', EventProxy, lambda c: c.create('event', None)),
    'Barrier': ('barrier', BarrierProxy, _barrier),
    'Queue': ('queue', QueueProxy, lambda c, maxsize=0: c.create('queue', None, maxsize)),
    'JoinableQueue': ('joinable_queue', QueueProxy,
                      lambda c, maxsize=0: c.create('joinable_queue', None, maxsize, 'none')),
}


class _Process(object):
    """What BaseManager._process offers (pid, exitcode, is_alive, join)."""

    def __init__(self, m):
        self._m = m
        self.pid = m.pid
        self.exitcode = None
        self.name = 'mgr-manager'

    def is_alive(self):
        return self.exitcode is None

    def join(self, timeout=None):
        pass

    def terminate(self):
        self._m.shutdown()
        self.exitcode = 0

    kill = terminate


class BaseManager(object):
    """multiprocessing.managers.BaseManager over an mgr manager.

    address: a socket path (connect() to a running manager, or where start()
    puts a new one); None: a fresh private directory; (host, port): TCP, with
    authkey (default: this process's current_process().authkey, as CPython;
    16 to 512 bytes) — connect() to an mgrd listening there, or start() a
    private manager listening there (port 0: any; .address then has the
    bound port, as CPython's), whose own process and proxies use it too; its
    UNIX socket stays, unused. serializer: 'pickle' or 'xmlrpclib' are
    accepted and change nothing: mgr has one wire format (typed values,
    other objects pickled by the Python clients only), so 'xmlrpclib' does
    not narrow what may be sent nor turn tuples into lists."""
    _registry = {}
    _Server = None

    def __init__(self, address=None, authkey=None, serializer='pickle', ctx=None, *,
                 shutdown_timeout=1.0):
        if serializer not in ('pickle', 'xmlrpclib'):
            raise ValueError('unknown serializer %r' % serializer)
        self._address = _address_text(address)
        self._given_address = address
        if authkey is None and _is_tcp(self._address):
            import multiprocessing
            authkey = multiprocessing.current_process().authkey
        self._authkey = authkey
        self._serializer = serializer
        self._ctx = ctx
        self._state = State()
        self._state.value = State.INITIAL
        self._manager = None
        self._process = None
        self._client = None
        self._shutdown_timeout = shutdown_timeout

    # -- lifecycle --
    def start(self, initializer=None, initargs=()):
        if self._state.value != State.INITIAL:
            if self._state.value == State.STARTED:
                raise _errors.ProcessError('Already started server') if hasattr(
                    _errors, 'ProcessError') else RuntimeError('Already started server')
            if self._state.value == State.SHUTDOWN:
                raise RuntimeError('Manager has shut down')
            raise RuntimeError('Unknown state {!r}'.format(self._state.value))
        if initializer is not None and not callable(initializer):
            raise TypeError('initializer must be a callable')
        tcp = _is_tcp(self._address)
        self._publish_types()
        _pyserve.initializer = (initializer, initargs) if initializer else None
        try:
            if tcp:
                self._manager = _mgr.Manager(None, None, listen=[_listen_text(self._given_address)],
                                             authkey=bytes(self._authkey))
            else:
                self._manager = _mgr.Manager(None, self._address)
        finally:
            _pyserve.initializer = None
        if tcp:  # as bound: (host, port) with the real port
            self._address = self._manager.tcp_addresses[0]
            self._given_address = _address_tuple(self._address)
        else:
            self._address = self._manager.address
        self._process = _Process(self._manager)
        self._client = client_for(self._address, self._authkey if tcp else None)
        self._state.value = State.STARTED
        self.shutdown = _Shutdown(self)

    def connect(self):
        if self._address is None:
            raise ValueError('connect() needs an address')
        self._client = client_for(self._address, self._authkey if _is_tcp(self._address) else None)
        self._client.manager_call('ping')
        self._publish_types(serve=False)
        self._state.value = State.STARTED

    def get_server(self):
        """mgr's manager is mgrd, started by start(): there is no Server to
        run here. For a TCP address, a stand-in with that address reserved
        (as CPython's Server's listener: .address with the bound port,
        .listener to close() before a start() there); else NotImplementedError."""
        if not _is_tcp(self._address):
            raise NotImplementedError('mgr: the manager is mgrd, started by start() (or run '
                                      'mgrd yourself and connect())')
        return _ReservedAddress(self._given_address)

    def join(self, timeout=None):
        pass

    @property
    def address(self):
        return self._given_address if _is_tcp(self._address) else self._address

    def __enter__(self):
        if self._state.value == State.INITIAL:
            self.start()
        if self._state.value != State.STARTED:
            raise RuntimeError('Unable to start server')
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.shutdown()

    def shutdown(self):
        """Stops a manager this object started (a connected one stays)."""
        self._state.value = State.SHUTDOWN

    def _number_of_objects(self):
        return len(self._objects())

    def _objects(self):
        return [o for o in self._client.manager_call('objects') if o.get('type') != 'iterator']

    def _debug_info(self):
        return '\n'.join('  %s: refcount=%s\n    %s' % (o['id'], o['refs'], o['type'])
                         for o in self._objects())

    # -- types --
    @classmethod
    def _mgrtype(cls, typeid, callable):
        if isinstance(callable, _Builtin):
            return callable.mgrtype
        return 'py.' + typeid

    def _publish_types(self, serve=True):
        """Makes the registry known: to the C side (types served by a
        manager started now) and to the proxy table (refs in replies)."""
        for typeid, (fn, exposed, m2t, proxytype) in self._registry.items():
            mgrtype = self._mgrtype(typeid, fn)
            _proxies.typeid_to_mgrtype[typeid] = mgrtype
            _proxies.proxy_for_type.setdefault(mgrtype, (typeid, proxytype, exposed))
            if isinstance(fn, _Builtin):
                continue
            targets = {t: self._mgrtype(t, self._registry.get(t, (None,))[0])
                       for t in (m2t or {}).values()}
            _pyserve.types[mgrtype] = (fn, exposed, m2t, targets)
            if serve:
                _mgr._register_type(mgrtype)

    def _create(self, typeid, *args, **kwds):
        if self._state.value != State.STARTED:
            raise RuntimeError('Manager is not started' if self._state.value == State.INITIAL
                               else 'Manager has shut down')
        fn, exposed, m2t, proxytype = self._registry[typeid]
        if isinstance(fn, _Builtin):
            return fn.make(self._client, *args, **kwds), exposed
        mgrtype = self._mgrtype(typeid, fn)
        try:
            handle = self._client.create(mgrtype, None, (mgrtype, list(args), kwds or None))
        except _errors.ModuleFailed as e:  # the callable raised in the manager (CPython: RemoteError)
            raise RemoteError(str(e)) from None
        return handle, exposed

    @classmethod
    def register(cls, typeid, callable=None, proxytype=None, exposed=None,
                 method_to_typeid=None, create_method=True):
        if '_registry' not in cls.__dict__:
            cls._registry = cls._registry.copy()
        if proxytype is None:
            proxytype = AutoProxy
        exposed = exposed or getattr(proxytype, '_exposed_', None)
        method_to_typeid = method_to_typeid or getattr(proxytype, '_method_to_typeid_', None)
        if method_to_typeid:
            for key, value in list(method_to_typeid.items()):
                assert type(key) is str, '%r is not a string' % key
                assert type(value) is str, '%r is not a string' % value
        cls._registry[typeid] = (callable, exposed, method_to_typeid, proxytype)
        if create_method:
            def temp(self, /, *args, **kwds):
                handle, exp = self._create(typeid, *args, **kwds)
                if exp is None and proxytype is AutoProxy and isinstance(callable, type):
                    exp = public_methods(callable)
                    if method_to_typeid:
                        exp = list(set(exp) | set(method_to_typeid))
                proxy = _proxies._make_proxy(proxytype, handle, typeid, exp, manager=self)
                if typeid == 'Condition' and args:
                    proxy._lock = args[0]
                elif typeid == 'Condition' and kwds.get('lock') is not None:
                    proxy._lock = kwds['lock']
                if typeid == 'Value':
                    proxy._typecode = args[0] if args else kwds.get('typecode')
                return proxy
            temp.__name__ = typeid
            setattr(cls, typeid, temp)


def _address_text(address):
    """A socket path, or (host, port[, flowinfo, scope_id]) as "tcp:HOST:PORT"
    (an IPv6 host in brackets; '' is this host, as a socket's connect)."""
    if address is None or isinstance(address, (str, bytes, os.PathLike)):
        return os.fsdecode(address) if address is not None else None
    if not (isinstance(address, tuple) and len(address) in (2, 4)
            and isinstance(address[0], str) and isinstance(address[1], int)):
        raise ValueError('mgr: an address is a socket path or (host, port), not %r' % (address,))
    host = address[0] or 'localhost'
    return 'tcp:%s:%d' % ('[%s]' % host if ':' in host else host, address[1])


class _ReservedAddress(object):
    """What get_server() gives for a TCP address: a socket listening there
    (.listener), its bound (host, port) (.address); not a server."""

    def __init__(self, address):
        import socket
        family = socket.AF_INET6 if ':' in address[0] else socket.AF_INET
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(address)
        self.listener.listen()
        self.address = self.listener.getsockname()[:2]

    def serve_forever(self):
        raise NotImplementedError('mgr: the manager is mgrd: start() it')


def _listen_text(address):
    """(host, port) to listen on as "tcp:HOST:PORT": '' is every address
    (mgrd's '*': 0.0.0.0), as a socket's bind."""
    host = address[0] or '*'
    return 'tcp:%s:%d' % ('[%s]' % host if ':' in host else host, address[1])


def _address_tuple(text):
    """"tcp:HOST:PORT" as bound ("tcp:[::1]:PORT" for IPv6) to (host, port)."""
    host, _, port = text[4:].rpartition(':')
    return (host.strip('[]'), int(port))


def _is_tcp(address):
    return address is not None and address.startswith('tcp:')


class _Shutdown(object):
    """manager.shutdown: stops the manager (once; also at exit via GC)."""

    def __init__(self, manager):
        self._ref = weakref.ref(manager)
        self._m = manager._manager

    def __call__(self):
        m = self._ref()
        if self._m is not None:
            self._m.shutdown()
            self._m = None
        if m is not None:
            m._state.value = State.SHUTDOWN
            if m._process is not None:
                m._process.exitcode = 0

    def still_active(self):
        return self._m is not None


class SyncManager(BaseManager):
    """multiprocessing.managers.SyncManager: the standard shared types,
    each one of mgrd's C types."""


for _typeid, (_mgrtype, _proxy, _make) in BUILTINS.items():
    SyncManager.register(_typeid, _Builtin(_mgrtype, _make), _proxy)
SyncManager.register('Iterator', proxytype=IteratorProxy, create_method=False)


class PoolProxy(BaseProxy):
    """multiprocessing.pool.Pool in the manager process (a registered
    Python class like any other, as the standard library has it)."""
    _exposed_ = ('apply', 'apply_async', 'close', 'imap', 'imap_unordered', 'join', 'map',
                 'map_async', 'starmap', 'starmap_async', 'terminate')
    _method_to_typeid_ = {'apply_async': 'AsyncResult', 'map_async': 'AsyncResult',
                          'starmap_async': 'AsyncResult', 'imap': 'Iterator',
                          'imap_unordered': 'Iterator'}

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.terminate()


def _pool_method(name):
    def method(self, /, *args, **kwds):
        return self._callmethod(name, args, kwds)
    method.__name__ = name
    return method


for _name in PoolProxy._exposed_:
    setattr(PoolProxy, _name, _pool_method(_name))
del _name


def _fork_without_stop_handlers():
    """In the manager process: every process forked from it (a Pool's
    workers) dies by SIGTERM and SIGHUP again. mgrd's core catches them
    there (its graceful stop); a worker that kept the handler ignored
    Pool.terminate()'s SIGTERM and terminate() joined it forever. They are
    blocked across the fork, so one sent before the child has restored the
    default action waits for it (and then kills it) instead of being lost."""
    import signal
    stops = {signal.SIGTERM, signal.SIGHUP}
    saved = threading.local()

    def before():
        saved.mask = signal.pthread_sigmask(signal.SIG_BLOCK, stops)

    def after_in_parent():
        signal.pthread_sigmask(signal.SIG_SETMASK, saved.mask)

    def after_in_child():
        for sig in stops:
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, saved.mask)

    os.register_at_fork(before=before, after_in_parent=after_in_parent,
                        after_in_child=after_in_child)


def _pool(processes=None, initializer=None, initargs=(), maxtasksperchild=None, context=None):
    # in the manager process (a fork of the program, mgrd's threads
    # running): workers are forked from it, whatever the program's start
    # method (spawn's main-module re-import does not apply to it)
    import multiprocessing
    from multiprocessing import pool
    if not _forks_reset[0]:
        _forks_reset[0] = True
        _fork_without_stop_handlers()
    return pool.Pool(processes, initializer, initargs, maxtasksperchild,
                     context or multiprocessing.get_context('fork'))


_forks_reset = [False]  # _fork_without_stop_handlers done in this (manager) process
SyncManager.register('AsyncResult', create_method=False)
SyncManager.register('Pool', _pool, PoolProxy)
del _typeid, _mgrtype, _proxy, _make
