"""Values: what goes in comes back, through a real manager."""
import pytest

import mgr
from mgr._ext import _mgr


@pytest.fixture(scope='module')
def m():
    with mgr.Manager() as m:
        yield m


class Thing:
    def __init__(self, x):
        self.x = x

    def __eq__(self, other):
        return isinstance(other, Thing) and other.x == self.x


VALUES = [None, True, False, 0, -1, 2**63 - 1, -2**63, 2**64, 1.5, float('inf'), '', 'héllo',
          'nul\x00inside', '\udcff', b'', b'\x00\xff', _mgr.TAG + b'looks tagged', [], [1, [2, 3]],
          {}, {'a': {'b': [1]}}, (), (1, 'a', (2,)), {1, 2}, frozenset([3]), Thing(4),
          {(1, 2): 'tuple key', 3: 'int key'}]


@pytest.mark.parametrize('v', VALUES, ids=repr)
def test_roundtrip_local(v):
    assert _mgr._roundtrip(v) == v
    assert type(_mgr._roundtrip(v)) is type(v)


@pytest.mark.parametrize('v', VALUES, ids=repr)
def test_roundtrip_through_manager(m, v):
    lst = m.list()
    lst.append(v)
    assert lst[0] == v and type(lst[0]) is type(v)
    assert lst.count(v) == 1


def test_dict_keys_compare_as_python(m):
    d = m.dict()
    d[1] = 'one'
    d[True] = 'true'
    d[1.0] = 'float'
    assert len(d) == 1 and d[1] == 'float' and d[True] == 'float'
    d[(1, 'a')] = 'tuple'
    assert d[(1, 'a')] == 'tuple' and (1, 'a') in d
    d[2.5] = 'x'
    assert d[2.5] == 'x'


def test_daemon_stores_tagged_bytes_not_objects(m):
    # the manager sees an opaque bytes value beginning with the tag
    lst = m.list([Thing(1)])
    raw = lst._mgr_object.client.manager_call('describe', lst._mgr_object)['value'][0]
    assert isinstance(raw, Thing)  # decoded by us, the client
