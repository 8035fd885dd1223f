#!/usr/bin/env python3
"""ab.py: two builds of mgr (say, before and after a change), mgr's no-spin
path and Redis, one repetition each in turn (A B C D, every round every
machine state), medians of calls/s and CPU per call. A benchmark, no
thresholds.

    bench/ab.py OLD_BUILD NEW_BUILD [ROUNDS] [WORKLOADS]
    bench/ab.py /tmp/bbold build 5 counter_add,queue"""
import json
import os
import statistics
import subprocess
import sys


def main(argv):
    old, new = argv[0], argv[1]
    rounds = int(argv[2]) if len(argv) > 2 else 3
    only = argv[3] if len(argv) > 3 else "counter_add,queue"
    variants = [("old", old, {}), ("new", new, {}), ("nospin", new, {"MGR_NO_SPIN": "1"}),
                ("redis", new, {})]
    res = {}
    for _ in range(rounds):
        for st in ("idle", "busy", "over"):
            for name, b, extra in variants:
                env = dict(os.environ, MGR_MGRD=b + "/mgrd/mgrd",
                           MGR_EMPLOYEE_MODULE=b + "/examples/libemployee.so", **extra)
                exe = b + ("/bench/peer-redis" if name == "redis" else "/bench/mgr-bench")
                ops = "20000" if name == "redis" else "60000"
                p = subprocess.run([exe, "--unpinned", "--reps", "1", "--ops", ops, "--state",
                                    st, "--only", only, "--inflight", "1"],
                                   env=env, capture_output=True, text=True)
                for line in p.stdout.splitlines():
                    if line.startswith("{"):
                        j = json.loads(line)
                        if "ops_per_s" in j:
                            res.setdefault((j["workload"], j["clients"], st, name), []).append(
                                (j["ops_per_s"], j["cpu_us_per_call"]))
    for k in sorted(res):
        v = res[k]
        print(f"{k[0]:<12}{k[1]:>3} {k[2]:<5} {k[3]:<7} ops "
              f"{statistics.median(x[0] for x in v):>9.0f} cpu "
              f"{statistics.median(x[1] for x in v):6.2f}  all {[int(x[0]) for x in v]}")


if __name__ == "__main__":
    main(sys.argv[1:])
