"""The manager side of registered Python classes.

A typeid registered with a callable becomes an mgr custom type named
"py.<typeid>" (mgr._mgr._register_type) before the manager starts. The
manager is a fork of the registering process, so this module's `types`
table and the program's classes are there; mgrd's worker threads call
create/call/destroy below under the GIL, each call under the object's lock
(mgrd's rule for every object). Only these Python hooks ever unpickle
arguments, in the program's own forked process, never mgrd's C core."""
import traceback

from ._ext import _mgr
from ._proxies import _RemoteException, public_methods
from ._errors import RemoteError

# mgr type name -> (callable, exposed or None, method_to_typeid or {}, mgr type
# names of method_to_typeid's targets)
types = {}
# objects made by a method listed in method_to_typeid, waiting for their
# shared object to adopt them: key -> object
_pending = {}
_next_key = [0]
# BaseManager.start(initializer, initargs): run once in the manager process
initializer = None


class Served(object):
    """The state of one shared Python object."""
    __slots__ = ('obj', 'exposed', 'method_to_typeid', 'targets')

    def __init__(self, obj, exposed, method_to_typeid, targets):
        self.obj = obj
        self.exposed = exposed
        self.method_to_typeid = method_to_typeid
        self.targets = targets


def create(args):
    mgrtype, a, kw = args[0]
    fn, exposed, m2t, targets = types[mgrtype]
    if a == '\x01adopt':
        obj = _pending.pop(kw)
    elif fn is None:
        (obj,) = a
    else:
        obj = fn(*a, **(kw or {}))
    if exposed is None:
        exposed = public_methods(obj)
    exposed = set(exposed) | set(m2t or ())
    return Served(obj, exposed, m2t or {}, targets)


def call(served, args):
    name = args[0]
    a = args[1] if len(args) > 1 else ()
    kw = args[2] if len(args) > 2 and args[2] else {}
    if name == '#EXPOSED':
        return sorted(served.exposed)
    if name == '#GETVALUE':
        return served.obj
    if name not in served.exposed:
        if name in ('__str__', '__repr__'):
            return repr(served.obj) if name == '__repr__' else str(served.obj)
        return _RemoteException(RemoteError(
            'Traceback (most recent call last):\nAttributeError: method %r of %r object is '
            'not in exposed=%r\n' % (name, type(served.obj), served.exposed)))
    try:
        fn = getattr(served.obj, name)
        result = fn(*a, **kw)
    except Exception as e:
        try:
            import pickle
            pickle.dumps(e)
            return _RemoteException(e)
        except Exception:
            return _RemoteException(RemoteError(traceback.format_exc()))
    target = served.method_to_typeid.get(name)
    if target is not None:
        key = '%d' % _next_key[0]
        _next_key[0] += 1
        _pending[key] = result
        mgrtype = served.targets[target]
        return ('\x01create', mgrtype, (mgrtype, '\x01adopt', key))
    return result


def destroy(served):
    pass


def start():
    if initializer is not None:
        fn, a = initializer
        fn(*a)


_mgr._set_serve_hooks(create, call, destroy, start)
