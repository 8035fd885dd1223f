#!/usr/bin/env python3
"""run.py: runs mgr and every peer in one run - pinned (everything on CPU 0)
and unpinned, repeated - then prints one table of ops/s, p50/p99 and the
ratio of mgr to each peer, checks the targets of issue 6, and writes the same
figures to a JSON file. Standard library only.

    bench/run.py --build build            # make bench
    bench/run.py --build build --quick    # make bench-quick

The peers are the programs in bench/ (see README.md); this script only
starts them, collects their JSON lines and compares. Instructions per call
come from valgrind --tool=callgrind: each C peer runs its 1-client
synchronous case twice (N1 and N2 calls) with every process traced, and
(total(N2) - total(N1)) / (N2 - N1) cancels startup and teardown."""

import argparse
import datetime
import glob
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# Which peer row is compared with which mgr row: (peer, workload) per mgr
# workload. pingpong has one workload, the bare round trip.
FLOOR = ("pingpong", "rpc")

# Per mode: C peers' ops and reps, python's, memory entries, callgrind N1/N2.
MODES = {
    "full": dict(ops=20000, reps=5, py_ops=4000, py_reps=3, mem=1000000,
                 cg=(2000, 6000)),
    "quick": dict(ops=2000, reps=3, py_ops=600, py_reps=3, mem=100000,
                  cg=(500, 1500)),
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run_peer(name, argv, env=None, timeout=900):
    """Runs one peer program; its JSON lines, or [] (and a note) on failure."""
    t0 = time.monotonic()
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=env, timeout=timeout, text=True)
    except (OSError, subprocess.TimeoutExpired) as e:
        log(f"  {name}: cannot run: {e}")
        return []
    rows = []
    for line in p.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                rows.append(json.loads(line))
            except ValueError:
                pass
    errs = [l for l in p.stderr.splitlines() if "FAILED" in l or "not available" in l
            or "error" in l.lower()]
    for l in errs[:10]:
        log(f"  {name}: {l}")
    if p.returncode != 0:
        for l in p.stderr.strip().splitlines()[-3:]:
            log(f"  {name}: {l}")
        log(f"  {name}: exit status {p.returncode}")
    log(f"  {name}: {len(rows)} lines in {time.monotonic() - t0:.1f} s")
    return rows


def peer_cmds(a, m):
    b = os.path.join(a.build, "bench")
    common = ["--ops", str(m["ops"]), "--reps", str(m["reps"]), "--mem", str(m["mem"])]
    # mgr makes up to 50x the calls per second of the others unpinned: it
    # runs 3x the calls, so that a repetition lasts long enough to measure
    # (tens of ms, not a few) instead of being all warm-up
    longer = ["--ops", str(3 * m["ops"]), "--reps", str(m["reps"]), "--mem", str(m["mem"])]
    cmds = [("pingpong", [os.path.join(b, "peer-pingpong")] + common),
            ("redis", [os.path.join(b, "peer-redis")] + common),
            ("mgr", [os.path.join(b, "mgr-bench")] + longer),
            # mgr without its shared-memory ring: the socket alone
            ("mgr-socket", [os.path.join(b, "mgr-bench"), "--only", "counter_add"] + common)]
    if not a.no_python:
        cmds.append(("python", [sys.executable, os.path.join(HERE, "peer_python.py"),
                                "--ops", str(m["py_ops"]), "--reps", str(m["py_reps"])]))
    return [(n, c) for n, c in cmds if n == "python" or os.path.exists(c[0])]


def mgr_env(a, name=None):
    env = dict(os.environ)
    env.setdefault("MGR_MGRD", os.path.abspath(os.path.join(a.build, "mgrd", "mgrd")))
    if name == "mgr-socket":
        env["MGR_RING_SIZE"] = "0"
    return env


def run_all(a, m):
    rows = []
    for pinned in (True, False):
        log(f"{'pinned' if pinned else 'unpinned'}:")
        for name, cmd in peer_cmds(a, m):
            if a.only_peer and name not in a.only_peer:
                continue
            argv = cmd + ["--pinned" if pinned else "--unpinned"]
            if not pinned and name in ("redis", "mgr"):
                argv += ["--mem", "1"]  # memory is measured once, pinned
            got = run_peer(name, argv, env=mgr_env(a, name))
            if name == "mgr-socket":
                for r in got:
                    r["peer"] = "mgr-socket"
            rows += got
    # memory_hash runs with the pinned pass; drop the 1-entry unpinned rows
    return [r for r in rows if not (r.get("workload") == "memory_hash" and not r["pinned"])]


# ---- callgrind ----

