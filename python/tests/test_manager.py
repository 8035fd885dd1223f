"""mgr.Manager(): the standard types, errors, and proxies in children."""
import multiprocessing
import os
import queue
import signal
import threading
import time

import pytest

import mgr
from mgr.managers import BaseManager, SyncManager, BaseProxy


@pytest.fixture(scope='module')
def m():
    with mgr.Manager() as m:
        yield m


def test_dict_and_list(m):
    d = m.dict(a=1)
    d.update({'b': 2})
    assert sorted(d.items()) == [('a', 1), ('b', 2)]
    assert d.pop('a') == 1 and d.get('a') is None and d.setdefault('c', 3) == 3
    with pytest.raises(KeyError):
        d['missing']
    lst = m.list(range(5))
    lst[1:3] = ['x']
    assert lst[:] == [0, 'x', 3, 4]
    with pytest.raises(IndexError):
        lst[10]
    with pytest.raises(ValueError):
        lst.remove('nope')
    lst += [5]
    assert len(lst) == 5 and 5 in lst


def test_every_error_code_mapped():
    """Each code mgrd sends (2 .. MGR_EEOF = 31, libmgr's mgr/error.h) has
    its exception: a new code without one would surface as a bare Error."""
    from mgr._errors import ERROR_MAP
    assert set(range(2, 32)) <= set(ERROR_MAP)
    assert issubclass(ERROR_MAP[31], EOFError)


def test_errors_map(m):
    q = m.Queue(1)
    q.put(1)
    with pytest.raises(queue.Full):
        q.put(2, timeout=0.05)
    q.get()
    with pytest.raises(queue.Empty):
        q.get_nowait()
    b = m.Barrier(2)
    with pytest.raises(threading.BrokenBarrierError):
        b.wait(0.05)
    lk = m.Lock()
    with pytest.raises(RuntimeError):
        lk.release()
    s = m.BoundedSemaphore(1)
    with pytest.raises(ValueError):
        s.release()
    ns = m.Namespace()
    with pytest.raises(AttributeError):
        ns.nothing
    assert issubclass(mgr.Error, Exception)


def test_gil_released_while_blocked(m):
    # a thread parked in q.get() must not stop this thread running Python
    q = m.Queue()
    got = []
    t = threading.Thread(target=lambda: got.append(q.get(timeout=10)))
    t.start()
    n = 0
    deadline = time.monotonic() + 0.2
    while time.monotonic() < deadline:
        n += 1
    q.put('x')
    t.join(10)
    assert got == ['x'] and n > 1000


def _hold_lock_forever(lock, ready):
    lock.acquire()
    ready.set()
    time.sleep(60)


@pytest.mark.parametrize('method', ['fork', 'spawn', 'forkserver'])
def test_killed_worker_frees_its_lock(m, method):
    ctx = multiprocessing.get_context(method)
    lock = m.Lock()
    ready = m.Event()
    p = ctx.Process(target=_hold_lock_forever, args=(lock, ready))
    p.start()
    assert ready.wait(30)
    assert lock.acquire(timeout=0.05) is False  # held by the worker
    os.kill(p.pid, signal.SIGKILL)
    p.join(10)
    assert lock.acquire(timeout=10) is True  # the manager released it
    lock.release()


def _work(d, lst, q, n):
    for i in range(n):
        d.incr('count')
        lst.append(i)
    q.put(os.getpid())


@pytest.mark.parametrize('method', ['fork', 'spawn', 'forkserver'])
def test_proxies_travel_to_children(m, method):
    ctx = multiprocessing.get_context(method)
    d, lst, q = m.dict(), m.list(), m.Queue()
    ps = [ctx.Process(target=_work, args=(d, lst, q, 50)) for _ in range(4)]
    for p in ps:
        p.start()
    pids = {q.get(timeout=30) for _ in ps}
    for p in ps:
        p.join(30)
        assert p.exitcode == 0
    assert d['count'] == 200 and len(lst) == 200 and len(pids) == 4


