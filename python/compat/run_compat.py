"""CPython's own manager tests with mgr in place of the standard manager.

    python3 run_compat.py [--expected FILE] [--methods fork,spawn,forkserver]

For each start method, a fresh interpreter (this file with --one METHOD)
swaps the implementation — multiprocessing.Manager and the names in
multiprocessing.managers — before importing test._test_multiprocessing
(Debian's libpython3.11-testsuite), so spawn and forkserver children,
which import this file as their main module, get mgr too. It runs the
manager test classes (WithManagerTest*, TestSyncManagerTypes), prints
`N passed, N failed, N skipped` and compares the failures with the
checked-in list (expected-failures.txt: `test id  # reason`). Exit 1 on a
failure not in the list; passes of listed tests are reported. Exit 77 when
the test suite is not installed. MGR_COMPAT_STDLIB=1 runs the same tests
on CPython's own manager (the baseline)."""
import os
import sys

STDLIB = os.environ.get('MGR_COMPAT_STDLIB') == '1'
HANG_S = int(os.environ.get('MGR_COMPAT_HANG_S', 180))  # a test still running this long ends its run


def _swap():
    import multiprocessing
    import multiprocessing.context
    import multiprocessing.managers as mm
    import mgr
    import mgr.managers as ours

    def Manager(self=None):
        return mgr.Manager(ctx=self)

    multiprocessing.Manager = Manager
    multiprocessing.context.BaseContext.Manager = Manager
    for name in ('BaseManager', 'SyncManager', 'BaseProxy', 'Token', 'RemoteError', 'AutoProxy',
                 'MakeProxyType', 'IteratorProxy', 'AcquirerProxy', 'ConditionProxy',
                 'EventProxy', 'BarrierProxy', 'NamespaceProxy', 'ValueProxy', 'ListProxy',
                 'DictProxy', 'ArrayProxy'):
        setattr(mm, name, getattr(ours, name))


if not STDLIB:
    _swap()

try:
    import test._test_multiprocessing as tm
except ImportError:
    tm = None

# The forkserver process does not import the main module (3.11 passes its
# path under a key forkserver.main never reads) but does preload the test
# module: it imports this file by name first (on PYTHONPATH: _start), so
# the swap comes before.
if tm is not None and not STDLIB and 'run_compat' not in tm.PRELOAD:
    tm.PRELOAD.insert(0, 'run_compat')

if tm is not None and '--one' in sys.argv:
    tm.install_tests_in_module_dict(globals(), sys.argv[sys.argv.index('--one') + 1])
elif tm is not None and os.environ.get('MGR_COMPAT_METHOD'):
    tm.install_tests_in_module_dict(globals(), os.environ['MGR_COMPAT_METHOD'])


def _selected():
    import unittest
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for name, obj in sorted(globals().items()):
        if isinstance(obj, type) and (name.startswith('WithManagerTest') or
                                      name == 'TestSyncManagerTypes'):
            suite.addTests(loader.loadTestsFromTestCase(obj))
    return suite


def _run_one(method, out):
    """In the child interpreter: run, write `outcome test-id seconds` lines."""
    import faulthandler
    import signal
    import unittest

    import time
    passed = set()
    took = {}

    class Result(unittest.TextTestResult):
        def addSuccess(self, test):
            passed.add(test.id())
            super().addSuccess(test)

        def startTest(self, test):
            signal.alarm(120)  # a hung test fails instead of hanging the run
            # a test blocked in a call (no alarm reaches it) ends the run
            # with every thread's traceback in the log
            faulthandler.dump_traceback_later(HANG_S, exit=True)
            took[test.id()] = time.monotonic()
            super().startTest(test)

        def stopTest(self, test):
            signal.alarm(0)
            faulthandler.cancel_dump_traceback_later()
            took[test.id()] = time.monotonic() - took[test.id()]
            super().stopTest(test)

    def on_alarm(signum, frame):
        raise TimeoutError('compat: test took over 120 s')

    signal.signal(signal.SIGALRM, on_alarm)
    # tests listed as hanging (reason "hangs: ...") fail at once: a call
    # blocked in the manager cannot be interrupted by the alarm
    for tid, reason in _load_expected(os.environ.get('MGR_COMPAT_EXPECTED')).items():
        where, _, tid = tid.rpartition(':')
        if reason.startswith('hangs') and '.' in tid and where in ('', method):
            cls, name = tid.split('.', 1)
            if cls in globals():
                def hung(self, reason=reason):
                    self.fail('not run: ' + reason)
                setattr(globals()[cls], name, hung)
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=0, resultclass=Result)
    result = runner.run(_selected())
    failed = {t.id() for t, _ in result.failures + result.errors}
    skipped = {t.id() for t, _ in result.skipped}
    with open(out, 'w') as f:
        for t in _all_ids(_selected()):
            # a test that did not run (its setUpClass failed) failed
            kind = 'PASS' if t in passed else 'SKIP' if t in skipped else 'FAIL'
            f.write('%s %s %.2f\n' % (kind, t, took.get(t, 0)))
        # class-level failures (setUpClass) have ids of their own
        for t in failed - set(_all_ids(_selected())):
            if not t.startswith('setUpClass'):
                f.write('FAIL %s\n' % t)


