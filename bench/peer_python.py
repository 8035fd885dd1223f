#!/usr/bin/env python3
"""peer_python.py: the bench workloads against Python's multiprocessing
Manager, standard library only - the thing mgr means to replace. One manager
process serves every case; forked workers start together on a barrier, time
each proxy call, and send their timings back over a pipe. Output lines match
the C peers' (stats.c): same keys, medians, nearest-rank percentiles."""

import argparse
import json
import math
import multiprocessing as mp
import os
import sys
import threading
import time
from multiprocessing.managers import SyncManager

if os.environ.get("MGR_PY_BENCH") == "1":
    # the same workloads through mgr's Python package (python/README.md):
    # only the import changes, as for any program
    from mgr.managers import SyncManager  # noqa: F811

PREFILL = 1000  # keys in the dict that dict_get reads
START_TIMEOUT_S = 60

DEFAULTS = {"ops": 20000, "quick_ops": 2000, "reps": 5, "quick_reps": 3}


class Counter:
    """A shared counter. The manager runs each client connection in its own
    thread, so add() takes a lock of its own to be atomic."""

    def __init__(self):
        self._v = 0
        self._lock = threading.Lock()

    def add(self, n):
        with self._lock:
            self._v += n
            return self._v

    def value(self):
        return self._v


class Employee:
    """The pattern Python users write: plain methods, no locking inside, so
    every caller wraps increase() in a manager Lock."""

    def __init__(self, name, salary):
        self.name = name
        self.salary = salary

    def increase(self):
        self.salary += 1

    def get_salary(self):
        return self.salary


class PeerManager(SyncManager):
    pass


PeerManager.register("Counter", Counter)
PeerManager.register("Employee", Employee)


# --- the cases: make the shared objects, one call, check the end state ----

def make_prefilled(m):
    d = m.dict()
    d.update({f"f{i}": i for i in range(PREFILL)})
    return (d,)


def op_employee(shared, idx, i):
    emp, lock = shared
    with lock:
        emp.increase()


def op_queue(shared, idx, i):
    q = shared[0]
    if idx == 0:
        q.put(i)
    else:
        q.get()


def verify_queue(shared, ops, checks):
    return checks[0] == checks[1] + shared[0].qsize()


class Case:
    """make(manager) -> tuple of proxies; op(shared, idx, i) is one timed
    call; verify(shared, ops, checks) -> bool, or None for no check."""

    def __init__(self, workload, clients, make, op, verify):
        self.workload, self.clients = workload, clients
        self.make, self.op, self.verify = make, op, verify


CASES = [
    Case("counter_add", (1, 2, 4, 8), lambda m: (m.Counter(),),
         lambda s, idx, i: s[0].add(1),
         lambda s, ops, checks: s[0].value() == ops),
    Case("dict_set", (1, 2, 4, 8), lambda m: (m.dict(),),
         lambda s, idx, i: s[0].__setitem__(f"f{idx}:{i}", "v"),
         lambda s, ops, checks: len(s[0]) == ops),
    Case("dict_get", (1,), make_prefilled,
         lambda s, idx, i: s[0][f"f{i % PREFILL}"], None),
    Case("list_append", (1,), lambda m: (m.list(),),
         lambda s, idx, i: s[0].append(f"v{i}"),
         lambda s, ops, checks: len(s[0]) == ops),
    Case("employee", (1, 2, 4, 8),
         lambda m: (m.Employee("alice", 0), m.Lock()), op_employee,
         lambda s, ops, checks: s[0].get_salary() == ops),
    Case("queue", (2,), lambda m: (m.Queue(),), op_queue, verify_queue),
]


# --- measuring: the same definitions as bench/stats.c ---------------------

def percentile_us(sorted_ns, p):
    """Nearest rank: the ceil(p * n)-th smallest."""
    if not sorted_ns:
        return 0.0
    rank = max(1, math.ceil(p * len(sorted_ns)))
    return sorted_ns[rank - 1] / 1000.0


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def rep_figures(ops, elapsed_ns, lat):
    lat.sort()
    return {"ops_per_s": ops * 1e9 / elapsed_ns if elapsed_ns else 0.0,
            "p50_us": percentile_us(lat, 0.50),
            "p99_us": percentile_us(lat, 0.99)}


