"""The pickle hooks of the C extension: how a Python object that has no
mgr kind (a tuple, a set, an instance...) travels. The daemon stores the
tagged bytes and never unpickles them; only Python clients do."""
import io
import pickle

from ._ext import _mgr


def dumps(obj):
    # Equal tuples must give equal bytes (they are dict keys and list items
    # the manager compares), so the memo is off where it can be.
    f = io.BytesIO()
    p = pickle.Pickler(f, pickle.HIGHEST_PROTOCOL)
    p.fast = True
    try:
        p.dump(obj)
    except (ValueError, RecursionError):
        return pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
    return f.getvalue()


loads = pickle.loads
