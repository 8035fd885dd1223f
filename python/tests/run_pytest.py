"""Runs pytest on the given directory; exit 77 (meson: skipped) without it.
(Guarded: spawn and forkserver children import the main module.)"""
import sys

if __name__ == '__main__':
    try:
        import pytest
    except ImportError:
        print('python3-pytest is not installed: skipping the Python tests')
        sys.exit(77)
    sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider'] + sys.argv[1:]))
