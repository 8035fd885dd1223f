"""Registered Python classes: which calls run on mgrd's loop thread (inline)
and which on its workers (python/README.md, "Speed"). Each method here
either becomes inline or must stay on workers, and whatever it does (sleep,
wait on an event, call its own manager, raise) it answers and the manager
keeps serving other clients meanwhile. '#RUNS' is the private debug call:
[runs inline, runs on workers, mode] of a method. No timing thresholds:
every wait is bounded, and the only sleeps are the methods' own."""
import multiprocessing
import threading
import time

import pytest

from mgr.managers import SyncManager

LEARN = 8        # quick worker runs before a method goes inline (inline.c)
WAIT_S = 30      # bound on every wait: a hang fails, never blocks the suite

_EVENT = threading.Event()  # in the manager process: shared by its objects


class Counter:
    def __init__(self):
        self.v = 0

    def add(self, n):
        self.v += n
        return self.v


class Sleeper:
    def nap(self, s):
        time.sleep(s)
        return s

    def maybe(self, s):
        if s:
            time.sleep(s)
        return s


class Waiter:
    """wait() blocks on the manager's _EVENT; Setter's methods set it."""

    def wait(self):
        return _EVENT.wait(WAIT_S)


class QuickWaiter(Waiter):
    """The same method, learned separately: its event is set at first."""


class Setter:
    def set(self):
        _EVENT.set()

    def clear(self):
        _EVENT.clear()


class Caller:
    """Calls a proxy of its own manager when go is true."""

    def __init__(self):
        self.d = None

    def attach(self, address):
        mm = M(address=address)
        mm.connect()
        self.d = mm.dict(k=0)

    def maybe(self, go):
        if go:
            self.d['k'] += 1
        return go

    def count(self):
        return self.d['k']


class CtorCaller:
    """Its constructor (run on mgrd's loop) calls its own manager."""

    def __init__(self, address):
        mm = M(address=address)
        mm.connect()


class Raiser:
    def boom(self, x):
        raise ValueError(x)


class Spinner:
    """spin() uses a little CPU (well under inline.c's quick 100 us)."""

    def spin(self, us):
        end = time.perf_counter() + us / 1e6
        while time.perf_counter() < end:
            pass
        return us


class M(SyncManager):
    pass


for _cls in (Counter, Sleeper, Waiter, QuickWaiter, Setter, Caller, CtorCaller, Raiser,
             Spinner):
    M.register(_cls.__name__, _cls)


@pytest.fixture(scope='module')
def m():
    mg = M()
    mg.start()
    yield mg
    mg.shutdown()


def runs(proxy, method):
    return proxy._mgr_object.call('call', '#RUNS', method)


def until_inline(proxy, method, call):
    """Calls call() until the method has run inline (bounded: a loaded
    machine may make some learning runs slow, which do not count)."""
    for _ in range(50 * LEARN):
        call()
        if runs(proxy, method)[0]:
            return True
    return False


def in_thread(fn, *args):
    """Runs fn in a thread; the result is ('ok', value) or ('err', exc)."""
    out = []

    def run():
        try:
            out.append(('ok', fn(*args)))
        except Exception as e:  # noqa: BLE001 - the test inspects it
            out.append(('err', e))
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def _child_dict_call(d, q):
    d['from_child'] = 1
    q.put(d['from_child'])


def dict_call_from_another_process(m):
    """A dict call from a forked process answers (bounded)."""
    d = m.dict()
    ctx = multiprocessing.get_context('fork')
    q = ctx.Queue()
    p = ctx.Process(target=_child_dict_call, args=(d, q))
    p.start()
    got = q.get(timeout=WAIT_S)
    p.join(WAIT_S)
    return got == 1 and p.exitcode == 0


def test_quick_method_becomes_inline(m):
    c = m.Counter()
    assert runs(c, 'add') == [0, 0, 'learning']
    assert until_inline(c, 'add', lambda: c.add(1))
    inline, worker, mode = runs(c, 'add')
    assert mode == 'inline' and worker >= LEARN
    assert c.add(0) == inline + worker
    assert runs(c, 'never_called') == [0, 0, 'learning']


def test_raising_method_goes_inline_and_raises(m):
    r = m.Raiser()

    def boom():
        with pytest.raises(ValueError, match='x7'):
            r.boom('x7')
    assert until_inline(r, 'boom', boom)
    boom()
    assert runs(r, 'boom')[2] == 'inline'


def test_sleeping_method_stays_on_workers(m):
    s = m.Sleeper()
    for _ in range(3):
        assert s.nap(0.01) == 0.01
    assert runs(s, 'nap') == [0, 3, 'worker']


def test_method_slow_once_comes_back_inline(m):
    """A quick method that once waits (on the loop: it slept 2 ms) goes to
    workers, and comes back inline after more quick runs there (16 after
    the first time, doubling up to 8,192), while one that always sleeps
    stays on workers (test_sleeping_method_stays_on_workers)."""
    s = m.Sleeper()
    assert until_inline(s, 'maybe', lambda: s.maybe(0))
    assert s.maybe(0.002) == 0.002
    assert runs(s, 'maybe')[2] == 'worker'
    assert until_inline_again(s, 'maybe', lambda: s.maybe(0))
    assert s.maybe(0) == 0


