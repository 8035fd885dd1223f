"""The package over TCP (issue 16): BaseManager/SyncManager(address=(host,
port), authkey=...).connect() to an mgrd listening on 127.0.0.1 and ::1 with
the key in a file; the wrong key is multiprocessing.AuthenticationError and
the daemon serves on; proxies reach spawned children with the key. And
start() on (host, port): a private manager listening there, the bound port
in .address, reached by processes with the address and the key."""
import multiprocessing
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

import mgr
from mgr.managers import BaseManager, SyncManager

KEY = b'0123456789abcdef-python-tcp-key'
WAIT_S = 10
REMOTE_TIMEOUT_MS = 1000  # a vanished peer is dropped within ~2 s


def _ready_line(fd):
    line = b''
    while not line.endswith(b'\n'):
        r, _, _ = select.select([fd], [], [], WAIT_S)
        assert r, 'mgrd did not get ready in time'
        chunk = os.read(fd, 512)
        assert chunk, 'mgrd exited before it was ready'
        line += chunk
    return line.decode()


@pytest.fixture(scope='module')
def daemon():
    """mgrd --listen tcp:127.0.0.1:0 --listen tcp:[::1]:0 with KEY; yields
    {'v4': (host, port), 'v6': (host, port), 'sock': path}."""
    d = tempfile.mkdtemp(prefix='mgr-pytcp-')
    keyfile = os.path.join(d, 'key')
    fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, KEY)
    os.close(fd)
    sock = os.path.join(d, 's', 'mgrd.sock')
    r, w = os.pipe()
    args = [os.environ['MGR_MGRD'], '--socket', sock, '--auth-key-file', keyfile,
            '--ready-fd', str(w), '--parent-pid', str(os.getpid()),
            '--listen', 'tcp:127.0.0.1:0', '--listen', 'tcp:[::1]:0',
            '--remote-timeout', str(REMOTE_TIMEOUT_MS)]
    log = open(os.path.join(d, 'log'), 'wb')
    p = subprocess.Popen(args, pass_fds=(w,), stderr=log)
    os.close(w)
    try:
        line = _ready_line(r)
    finally:
        os.close(r)
    addrs = [a for a in line.split() if a.startswith('tcp:')]
    v4 = next(a for a in addrs if not a.startswith('tcp:['))
    v6 = next(a for a in addrs if a.startswith('tcp:['))
    yield {'v4': ('127.0.0.1', int(v4.rsplit(':', 1)[1])),
           'v6': ('::1', int(v6.rsplit(':', 1)[1])), 'sock': sock, 'dir': d}
    p.send_signal(signal.SIGTERM)
    assert p.wait(WAIT_S) == 0
    log.close()
    shutil.rmtree(d)


def _connected(address, authkey=KEY, cls=SyncManager):
    m = cls(address=address, authkey=authkey)
    m.connect()
    return m


def test_right_key_dict_lock_queue(daemon):
    m = _connected(daemon['v4'])
    assert m.address == daemon['v4']
    d = m.dict(a=1)
    d['b'] = 2
    assert sorted(d.items()) == [('a', 1), ('b', 2)]
    lk = m.Lock()
    assert lk.acquire(timeout=1)
    assert not lk.acquire(timeout=0.05)
    lk.release()
    q = m.Queue()
    q.put(('x', 1))
    assert q.get(timeout=1) == ('x', 1)


def test_ipv6(daemon):
    m = _connected(daemon['v6'])
    lst = m.list([1, 2])
    lst.append(3)
    assert lst[:] == [1, 2, 3]


def test_wrong_key_refused_daemon_serves(daemon):
    for key in (b'not-the-right-key-at-all', b'0123456789abcdef-python-tcp-keY'):
        with pytest.raises(multiprocessing.AuthenticationError) as e:
            _connected(daemon['v4'], key, BaseManager)
        assert 'wrong key' in str(e.value)
    # the daemon is unharmed: the right key works, and the UNIX socket
    assert _connected(daemon['v4']).dict(k=1)['k'] == 1
    c = mgr.Client(daemon['sock'])
    c.manager_call('ping')
    c.close()


def test_short_key_is_a_clear_error(daemon):
    with pytest.raises(ValueError, match='16 to 512 bytes'):
        _connected(daemon['v4'], b'abc')