def cg_total(path):
    """(command, instructions) of one callgrind output file."""
    cmd, total = "", 0
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("cmd:"):
                cmd = line[4:].strip()
            elif line.startswith("summary:") or line.startswith("totals:"):
                total = max(total, int(line.split()[1]))
    return cmd, total


def cg_run(a, argv, n, env):
    """Per-process instruction totals of one traced run: {pid: (cmd, Ir)}, and
    the pid of the top process (the bench driver, left out of the sums)."""
    d = tempfile.mkdtemp(prefix="mgr-cg-")
    vg = ["valgrind", "--tool=callgrind", "--trace-children=yes",
          f"--callgrind-out-file={d}/cg.%p", "--dump-instr=no"]
    full = vg + argv + ["--ops", str(n), "--reps", "1", "--clients", "1",
                        "--inflight", "1", "--pinned"]
    p = subprocess.Popen(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=env, text=True)
    _, err = p.communicate(timeout=600)
    top = p.pid
    out = {}
    for f in glob.glob(os.path.join(d, "cg.*")):
        pid = int(f.rsplit(".", 1)[1])
        out[pid] = cg_total(f)
    shutil.rmtree(d, ignore_errors=True)
    if p.returncode != 0:
        log(f"  callgrind {argv[0]}: exit {p.returncode}: {err.strip()[-300:]}")
    return top, out


def cg_split(top, procs, server_match):
    """(client Ir, server Ir): every process but the top one, split by
    whether the command names the server; for a forked server (pingpong)
    server_match is None and the first child is the server."""
    kids = sorted(pid for pid in procs if pid != top)
    client = server = 0
    for i, pid in enumerate(kids):
        cmd, ir = procs[pid]
        is_server = (server_match in cmd) if server_match else i == 0
        if is_server:
            server += ir
        else:
            client += ir
    return client, server


def callgrind(a, m):
    if not shutil.which("valgrind"):
        log("callgrind: valgrind not found, skipped")
        return []
    b = os.path.join(a.build, "bench")
    peers = [("pingpong", [os.path.join(b, "peer-pingpong"), "--only", "rpc"], None),
             ("redis", [os.path.join(b, "peer-redis"), "--only", "counter_add"],
              "redis-server"),
             ("mgr", [os.path.join(b, "mgr-bench"), "--only", "counter_add"], "mgrd")]
    n1, n2 = m["cg"]
    res = []
    log("callgrind (instructions per call, 1 client, synchronous):")
    for name, argv, match in peers:
        if not os.path.exists(argv[0]) or (a.only_peer and name not in a.only_peer):
            continue
        t0 = time.monotonic()
        c1, s1 = cg_split(*cg_run(a, argv, n1, mgr_env(a)), match)
        c2, s2 = cg_split(*cg_run(a, argv, n2, mgr_env(a)), match)
        row = {"peer": name, "workload": "rpc" if name == "pingpong" else "counter_add",
               "calls": [n1, n2],
               "client_ir_per_call": round((c2 - c1) / (n2 - n1)),
               "server_ir_per_call": round((s2 - s1) / (n2 - n1))}
        row["ir_per_call"] = row["client_ir_per_call"] + row["server_ir_per_call"]
        res.append(row)
        log(f"  {name}: {row['ir_per_call']} (client {row['client_ir_per_call']}, "
            f"server {row['server_ir_per_call']}) in {time.monotonic() - t0:.0f} s")
    return res


# ---- comparing ----

def key(r):
    return (r["workload"], r.get("clients"), r.get("inflight"), r["pinned"])


def find(rows, peer, workload, clients, inflight, pinned):
    for r in rows:
        if (r.get("peer") == peer and r.get("workload") == workload and
                r.get("clients") == clients and r.get("inflight") == inflight and
                r.get("pinned") == pinned and "ops_per_s" in r):
            return r
    return None


def ratio(a, b):
    return round(a["ops_per_s"] / b["ops_per_s"], 2) if a and b and b["ops_per_s"] else None


def compare(rows):
    out = []
    for r in rows:
        if r.get("peer") not in ("mgr", "mgr-emul") or "ops_per_s" not in r:
            continue
        if r["workload"] == "memory_hash":
            continue
        w, n, k, p = r["workload"], r["clients"], r["inflight"], r["pinned"]
        redis = find(rows, "redis", w, n, k, p)
        py = find(rows, "python-manager", w, n, k, p)
        floor = find(rows, *FLOOR, n, k, p)
        out.append({"workload": w, "clients": n, "inflight": k, "pinned": p,
                    "emulated": r["peer"] == "mgr-emul",
                    "mgr": {x: r[x] for x in ("ops_per_s", "ops_min", "ops_max",
                                               "p50_us", "p99_us")},
                    "redis_ops_per_s": redis and redis["ops_per_s"],
                    "floor_ops_per_s": floor and floor["ops_per_s"],
                    "python_ops_per_s": py and py["ops_per_s"],
                    "vs_redis": ratio(r, redis), "vs_floor": ratio(r, floor),
                    "vs_python": ratio(r, py)})
    return out