def test_waiting_method_on_worker_loop_serves_meanwhile(m):
    """A method blocked on an event (on a worker) blocks nobody else: a dict
    call from another process and another Python object's calls answer,
    then the event is set by a call and the waiter returns."""
    st, w, c = m.Setter(), m.Waiter(), m.Counter()
    st.clear()
    t, out = in_thread(w.wait)
    assert dict_call_from_another_process(m)
    assert c.add(5) == 5
    assert t.is_alive() and not out  # still waiting: nothing set it
    st.set()
    t.join(WAIT_S)
    assert out == [('ok', True)]
    assert runs(w, 'wait')[2] == 'worker'


def test_inline_method_that_waits_is_interrupted(m):
    """A method learned quick (its event was set) that then waits on mgrd's
    loop thread would stop every client, and the call that would wake it
    could never arrive: the watchdog interrupts it (RuntimeError, once),
    and from then on it runs on workers, where it waits as it should."""
    w, st = m.QuickWaiter(), m.Setter()
    st.set()
    assert until_inline(w, 'wait', w.wait)
    st.clear()
    t, out = in_thread(w.wait)
    t.join(WAIT_S)
    assert not t.is_alive()
    assert out[0][0] == 'err' and isinstance(out[0][1], RuntimeError), out
    assert 'interrupted' in str(out[0][1])
    assert runs(w, 'wait')[2] == 'worker'
    t, out = in_thread(w.wait)  # now on a worker: waits for the set
    assert dict_call_from_another_process(m)
    st.set()
    t.join(WAIT_S)
    assert out == [('ok', True)]


def test_method_calling_its_manager(m):
    """On a worker a method may call its own manager (then it never goes
    inline); one that learned to be inline and then calls it fails that
    call with a clear error instead of hanging the manager, once."""
    c = m.Caller()
    c.attach(m.address)
    assert runs(c, 'attach')[2] == 'worker'
    assert until_inline(c, 'maybe', lambda: c.maybe(False))
    with pytest.raises(RuntimeError, match='cannot call a manager'):
        c.maybe(True)
    assert runs(c, 'maybe')[2] == 'worker'
    assert c.maybe(True) is True
    assert c.count() == 1
    assert dict_call_from_another_process(m)


def test_constructor_calling_its_manager_fails_at_once(m):
    """A constructor runs on mgrd's loop: its call to its own manager could
    only time out, the loop stalled meanwhile; it fails at once instead."""
    with pytest.raises(Exception, match='cannot call a manager'):
        m.CtorCaller(m.address)
    assert dict_call_from_another_process(m)


def test_inline_calls_keep_objects_atomic(m):
    """Threads of several processes' worth of calls on one object, some
    inline, some on workers: no update is lost."""
    c = m.Counter()
    n, per = 4, 200

    def work():
        for _ in range(per):
            c.add(1)
    ts = [threading.Thread(target=work) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(WAIT_S)
    assert c.add(0) == n * per


def until_inline_again(proxy, method, call):
    """Calls call() until the method's mode is inline (bounded: after a
    demotion it relearns in up to 8,192 quick runs)."""
    for _ in range(20000):
        if runs(proxy, method)[2] == 'inline':
            return True
        call()
    return False


def _spin_calls(s, n, q):
    ok = all(s.spin(SPIN_US) == SPIN_US for _ in range(n))
    q.put(ok)


SPIN_US = 50


def test_quick_method_stays_inline_under_several_clients(m):
    """Several client processes keep mgrd's loop thread busy, so it never
    sleeps between calls: the scheduler then accounts its CPU time only at
    its ticks, and getrusage's figure jumps by a whole tick (2-4 ms) across
    a 50 us run. Measured that way, a run now and then looked slow and the
    method went to workers for good (a tenth of its calls/s); measured with
    the thread's CPU clock, it stays inline."""
    s = m.Spinner()
    assert until_inline(s, 'spin', lambda: s.spin(SPIN_US))
    before = runs(s, 'spin')
    ctx = multiprocessing.get_context('fork')
    q = ctx.Queue()
    ps = [ctx.Process(target=_spin_calls, args=(s, 6000, q)) for _ in range(3)]
    for p in ps:
        p.start()
    got = [q.get(timeout=WAIT_S * 4) for _ in ps]
    for p in ps:
        p.join(WAIT_S)
    assert got == [True] * 3 and all(p.exitcode == 0 for p in ps)
    after = runs(s, 'spin')
    inline, worker = after[0] - before[0], after[1] - before[1]
    # most runs stayed on the loop (the tick misreading sent ~half or more to
    # workers), and a run the loaded machine made look slow did not send
    # the method to workers for good
    assert inline > 2 * worker, (before, after)
    assert until_inline_again(s, 'spin', lambda: s.spin(SPIN_US)), runs(s, 'spin')