def test_default_authkey_is_the_process_key(daemon):
    """authkey=None: current_process().authkey, as CPython."""
    proc = multiprocessing.current_process()
    old = proc.authkey
    proc.authkey = KEY
    try:
        m = SyncManager(address=daemon['v6'])
        m.connect()
        assert m.Event() is not None
    finally:
        proc.authkey = old


# ---- a private manager listening on TCP (start() on a (host, port)) ----

class Employee(object):
    """The seed program's class, served by the private manager."""

    def __init__(self, name, salary):
        self.name, self.salary = name, salary

    def increase(self):
        self.salary += 100

    def getPay(self):
        return '%s:%d' % (self.name, self.salary)


class EmployeeManager(BaseManager):
    pass


EmployeeManager.register('Employee', Employee)

_shared_queue = []  # the manager process's one queue (CPython's test's get_queue)


def _get_queue():
    import queue
    if not _shared_queue:
        _shared_queue.append(queue.Queue())
    return _shared_queue[0]


class QueueManager(BaseManager):
    pass


QueueManager.register('get_queue', callable=_get_queue)


class QueueManager2(BaseManager):  # a client's: no callable
    pass


QueueManager2.register('get_queue')


def _port(address):
    host, port = address
    assert isinstance(port, int) and 0 < port < 65536
    return port


def _started(cls, address=('127.0.0.1', 0), authkey=KEY):
    m = cls(address=address, authkey=authkey)
    m.start()
    return m


def _raise(em):
    em.increase()


