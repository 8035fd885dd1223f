#!/usr/bin/env python3
"""ab.py: two builds of mgr (say, before and after a change), mgr's no-spin
path (and, with --peers, the new build without its short scheduler slice), Redis
and the bare socket floor, one repetition each in turn (A B C D E,
every round every machine state), medians of calls/s and CPU per call. A
benchmark, no thresholds.

    bench/ab.py OLD_BUILD NEW_BUILD [ROUNDS] [WORKLOADS] [--states S1,S2]
                [--inflight F] [--clients K] [--peers old,new,nospin,redis,floor]
                [--pinned] [--ops N] [--place together|split|apart]
    bench/ab.py /tmp/bbold build 5 counter_add,queue
    bench/ab.py /tmp/bbold build 5 counter_add --inflight 16 --clients 4
    bench/ab.py /tmp/bbold build 5 counter_add --inflight 16 --clients 4 --pinned

--pinned runs every process on CPU 0 (the bench's --pinned, as bench/run.py's
pinned pass) instead of the unpinned machine states; its rows say "pin".
--place pins the unpinned states' processes as the bench's --place says
(server on CPU 0; clients beside it, on CPU 1, or half and half; the over
state's loops 4 and 4), for every peer alike: one placement measured instead
of the kernel's draw. Both builds' benches must have --place.

The floor is peer-pingpong's rpc (the NEW build's) with the same clients and
window: its rows carry the workload "rpc"."""
import argparse
import json
import os
import statistics
import subprocess
import sys

# name, build (0: old, 1: new), extra environment, program
VARIANTS = [("old", 0, {}, "mgr-bench"), ("new", 1, {}, "mgr-bench"),
            ("nospin", 1, {"MGR_NO_SPIN": "1"}, "mgr-bench"),
            ("noslice", 1, {"MGR_SLICE_US": "0"}, "mgr-bench"),
            ("slice", 1, {"MGR_SLICE_US": "100"}, "mgr-bench"),
            ("noring", 1, {"MGR_RING_SIZE": "0"}, "mgr-bench"),
            ("redis", 1, {}, "peer-redis"), ("floor", 1, {}, "peer-pingpong")]


def run(b, name, extra, prog, st, a):
    """One repetition of one variant in state st: [(key, ops/s, cpu/call)]."""
    env = dict(os.environ, MGR_MGRD=b + "/mgrd/mgrd",
               MGR_EMPLOYEE_MODULE=b + "/examples/libemployee.so", **extra)
    ops = str(a.ops if prog == "mgr-bench" else a.ops // 3)
    only = "rpc" if prog == "peer-pingpong" else a.workloads
    where = ["--pinned"] if a.pinned else ["--unpinned", "--state", st]
    if a.place and not a.pinned:
        where += ["--place", a.place]
    argv = [b + "/bench/" + prog] + where + ["--reps", "1", "--ops", ops,
                                             "--only", only, "--inflight", str(a.inflight)]
    if a.clients:
        argv += ["--clients", str(a.clients)]
    p = subprocess.run(argv, env=env, capture_output=True, text=True)
    out = []
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            j = json.loads(line)
            if "ops_per_s" in j:
                out.append(((j["workload"], j["clients"], st, name), j["ops_per_s"],
                            j["cpu_us_per_call"]))
    return out


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("rounds", nargs="?", type=int, default=3)
    p.add_argument("workloads", nargs="?", default="counter_add,queue")
    p.add_argument("--states", default="idle,busy,over")
    p.add_argument("--inflight", type=int, default=1)
    p.add_argument("--clients", type=int, default=0, help="0: every count the bench has")
    p.add_argument("--peers", default="old,new,nospin,redis,floor",
                   help="of old,new,nospin,noslice (new, MGR_SLICE_US=0), slice (new, "
                   "MGR_SLICE_US=100: the clients' threads too), noring (new, MGR_RING_SIZE=0: "
                   "every call on the socket), redis, floor")
    p.add_argument("--ops", type=int, default=60000,
                   help="mgr's calls a repetition (Redis and the floor: a third)")
    p.add_argument("--place", choices=("together", "split", "apart"),
                   help="pin the unpinned states' processes this way (the bench's --place)")
    p.add_argument("--pinned", action="store_true",
                   help="every process on CPU 0, no machine states")
    a = p.parse_args(argv)
    if a.pinned:
        a.states = "pin"
    want = a.peers.split(",")
    res = {}
    for _ in range(a.rounds):
        for st in a.states.split(","):
            for name, which, extra, prog in VARIANTS:
                if name in want:
                    b = (a.old, a.new)[which]
                    for k, ops, cpu in run(b, name, extra, prog, st, a):
                        res.setdefault(k, []).append((ops, cpu))
    print(f"inflight {a.inflight}; medians of {a.rounds} rounds: calls/s, CPU us per call"
          " (client + server), every round's calls/s and CPU us per call")
    for k in sorted(res, key=lambda k: (k[0] == "rpc", k[1], k[2], k[0], k[3])):
        v = res[k]
        print(f"{k[0]:<12}{k[1]:>3} {k[2]:<5} {k[3]:<7} ops "
              f"{statistics.median(x[0] for x in v):>9.0f} cpu "
              f"{statistics.median(x[1] for x in v):6.2f}  all {[int(x[0]) for x in v]}"
              f" {[round(x[1], 1) for x in v]}")


if __name__ == "__main__":
    main(sys.argv[1:])
