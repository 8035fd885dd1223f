"""Finds the C extension: installed beside this file, or (build tree) on
the path as a top-level module."""
try:
    from . import _mgr  # noqa: F401
except ImportError:
    import _mgr  # noqa: F401
