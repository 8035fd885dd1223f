"""mgr: multiprocessing's managers over mgr (python/README.md).

    from mgr import Manager
    with Manager() as m:
        d = m.dict()

The objects live in mgrd (a private one per Manager(), owned by this
process); proxies call them through libmgr's shared-memory ring."""
from ._ext import _mgr  # noqa: F401
from ._errors import Error, RemoteError  # noqa: F401
from .managers import BaseManager, SyncManager, BaseProxy, Namespace  # noqa: F401

__all__ = ['Manager', 'BaseManager', 'SyncManager', 'BaseProxy', 'Error', 'RemoteError',
           'Client']

Client = _mgr.Client


def Manager(*, ctx=None, address=None):
    """A started SyncManager, as multiprocessing.Manager()."""
    m = SyncManager(address=address, ctx=ctx)
    m.start()
    return m
