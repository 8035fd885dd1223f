"""A private manager whose method never returns still stops (issue 15).

The manager's stop has a deadline ($MGR_STOP_TIMEOUT_MS, 1 s for a Python
manager as CPython's shutdown_timeout): past it, mgrd logs the methods
still running, ends the rest of its process group (a Pool's workers) and
exits, whether shutdown() asked or its parent died. Every wait here is
bounded: a regression fails in seconds and leaves nothing behind."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import mgr  # noqa: F401  (the extension must load, as in the other tests)
from mgr.managers import BaseManager

BOUND = 30  # seconds: far above the 1 s deadline, never reached when fixed

STUCK = textwrap.dedent('''
    import json, multiprocessing, os, threading

    class Stuck:
        """Starts a Pool (workers forked by the manager), says so, and never
        returns."""
        def block(self, path):
            self.pool = multiprocessing.get_context('fork').Pool(2)
            pids = [os.getpid()] + [p.pid for p in self.pool._pool]
            with open(path + '.tmp', 'w') as f:
                json.dump(pids, f)
            os.rename(path + '.tmp', path)
            threading.Event().wait()
''')
exec(STUCK)


class StuckManager(BaseManager):
    pass


StuckManager.register('Stuck', Stuck)  # noqa: F821 (defined by exec above)


def gone(pid):
    """No such process, or a zombie (ended, not reaped by whoever adopted it)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True


def wait_for(cond, timeout=BOUND):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


def read_pids(path):
    assert wait_for(lambda: os.path.exists(path)), 'the stuck method never started'
    with open(path) as f:
        return json.load(f)


def kill_left(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_shutdown_with_a_method_stuck(tmp_path, capfd):
    """shutdown() returns, the manager exited by itself at its deadline
    saying which method was still running (its stderr is ours), its Pool's
    workers are gone, and the client call that was waiting ends with an
    error."""
    path = str(tmp_path / 'pids')
    m = StuckManager()
    m.start()
    s = m.Stuck()
    outcome = []

    def call():
        try:
            s.block(path)
        except Exception as e:  # the manager went away under the call
            outcome.append(e)

    t = threading.Thread(target=call, daemon=True)
    t.start()
    pids = read_pids(path)
    try:
        assert pids[0] == m._process.pid
        done = threading.Thread(target=m.shutdown, daemon=True)
        done.start()
        done.join(BOUND)
        assert not done.is_alive(), 'shutdown() did not return'
        # old code: the manager waited for the method forever and libmgr's
        # shutdown SIGKILLed it after 10 s: no such line
        err = capfd.readouterr().err
        assert "Stuck.call('block') on object" in err and 'still running' in err, err
        assert wait_for(lambda: all(gone(p) for p in pids)), \
            [p for p in pids if not gone(p)]
        t.join(BOUND)
        assert not t.is_alive() and outcome, 'the client call never ended'
    finally:
        kill_left(pids)


PARENT = STUCK + textwrap.dedent('''
    import sys
    from mgr.managers import BaseManager
    class M(BaseManager):
        pass
    M.register('Stuck', Stuck)
    m = M()
    m.start()
    s = m.Stuck()
    threading.Thread(target=s.block, args=(sys.argv[1],), daemon=True).start()
    threading.Event().wait()
''')


def test_parent_sigkilled_with_a_method_stuck(tmp_path):
    """The program is SIGKILLed while its manager runs a method that never
    returns: the manager and the processes it forked exit by themselves."""
    path = str(tmp_path / 'pids')
    parent = subprocess.Popen([sys.executable, '-c', PARENT, path])
    pids = []
    try:
        pids = read_pids(path)
        parent.kill()
        parent.wait(BOUND)
        # old code: the manager saw its parent go, stopped, and waited for
        # the stuck method forever (and its Pool's workers with it)
        assert wait_for(lambda: all(gone(p) for p in pids)), \
            [p for p in pids if not gone(p)]
    finally:
        parent.kill()
        parent.wait(BOUND)
        kill_left(pids)
