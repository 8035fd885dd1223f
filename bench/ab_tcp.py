#!/usr/bin/env python3
"""ab_tcp.py: two builds of mgr over loopback TCP, plain and with TLS, and
Redis over TCP (the new build's peer-redis), counter_add, one repetition of
each in turn per round (A B C D E, then E D C B A: every variant sees the
same drifting machine, early and late in a round alike), then medians with
min-max of calls/s and of CPU per call (client + server), and the ratios of
each round's pair, median and min-max. A benchmark, no thresholds (issue
16). bench/tcp_split.py says where one run's time goes (syscalls, context
switches, CPU of server and clients, per call).

    bench/ab_tcp.py OLD_BUILD NEW_BUILD [ROUNDS] [--ops N] [--cases 1x1,4x1,1x16] [--no-tls]
    bench/ab_tcp.py /work/b-old build 9

The key and the TLS certificates come from run.py's tcp_files (openssl)."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import tcp_files, tcp_free_port  # noqa: E402

PAIRS = [("new-tcp", "old-tcp"), ("new-tcp", "redis-tcp"), ("old-tcp", "redis-tcp"),
         ("new-tls", "new-tcp"), ("old-tls", "old-tcp"), ("new-tls", "old-tls")]


def run(b, name, env_extra, case, ops):
    """One repetition: (calls/s, CPU us per call) or None."""
    clients, inflight = case
    env = dict(os.environ, MGR_MGRD=os.path.join(b, "mgrd", "mgrd"), **env_extra)
    if name == "redis-tcp":
        argv = [os.path.join(b, "bench", "peer-redis"), "--tcp"]
    else:
        env["MGR_BENCH_LISTEN"] = f"tcp:127.0.0.1:{tcp_free_port()}"
        argv = [os.path.join(b, "bench", "mgr-bench")]
    argv += ["--only", "counter_add", "--unpinned", "--reps", "1", "--ops", str(ops),
             "--clients", str(clients), "--inflight", str(inflight)]
    p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            j = json.loads(line)
            if "ops_per_s" in j and (j.get("clients"), j.get("inflight", 1)) == case:
                return j["ops_per_s"], j.get("cpu_us_per_call")
    print(f"{name} {clients}x{inflight}: no row; {p.stderr[-300:]}", file=sys.stderr)
    return None


def spread(v, f):
    return f"{f.format(statistics.median(v))} ({f.format(min(v))}-{f.format(max(v))})"


def report(case, res, rounds):
    print(f"counter_add, {case[0]} client(s), {case[1]} in flight, {rounds} rounds:")
    for name in dict.fromkeys(n for (c, n) in res if c == case):
        got = res[(case, name)]
        ops = [g[0] for g in got]
        cpu = [g[1] for g in got if g[1] is not None]
        print(f"  {name:10} {spread(ops, '{:.0f}'):>26} calls/s"
              + (f"   CPU {spread(cpu, '{:.2f}')} us/call" if cpu else ""))
    for a, b in PAIRS:
        x, y = res.get((case, a)), res.get((case, b))
        if x and y and len(x) == len(y):
            r = [p[0] / q[0] for p, q in zip(x, y)]
            c = [p[1] / q[1] for p, q in zip(x, y) if p[1] and q[1]]
            print(f"  {a}/{b}: calls/s {spread(r, '{:.2f}')}"
                  + (f", CPU/call {spread(c, '{:.2f}')}" if c else ""))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("rounds", nargs="?", type=int, default=9)
    p.add_argument("--ops", type=int, default=20000)
    p.add_argument("--cases", default="1x1,4x1,1x16", help="CLIENTSxINFLIGHT,...")
    p.add_argument("--no-tls", action="store_true", help="plain TCP and Redis only (half the time)")
    a = p.parse_args(argv)
    cases = [tuple(int(x) for x in c.split("x")) for c in a.cases.split(",")]
    with tempfile.TemporaryDirectory(prefix="mgr-ab-tcp.") as d:
        key, tls = tcp_files(d)
        plain = {"MGR_AUTH_KEY_FILE": key}
        variants = [("old-tcp", a.old, plain), ("new-tcp", a.new, plain)]
        if tls and not a.no_tls:
            t = dict(plain, MGR_TLS_CA=tls[0], MGR_BENCH_TLS_CERT=tls[1],
                     MGR_BENCH_TLS_KEY=tls[2])
            variants += [("old-tls", a.old, t), ("new-tls", a.new, t)]
        variants.append(("redis-tcp", a.new, {}))
        res = {}
        for rnd in range(a.rounds):
            order = variants if rnd % 2 == 0 else variants[::-1]  # drift falls on both sides
            for case in cases:
                got = {n: run(b, n, e, case, a.ops) for n, b, e in order}
                if all(got.values()):  # a round counts whole, so pairs stay pairs
                    for n, g in got.items():
                        res.setdefault((case, n), []).append(g)
            print(f"round {rnd + 1}/{a.rounds} done", file=sys.stderr, flush=True)
    for case in cases:
        report(case, res, a.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