def test_child_holds_its_own_reference(m):
    # the parent drops its proxy while the child still uses the object
    d = m.dict()
    q = m.Queue()
    r = m.Queue()

    def child(d, q, r):
        d['x'] = 1
        r.put('adopted')
        q.get(timeout=30)
        d['y'] = 2
        r.put(d.copy())

    p = multiprocessing.get_context('fork').Process(target=child, args=(d, q, r))
    p.start()
    assert r.get(timeout=30) == 'adopted'
    del d
    q.put('go')
    assert r.get(timeout=30) == {'x': 1, 'y': 2}
    p.join(10)


class Counter:
    def __init__(self, start=0):
        self.n = start

    def add(self, k=1):
        n = self.n
        time.sleep(0)  # a thread switch here would lose updates without the object lock
        self.n = n + k
        return self.n

    def fail(self):
        raise KeyError('from the class')

    def child(self):
        return Counter(self.n * 10)


class CounterManager(BaseManager):
    pass


CounterManager.register('Counter', Counter, method_to_typeid={'child': 'Counter'})


def _adder(c, n):
    for _ in range(n):
        c.add()


def test_registered_class_runs_under_the_object_lock():
    with CounterManager() as cm:
        c = cm.Counter(5)
        ts = [threading.Thread(target=_adder, args=(c, 100)) for _ in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert c.add(0) == 405
        with pytest.raises(KeyError):
            c.fail()
        child = c.child()
        assert child.add(0) == 4050
        assert isinstance(child, BaseProxy)


def test_shutdown_and_context(m):
    sm = SyncManager()
    sm.start()
    addr = sm.address
    assert os.path.exists(addr)
    sm.shutdown()
    assert not os.path.exists(addr)
    other = BaseManager(address=m.address)
    other.connect()
    assert other.address == m.address


_POOL_TERMINATE = '''
import time
from mgr import Manager
with Manager() as m:
    print(m._process.pid, flush=True)
    pool = m.Pool(2)
    pool.map_async(time.sleep, [0.1] * 1000, chunksize=1)
    pool.terminate()
    pool.join()
    print('terminated')
'''


def test_pool_terminate_with_queued_work():
    """manager.Pool().terminate() with work queued returns and its workers
    die. Its workers are forked from the manager process, where mgrd's core
    catches SIGTERM: they inherited that handler, ignored terminate()'s
    SIGTERM, and terminate() waited for them forever. Run in a child
    interpreter, so a hang fails after 60 s instead of hanging pytest (the
    manager's process group, its pool workers too, is killed then)."""
    import subprocess
    import sys
    p = subprocess.Popen([sys.executable, '-c', _POOL_TERMINATE], stdout=subprocess.PIPE)
    manager_pid = int(p.stdout.readline())
    try:
        out = p.communicate(timeout=60)[0]
    except subprocess.TimeoutExpired:
        os.killpg(manager_pid, signal.SIGKILL)
        p.kill()
        p.communicate()
        pytest.fail('Pool.terminate() hung for 60 s')
    assert p.returncode == 0 and out.strip() == b'terminated'


class _ForkProbe(object):
    def fork_with_early_sigterm(self):
        """In the manager process: fork a child that is sent SIGTERM by an
        at-fork hook that runs before the pool's (as when terminate() comes
        before a fresh worker has run its hooks); the child's wait status."""
        from mgr import managers
        os.register_at_fork(after_in_child=lambda: os.kill(os.getpid(), signal.SIGTERM))
        managers._fork_without_stop_handlers()  # what the first Pool() sets up
        pid = os.fork()
        if pid == 0:
            os._exit(0)  # reached only if the SIGTERM was lost
        return os.waitpid(pid, 0)[1]


class _ProbeManager(BaseManager):
    pass


_ProbeManager.register('ForkProbe', _ForkProbe)


def test_pool_worker_killed_by_an_early_sigterm():
    """A SIGTERM that reaches a process forked from the manager before its
    at-fork hooks have run kills it once they have: blocked across the
    fork, not delivered to mgrd's inherited handler (which would drop it,
    and write it to the signal pipe the manager's own loop reads)."""
    with _ProbeManager() as pm:
        status = pm.ForkProbe().fork_with_early_sigterm()
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM, status