def fmt(v, spec="{:.0f}"):
    return "-" if v is None else spec.format(v)


def print_table(cmp):
    hdr = (f"{'workload':<12}{'cl':>3}{'fl':>4} {'pin':<4}{'mgr ops/s':>11}{'p50':>8}"
           f"{'p99':>8}{'floor':>10}{'redis':>10}{'python':>9}{'/floor':>8}{'/redis':>8}"
           f"{'/python':>8}")
    print(hdr)
    print("-" * len(hdr))
    for c in sorted(cmp, key=lambda c: (not c["pinned"], c["workload"], c["inflight"],
                                        c["clients"])):
        m = c["mgr"]
        name = c["workload"] + ("*" if c["emulated"] else "")
        print(f"{name:<12}{c['clients']:>3}{c['inflight']:>4} {'yes' if c['pinned'] else 'no':<4}"
              f"{m['ops_per_s']:>11.0f}{m['p50_us']:>8.1f}{m['p99_us']:>8.1f}"
              f"{fmt(c['floor_ops_per_s']):>10}{fmt(c['redis_ops_per_s']):>10}"
              f"{fmt(c['python_ops_per_s']):>9}{fmt(c['vs_floor'], '{:.2f}'):>8}"
              f"{fmt(c['vs_redis'], '{:.2f}'):>8}{fmt(c['vs_python'], '{:.1f}'):>8}")
    if any(c["emulated"] for c in cmp):
        print("* emulated: no Employee type in mgrd yet; an atomic dict incr stands in")


def memory_rows(rows):
    return {r["peer"]: r for r in rows if r.get("workload") == "memory_hash"}


def targets(rows, cmp, cg):
    """Each target of issue 6: (name, figure, goal, met or None if unmeasured)."""
    def get(w, n, k, p):
        return next((c for c in cmp if (c["workload"], c["clients"], c["inflight"],
                                        c["pinned"]) == (w, n, k, p)), None)

    t = []

    def add(name, val, goal, ok):
        t.append({"target": name, "value": val, "goal": goal, "met": ok})

    c = get("counter_add", 1, 1, True)
    add("sync pinned vs floor", c and c["vs_floor"], ">= 0.85",
        c and c["vs_floor"] is not None and c["vs_floor"] >= 0.85)
    add("sync pinned vs redis", c and c["vs_redis"], ">= 1.3",
        c and c["vs_redis"] is not None and c["vs_redis"] >= 1.3)
    c = get("counter_add", 1, 1, False)
    add("sync unpinned 1 client vs redis", c and c["vs_redis"], ">= 2",
        c and c["vs_redis"] is not None and c["vs_redis"] >= 2)
    for w in ("counter_add", "dict_set"):
        for n in (4, 8):
            for p in (True, False):
                c = get(w, n, 1, p)
                add(f"{w} {n} clients {'pinned' if p else 'unpinned'} vs redis",
                    c and c["vs_redis"], ">= 1.2",
                    c and c["vs_redis"] is not None and c["vs_redis"] >= 1.2)
    for n in (1, 4):
        for p in (True, False):
            c = get("counter_add", n, 16, p)
            add(f"pipelined 16, {n} client(s) {'pinned' if p else 'unpinned'} vs redis",
                c and c["vs_redis"], ">= 1",
                c and c["vs_redis"] is not None and c["vs_redis"] >= 1)
    for p in (True, False):
        c = get("queue", 2, 1, p)
        add(f"queue {'pinned' if p else 'unpinned'} vs redis", c and c["vs_redis"], ">= 2",
            None if not c or c["vs_redis"] is None else c["vs_redis"] >= 2)
    pyr = [c["vs_python"] for c in cmp if c["vs_python"] is not None
           and c["workload"] != "employee"]
    add("every workload vs python (min)", min(pyr) if pyr else None, ">= 3",
        min(pyr) >= 3 if pyr else None)
    emp = [c["vs_python"] for c in cmp if c["workload"] == "employee"
           and c["vs_python"] is not None]
    add("employee vs python (min)" + (" [emulated]" if any(
        c["emulated"] for c in cmp if c["workload"] == "employee") else ""),
        min(emp) if emp else None, ">= 8", min(emp) >= 8 if emp else None)
    ir = {r["peer"]: r["ir_per_call"] for r in cg}
    if "mgr" in ir and "redis" in ir:
        v = round(ir["mgr"] / ir["redis"], 2)
        add("instructions per call vs redis", v, "<= 0.4", v <= 0.4)
    mem = memory_rows(rows)
    if "mgr" in mem and "redis" in mem:
        v = round(mem["mgr"]["bytes_per_entry"] / mem["redis"]["bytes_per_entry"], 2)
        add("bytes per dict entry vs redis hash field", v, "<= 1", v <= 1)
    for p in (True, False):
        busy, idle = get("counter_add_busy4", 4, 1, p), get("counter_add_idle1000", 4, 1, p)
        cost = None
        if busy and idle:
            cost = round(100 * (1 - idle["mgr"]["ops_per_s"] / busy["mgr"]["ops_per_s"]), 1)
        add(f"1000 idle clients cost 4 busy ones ({'pinned' if p else 'unpinned'}), %",
            cost, "<= 20", None if cost is None else cost <= 20)
    return t


