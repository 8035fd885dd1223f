#!/usr/bin/env python3
"""tcp_split.py: where a loopback-TCP call's time goes, server against
clients, for mgr builds and Redis: one long counter_add run each, in turn
per round; while it runs, `perf stat` is attached for WINDOW seconds to the
server and to the clients apart, and the figures are divided by the calls
made in the window (the clients' sends: one a call on both sides, no
pipelining). Per call: CPU (task-clock), context switches, the server's
split into voluntary (it slept) and involuntary (a woken client took its
CPU; the ratio from /proc), and the system calls that matter
(read, write, sendto, recvfrom, epoll_wait, epoll_ctl, io_uring_enter,
futex, setsockopt, poll). A measurement, no thresholds (issue 16). Needs
perf with syscall tracepoints (root).

    bench/tcp_split.py [--clients 4] [--window 2] [--rounds 2] name=BUILD ... [redis=BUILD]
    bench/tcp_split.py old=/work/b-old new=build redis=build"""
import argparse
import csv
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import tcp_files, tcp_free_port  # noqa: E402

SYSCALLS = ["read", "write", "sendto", "recvfrom", "epoll_wait", "epoll_ctl", "io_uring_enter",
            "futex", "setsockopt", "poll"]
EVENTS = ["task-clock", "context-switches", "cpu-migrations"] + \
         [f"syscalls:sys_enter_{s}" for s in SYSCALLS]


def descendants(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    kids = [int(p) for p in out.split()]
    return kids + [d for k in kids for d in descendants(k)]


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def ctxt(pid):
    """(voluntary, involuntary) context switches of pid so far."""
    v = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if "ctxt_switches" in line:
                k, n = line.split(":")
                v[k.strip()] = int(n)
    return v["voluntary_ctxt_switches"], v["nonvoluntary_ctxt_switches"]


def perf_stat(pids, window, out):
    return subprocess.Popen(["perf", "stat", "-x,", "-e", ",".join(EVENTS), "-p",
                             ",".join(map(str, pids)), "-o", out, "--", "sleep", str(window)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def perf_read(path):
    got = {}
    with open(path) as f:
        for row in csv.reader(ln for ln in f if ln.strip() and not ln.startswith("#")):
            try:
                got[row[2].split(":")[-1].replace("sys_enter_", "")] = float(row[0])
            except (ValueError, IndexError):
                pass
    return got


def measure(build, redis, env, clients, window, d):
    """Per-call figures of one run: {side: {what: value}}, or None."""
    env = dict(env, MGR_MGRD=os.path.join(build, "mgrd", "mgrd"))
    if redis:
        argv = [os.path.join(build, "bench", "peer-redis"), "--tcp"]
    else:
        env["MGR_BENCH_LISTEN"] = f"tcp:127.0.0.1:{tcp_free_port()}"
        argv = [os.path.join(build, "bench", "mgr-bench")]
    argv += ["--only", "counter_add", "--unpinned", "--reps", "1", "--ops", "100000000",
             "--clients", str(clients), "--inflight", "1"]
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        time.sleep(1.0)  # started, handshakes done, calls flowing
        procs = descendants(p.pid)
        srv = [q for q in procs if comm(q) in ("mgrd", "redis-server")]
        cli = [q for q in procs if comm(q) in ("mgr-bench", "peer-redis")]
        if len(srv) != 1 or len(cli) < clients:
            return None
        c0 = ctxt(srv[0])
        ps = perf_stat(srv, window, os.path.join(d, "srv"))
        pc = perf_stat(cli, window, os.path.join(d, "cli"))
        ps.wait()
        pc.wait()
        c1 = ctxt(srv[0])
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    s, c = perf_read(os.path.join(d, "srv")), perf_read(os.path.join(d, "cli"))
    calls = c.get("sendto", 0) + c.get("write", 0)
    if not calls:
        return None
    per = {"server": {k: v / calls for k, v in s.items()},
           "clients": {k: v / calls for k, v in c.items()}}
    for side in per.values():
        side["task-clock"] *= 1000  # ms -> us
    vol, inv = c1[0] - c0[0], c1[1] - c0[1]  # /proc spans perf's start too: the split only
    share = inv / (vol + inv) if vol + inv else 0
    per["server"]["involuntary"] = per["server"].get("context-switches", 0) * share
    per["server"]["voluntary"] = per["server"].get("context-switches", 0) * (1 - share)
    per["calls/s"] = calls / window
    return per


def show(name, runs):
    rates = ", ".join(f"{r['calls/s'] / 1000:.0f}k" for r in runs)
    print(f"{name}: {rates} calls/s (per call below, one column a round)")
    for side in ("server", "clients"):
        keys = ["task-clock", "context-switches", "voluntary", "involuntary"] + SYSCALLS
        for k in keys:
            v = [r[side].get(k) for r in runs]
            if any(x for x in v if x):
                unit = " us" if k == "task-clock" else ""
                print(f"  {side:8} {k + unit:18} " + "  ".join(f"{x or 0:7.3f}" for x in v))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("variants", nargs="+", help="name=BUILD; a name starting with redis: Redis")
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--window", type=float, default=2.0)
    p.add_argument("--rounds", type=int, default=2)
    a = p.parse_args(argv)
    vs = [v.split("=", 1) for v in a.variants]
    res = {}
    with tempfile.TemporaryDirectory(prefix="mgr-tcp-split.") as d:
        key, _ = tcp_files(d)
        env = dict(os.environ, MGR_AUTH_KEY_FILE=key)
        for _ in range(a.rounds):
            for name, build in vs:
                r = measure(build, name.startswith("redis"), env, a.clients, a.window, d)
                if r:
                    res.setdefault(name, []).append(r)
                else:
                    print(f"{name}: no figures this round", file=sys.stderr)
    print(f"counter_add over loopback TCP, {a.clients} clients, 1 in flight, "
          f"{a.window:g} s windows")
    for name, _ in vs:
        if res.get(name):
            show(name, res[name])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