def test_private_manager_employee_with_processes():
    """The seed program with a TCP address: ten processes raise the
    Employee (one of the program's classes, served by the manager)."""
    with _started(EmployeeManager) as m:
        assert m.address[0] == '127.0.0.1' and _port(m.address)
        em = m.Employee('zhangsan', 1000)
        procs = [multiprocessing.get_context('fork').Process(target=_raise, args=(em,))
                 for _ in range(10)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(WAIT_S)
            assert p.exitcode == 0
        assert em.getPay() == 'zhangsan:2000'


def test_private_manager_dict_lock_queue_and_the_port():
    with _started(SyncManager) as m:
        port = _port(m.address)
        assert m.address == ('127.0.0.1', port)
        assert m._client.address == 'tcp:127.0.0.1:%d' % port  # the parent uses TCP too
        d = m.dict(a=1)
        d['b'] = 2
        assert sorted(d.items()) == [('a', 1), ('b', 2)]
        lk = m.Lock()
        assert lk.acquire(timeout=1)
        assert not lk.acquire(timeout=0.05)
        lk.release()
        q = m.Queue()
        q.put(('x', 1))
        assert q.get(timeout=1) == ('x', 1)


def test_private_manager_ipv6_and_fixed_port():
    with _started(SyncManager, ('::1', 0)) as m:
        assert m.address[0] == '::1' and _port(m.address)
        assert m.list([1, 2])[:] == [1, 2]
    import socket
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    with _started(SyncManager, ('127.0.0.1', port)) as m:
        assert m.address == ('127.0.0.1', port)
        assert m.Event() is not None


def _putter(address, authkey):
    m = QueueManager2(address=address, authkey=authkey)
    m.connect()
    m.get_queue().put(('from', os.getpid()))


def test_spawned_process_connects_with_the_key():
    """An unrelated process (spawned: nothing inherited) reaches the
    manager by address and key alone, as CPython's _TestRemoteManager."""
    key = os.urandom(32)
    with _started(QueueManager, authkey=key) as m:
        p = multiprocessing.get_context('spawn').Process(target=_putter, args=(m.address, key))
        p.start()
        p.join(WAIT_S * 3)
        assert p.exitcode == 0
        m2 = QueueManager2(address=m.address, authkey=key)
        m2.connect()
        assert m2.get_queue().get(timeout=WAIT_S) == ('from', p.pid)


def test_spawned_child_gets_proxies():
    with _started(SyncManager) as m:
        d, lock, q = m.dict(), m.Lock(), m.Queue()
        p = multiprocessing.get_context('spawn').Process(target=_child, args=(d, lock, q))
        p.start()
        try:
            assert q.get(timeout=WAIT_S * 3) == 'done'
        finally:
            p.join(WAIT_S)
        assert p.exitcode == 0 and d['child'] == p.pid


def test_private_manager_wrong_key_refused():
    with _started(SyncManager) as m:
        for key in (b'not-the-right-key-at-all', KEY[:-1] + b'Y'):
            with pytest.raises(multiprocessing.AuthenticationError):
                _connected(m.address, key, BaseManager)
        assert _connected(m.address).dict(k=1)['k'] == 1  # unharmed


def test_private_manager_default_authkey_and_manager():
    """mgr.Manager(address=...) and authkey=None: current_process().authkey."""
    with mgr.Manager(address=('127.0.0.1', 0)) as m:
        assert _port(m.address)
        m2 = SyncManager(address=m.address)
        m2.connect()
        assert m2.Value('i', 3).value == 3
    with pytest.raises(ValueError, match='16 to 512'):
        SyncManager(address=('127.0.0.1', 0), authkey=b'short').start()


def _child(d, lock, q):
    with lock:
        d['child'] = os.getpid()
    q.put('done')


def test_spawn_child_reaches_the_objects(daemon):
    """The proxies carry the address, and the key when pickled for a spawned
    child (whose own current_process().authkey is not the manager's)."""
    m = _connected(daemon['v4'])
    d, lock, q = m.dict(), m.Lock(), m.Queue()
    p = multiprocessing.get_context('spawn').Process(target=_child, args=(d, lock, q))
    p.start()
    try:
        assert q.get(timeout=WAIT_S) == 'done'
    finally:
        p.join(WAIT_S)
    assert p.exitcode == 0
    assert d['child'] == p.pid
    assert lock.acquire(timeout=1)
    lock.release()


def _forked_child(d):
    d['forked'] = os.getpid()


def test_fork_child_reconnects_with_the_key(daemon):
    """libmgr keeps the key given to connect: a forked child's session
    proves it again without the environment."""
    m = _connected(daemon['v4'])
    d = m.dict()
    p = multiprocessing.get_context('fork').Process(target=_forked_child, args=(d,))
    p.start()
    p.join(WAIT_S)
    assert p.exitcode == 0
    assert d['forked'] == p.pid


def _holder(lock, held_w, go_r):
    lock.acquire()
    os.write(held_w, b'h')
    os.read(go_r, 1)  # frozen here by SIGSTOP, or killed
    lock.release()


def _hold_in_child(lock):
    """A forked worker holding lock over TCP; (pid, go_w)."""
    held_r, held_w = os.pipe()
    go_r, go_w = os.pipe()
    p = multiprocessing.get_context('fork').Process(target=_holder, args=(lock, held_w, go_r))
    p.start()
    os.close(held_w)
    os.close(go_r)
    r, _, _ = select.select([held_r], [], [], WAIT_S)
    assert r and os.read(held_r, 1) == b'h'
    os.close(held_r)
    return p, go_w


def test_stopped_worker_keeps_its_lock(daemon):
    """A SIGSTOPped worker is not a dead one (docs/security.md, Liveness):
    its kernel still acknowledges, so its session and its lock stay past
    twice --remote-timeout, as a stopped local process's do; resumed, it
    releases the lock itself. Were it dropped, it would resume inside a
    critical section somebody else had entered."""
    m = _connected(daemon['v4'])
    lock = m.Lock()
    p, go_w = _hold_in_child(lock)
    os.kill(p.pid, signal.SIGSTOP)
    try:
        time.sleep(3 * REMOTE_TIMEOUT_MS / 1000)  # a vanished host is gone by now
        assert not lock.acquire(timeout=0.2)
    finally:
        os.kill(p.pid, signal.SIGCONT)
    os.write(go_w, b'g')
    os.close(go_w)
    p.join(WAIT_S)
    assert p.exitcode == 0
    assert lock.acquire(timeout=WAIT_S)
    lock.release()


def test_killed_worker_frees_its_lock(daemon):
    """The contrast: a worker that dies holding the lock frees it."""
    m = _connected(daemon['v4'])
    lock = m.Lock()
    p, go_w = _hold_in_child(lock)
    os.kill(p.pid, signal.SIGKILL)
    p.join(WAIT_S)
    os.close(go_w)
    assert lock.acquire(timeout=WAIT_S)
    lock.release()