def _all_ids(suite):
    ids = []
    for t in suite:
        ids.extend(_all_ids(t) if hasattr(t, '__iter__') else [t.id()])
    return ids


def _short(test_id):
    return test_id.split('.', 1)[1] if test_id.startswith('__main__.') else test_id


def _load_expected(path):
    expected = {}
    if path and os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line and not line.startswith('#'):
                tid, _, reason = line.partition('#')
                expected[tid.strip()] = reason.strip()
    return expected


def main():
    if tm is None:
        print('compat: test._test_multiprocessing is not installed '
              '(Debian: libpython3.11-testsuite): skipped')
        return 77
    args = sys.argv[1:]
    methods = ['fork', 'spawn', 'forkserver']
    expected_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'expected-failures.txt')
    if '--methods' in args:
        methods = args[args.index('--methods') + 1].split(',')
    if '--expected' in args:
        expected_path = args[args.index('--expected') + 1]
    expected = _load_expected(None if STDLIB else expected_path)
    totals = [0, 0, 0]
    unexpected, fixed, slow = [], [], []
    runs = [_start(method, expected_path) for method in methods]  # concurrently
    for method, proc, out, logf in runs:
        proc.wait(timeout=1800)
        logf.seek(0)
        log = logf.read()
        lines = _results(out)
        counts = {'PASS': 0, 'FAIL': 0, 'SKIP': 0}
        for kind, tid, took in lines:
            counts[kind] += 1
            slow.append((took, method, _short(tid)))
            key = _short(tid)
            listed = key in expected or '%s:%s' % (method, key) in expected
            if kind == 'FAIL' and not listed:
                unexpected.append('%s %s' % (method, key))
            elif kind == 'PASS' and listed:
                fixed.append('%s %s' % (method, key))
        if not lines:
            print(log.decode(errors='replace')[-3000:])
            unexpected.append('%s: the run produced no results (exit %d)' % (method, proc.returncode))
        if os.environ.get('MGR_COMPAT_VERBOSE'):
            print(log.decode(errors='replace')[-20000:])
        print('%-10s %d passed, %d failed, %d skipped' % (method, counts['PASS'], counts['FAIL'],
                                                          counts['SKIP']))
        for i, k in enumerate(('PASS', 'FAIL', 'SKIP')):
            totals[i] += counts[k]
    if len(methods) > 1:
        print('%-10s %d passed, %d failed, %d skipped' % ('total', *totals))
    for u in unexpected:
        print('UNEXPECTED FAILURE:', u)
    for f in fixed:
        print('UNEXPECTED PASS (listed as failing):', f)
    print('slowest:', ', '.join('%s %s %.1fs' % (m, t, d) for d, m, t in sorted(slow)[-8:][::-1]))
    return 1 if unexpected or fixed else 0


def _start(method, expected_path):
    """One interpreter per start method: (method, Popen, results file, log file)."""
    import subprocess
    import tempfile
    out = tempfile.NamedTemporaryFile('r', suffix='.txt')
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.pathsep.join([here] + [p for p in [os.environ.get('PYTHONPATH')] if p])
    env = dict(os.environ, MGR_COMPAT_METHOD=method, MGR_COMPAT_EXPECTED=expected_path,
               PYTHONPATH=path)
    cmd = [sys.executable, os.path.abspath(__file__), '--one', method, '--out', out.name]
    log = tempfile.TemporaryFile()  # not a pipe: the runs go on while one is read
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    return method, proc, out, log


def _results(out):
    """[(PASS|FAIL|SKIP, test id, seconds)] from a results file (ids may hold spaces)."""
    lines = []
    for line in out.read().splitlines():
        kind, tid = line.split(' ', 1)
        head, _, took = tid.rpartition(' ')
        try:
            lines.append((kind, head, float(took)))
        except ValueError:
            lines.append((kind, tid, 0.0))
    out.close()
    return lines


if __name__ == '__main__':
    if '--one' in sys.argv:
        _run_one(sys.argv[sys.argv.index('--one') + 1], sys.argv[sys.argv.index('--out') + 1])
    else:
        sys.exit(main())