def print_socket(rows):
    """mgr with MGR_RING_SIZE=0 (frames over the socket, as before the ring)."""
    sock = [r for r in rows if r.get("peer") == "mgr-socket" and "ops_per_s" in r]
    if not sock:
        return
    print()
    print("mgr over the socket alone (MGR_RING_SIZE=0), counter_add:")
    for r in sorted(sock, key=lambda r: (not r["pinned"], r["inflight"], r["clients"])):
        w, n, k, p = r["workload"], r["clients"], r["inflight"], r["pinned"]
        ring = find(rows, "mgr", w, n, k, p)
        print(f"  {n} client(s), {k} in flight, {'pinned  ' if p else 'unpinned'}: "
              f"{r['ops_per_s']:>9.0f} calls/s, {fmt(ratio(r, find(rows, *FLOOR, n, k, p)), '{:.2f}')}x floor, "
              f"{fmt(ratio(r, find(rows, 'redis', w, n, k, p)), '{:.2f}')}x redis; "
              f"the ring: {fmt(ratio(ring, r), '{:.2f}')}x this")


def print_extras(rows, cg, tg):
    print_socket(rows)
    mem = memory_rows(rows)
    if mem:
        print()
        for p, r in sorted(mem.items()):
            print(f"memory: {p:<6} {r['entries']} entries, {r['memory_growth'] / 1e6:.1f} MB, "
                  f"{r['bytes_per_entry']:.1f} bytes/entry")
    if cg:
        print()
        for r in cg:
            print(f"instructions/call: {r['peer']:<8} {r['ir_per_call']:>7} "
                  f"(client {r['client_ir_per_call']}, server {r['server_ir_per_call']})")
    skipped = [r for r in rows if "skipped" in r]
    for r in skipped:
        print(f"not available: {r['peer']} {r['workload']} ({'pinned' if r['pinned'] else 'unpinned'}): {r['skipped']}")
    print()
    print("targets (issue 6):")
    for t in tg:
        state = "n/a " if t["met"] is None else "met " if t["met"] else "MISS"
        print(f"  [{state}] {t['target']}: {fmt(t['value'], '{}')} (goal {t['goal']})")


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "host": platform.node()}


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default="build", help="meson build directory")
    p.add_argument("--quick", action="store_true", help="small run, under a minute")
    p.add_argument("--out", help="JSON output (default BUILD/bench.json)")
    p.add_argument("--no-python", action="store_true")
    p.add_argument("--no-callgrind", action="store_true")
    p.add_argument("--callgrind-only", action="store_true",
                   help="only count instructions per call")
    p.add_argument("--peer", dest="only_peer", action="append",
                   help="run only this peer (repeatable)")
    a = p.parse_args(argv)
    m = MODES["quick" if a.quick else "full"]
    t0 = time.monotonic()
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    rows = [] if a.callgrind_only else run_all(a, m)
    cg = [] if a.no_callgrind else callgrind(a, m)
    cmp = compare(rows)
    tg = targets(rows, cmp, cg)
    print_table(cmp)
    print_extras(rows, cg, tg)
    doc = {"date": started, "machine": machine(), "mode": "quick" if a.quick else "full",
           "command": " ".join([os.path.relpath(__file__)] + argv),
           "settings": m, "seconds": round(time.monotonic() - t0, 1),
           "comparison": cmp, "targets": tg, "callgrind": cg, "rows": rows}
    out = a.out or os.path.join(a.build, "bench.json")
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
    print(f"\n{len(rows)} lines from the peers in {doc['seconds']} s; written to {out}")
    return 0 if rows or a.callgrind_only else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