def worker(case, shared, idx, ops, barrier, conn):
    """Connect (str() makes each proxy open its connection), wait for the
    others, then time ops calls. Sends (ok, check, t0, t1, latencies)."""
    try:
        for proxy in shared:
            str(proxy)
        barrier.wait(START_TIMEOUT_S)
        lat = [0] * ops
        now = time.monotonic_ns
        t0 = now()
        for i in range(ops):
            s = now()
            case.op(shared, idx, i)
            lat[i] = now() - s
        t1 = now()
        conn.send((True, ops, t0, t1, lat))
    except Exception as e:  # reported by the parent, which goes on
        print(f"peer_python: worker {idx}: {e!r}", file=sys.stderr)
        conn.send((False, 0, 0, 0, []))


def split(ops, n):
    return [ops // n + (i < ops % n) for i in range(n)]


def run_workers(ctx, case, shared, n, ops):
    """One repetition with n workers: (figures, checks), or None if one
    failed."""
    barrier = ctx.Barrier(n)
    procs, conns = [], []
    for idx, k in enumerate(split(ops, n)):
        r, w = ctx.Pipe(duplex=False)
        p = ctx.Process(target=worker, args=(case, shared, idx, k, barrier, w))
        p.start()
        w.close()
        procs.append(p)
        conns.append(r)
    results = []
    for r in conns:
        try:
            results.append(r.recv())
        except EOFError:
            results.append((False, 0, 0, 0, []))
    for p in procs:
        p.join()
    if not all(ok for ok, *_ in results) or any(p.exitcode for p in procs):
        return None
    t0 = min(res[2] for res in results)
    t1 = max(res[3] for res in results)
    lat = [x for res in results for x in res[4]]
    return rep_figures(ops, t1 - t0, lat), [res[1] for res in results]


def run_case(ctx, m, case, n, args):
    """All repetitions of case with n clients: the output line, or None."""
    reps = []
    for _ in range(args.reps):
        shared = case.make(m)
        got = run_workers(ctx, case, shared, n, args.ops)
        if got is None or (case.verify and
                           not case.verify(shared, args.ops, got[1])):
            return None
        reps.append(got[0])
    return line(case, n, args, reps)


def line(case, n, args, reps):
    ops_s = [r["ops_per_s"] for r in reps]
    out = {"peer": "python-manager" + ("-tcp" if args.tcp else ""), "workload": case.workload,
           "clients": n, "inflight": 1, "pinned": args.pinned,
           "ops": args.ops, "ops_per_s": round(median(ops_s)),
           "ops_min": round(min(ops_s)), "ops_max": round(max(ops_s)),
           "p50_us": round(median(r["p50_us"] for r in reps), 2),
           "p99_us": round(median(r["p99_us"] for r in reps), 2)}
    if case.verify:
        out["check"] = "ok"
    out["reps"] = [{"ops_per_s": round(r["ops_per_s"]),
                    "p50_us": round(r["p50_us"], 2),
                    "p99_us": round(r["p99_us"], 2)} for r in reps]
    return json.dumps(out, separators=(",", ":"))


def positive(s):
    v = int(s)
    if v < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return v


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ops", type=positive,
                   help="calls per repetition, split among the clients")
    p.add_argument("--reps", type=positive)
    p.add_argument("--pinned", dest="pinned", action="store_true",
                   help="manager and workers on CPU 0")
    p.add_argument("--unpinned", dest="pinned", action="store_false")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--only", metavar="WORKLOAD[,WORKLOAD...]",
                   help="run only these workloads")
    p.add_argument("--tcp", action="store_true",
                   help="the manager on 127.0.0.1 (its default is a UNIX socket on Linux)")
    p.set_defaults(pinned=False)
    a = p.parse_args(argv)
    a.ops = a.ops or DEFAULTS["quick_ops" if a.quick else "ops"]
    a.reps = a.reps or DEFAULTS["quick_reps" if a.quick else "reps"]
    return a


def main(argv):
    args = parse_args(argv)
    if args.pinned:
        os.sched_setaffinity(0, {0})  # the manager and workers inherit it
    ctx = mp.get_context("fork")
    rc = 0
    tcp = dict(address=("127.0.0.1", 0), authkey=os.urandom(32)) if args.tcp else {}
    with PeerManager(ctx=ctx, **tcp) as m:
        for case in CASES:
            if args.only and case.workload not in args.only.split(","):
                continue
            for n in case.clients:
                out = run_case(ctx, m, case, n, args)
                if out is None:
                    print(f"peer_python: {case.workload}, {n} clients: "
                          "FAILED", file=sys.stderr)
                    rc = 1
                else:
                    print(out, flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
