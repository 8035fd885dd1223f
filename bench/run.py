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
import math
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

# Per mode: C peers' ops and reps, python's, memory entries, callgrind N1/N2;
# rounds: the unpinned states' interleaved repetitions (one per round);
# over_split: in the over state each round is that many interleaved
# repetitions of 1/over_split of the calls, for every peer alike: there a
# repetition is a draw of where the scheduler puts client and server
# (docs/design.md "Latency", "The over state's two modes"), so the median
# needs more draws, not longer ones (the over state's time is unchanged).
MODES = {
    "full": dict(ops=20000, reps=5, rounds=3, over_split=3, py_ops=4000, py_reps=3,
                 mem=1000000, cg=(2000, 6000)),
    "quick": dict(ops=2000, reps=3, rounds=1, over_split=1, py_ops=600, py_reps=3,
                  mem=100000, cg=(500, 1500)),
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


# The machine states every unpinned case runs in (bench.h: --state): idle,
# one core taken by a busy loop the bench starts, and more busy processes
# than cores.
STATES = ("idle", "busy", "over")

# The unpinned cases that run in every state; memory_hash and the idle-1000
# pair run once, idle (they measure something else).
STATE_WORKLOADS = "counter_add,dict_set,dict_get,list_append,employee,queue,rpc"
QUICK_STATE_WORKLOADS = "counter_add,queue,rpc"


def peers(a, m):
    """Every peer the run knows: name, argv (no --pinned/--state/--reps),
    extra environment, whether it takes --state, and its calls per
    repetition. A new peer (say, a Python client of mgr) is one more row."""
    b = os.path.join(a.build, "bench")
    mem = ["--mem", str(m["mem"])]
    # mgr makes up to 50x the calls per second of the others unpinned: it
    # runs 3x the calls, so that a repetition lasts long enough to measure
    # (tens of ms, not a few) instead of being all warm-up
    rows = [
        dict(name="pingpong", argv=[os.path.join(b, "peer-pingpong")], env={},
             states=True, ops=m["ops"]),
        dict(name="redis", argv=[os.path.join(b, "peer-redis")] + mem, env={},
             states=True, ops=m["ops"]),
        dict(name="mgr", argv=[os.path.join(b, "mgr-bench")] + mem, env={},
             states=True, ops=3 * m["ops"]),
        # the same mgr without polling on either side (mgrd --no-spin)
        dict(name="mgr-nospin", argv=[os.path.join(b, "mgr-bench")] + mem,
             env={"MGR_NO_SPIN": "1"}, states=True, ops=3 * m["ops"]),
        # mgr without its shared-memory ring: the socket alone
        dict(name="mgr-socket", argv=[os.path.join(b, "mgr-bench"), "--only", "counter_add"],
             env={"MGR_RING_SIZE": "0"}, states=True, ops=m["ops"]),
    ]
    if not a.no_python:
        rows.append(dict(name="python", argv=[PYTHON, os.path.join(HERE, "peer_python.py")]
                         + python_only(a), env={}, states=False, ops=m["py_ops"],
                         reps=m["py_reps"]))
        rows.append(python_mgr_peer(a, m))
    return [p for p in rows if (p["name"].startswith("python") or os.path.exists(p["argv"][0]))
            and (not a.only_peer or p["name"] in a.only_peer)]


# Both Python peers run under the interpreter the package is built for
# (python/meson.build prefers Debian's), so they differ only in the import.
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def python_only(a):
    """--workload: the Python peers' workloads (peer_python.py --only)."""
    return ["--only", a.workload] if a.workload else []


def python_mgr_peer(a, m):
    """peer_python.py again, through mgr's Python package (MGR_PY_BENCH=1:
    `from mgr.managers import SyncManager`): same workloads, same calls."""
    src = os.path.join(os.path.dirname(HERE), "python")
    path = os.path.abspath(os.path.join(a.build, "python")) + os.pathsep + src
    return dict(name="python-mgr", argv=[PYTHON, os.path.join(HERE, "peer_python.py")]
                + python_only(a),
                env={"MGR_PY_BENCH": "1", "PYTHONPATH": path}, states=False,
                ops=m["py_ops"], reps=m["py_reps"])


def mgr_env(a, extra=None):
    env = dict(os.environ)
    env.setdefault("MGR_MGRD", os.path.abspath(os.path.join(a.build, "mgrd", "mgrd")))
    env.update(extra or {})
    return env


def run_one(a, p, args, ops=None):
    """One run of peer p with args (and ops calls a repetition, p's own if
    None); its rows, named after p."""
    got = run_peer(p["name"], p["argv"] + ["--ops", str(ops or p["ops"])] + args,
                   env=mgr_env(a, p["env"]))
    for r in got:
        if r.get("peer") in ("mgr", "mgr-emul") and p["name"] != "mgr":
            r["peer"] = p["name"] + ("-emul" if r["peer"] == "mgr-emul" else "")
        if p["name"] == "python-mgr":
            r["peer"] = "python-mgr"  # peer_python.py calls itself python-manager
        r.setdefault("state", "idle")
    return got


def median(v):
    v = sorted(v)
    n = len(v)
    return 0 if not n else v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


# A repetition's figures, from a row's "reps" entry: (field, function of the
# entry and the row's calls a repetition).
REP_FIELDS = (
    ("ops_per_s", lambda e, n: e["ops_per_s"]),
    ("p50_us", lambda e, n: e["p50_us"]),
    ("p99_us", lambda e, n: e["p99_us"]),
    ("client_cpu_us", lambda e, n: e["client_cpu_ns"] / 1000 / n),
    ("server_cpu_us", lambda e, n: e["server_cpu_ns"] / 1000 / n),
    ("cpu_us_per_call", lambda e, n: (e["client_cpu_ns"] + e["server_cpu_ns"]) / 1000 / n),
)


def rep_figures(r):
    """Every repetition of row r as {field: figure}; r itself when it keeps
    no repetitions."""
    reps, n = r.get("reps"), r.get("ops")
    if not reps or not n or not all("client_cpu_ns" in e for e in reps):
        return [r]
    return [{f: fn(e, n) for f, fn in REP_FIELDS} for e in reps]


def merge(rows):
    """Rows of runs of the same case, as one row: medians across all their
    repetitions (not of each run's median), the spread, every repetition
    kept."""
    out, groups = [], {}
    for r in rows:
        if "ops_per_s" not in r:
            out.append(r)
            continue
        k = (r["peer"], r["workload"], r.get("clients"), r.get("inflight"), r["pinned"],
             r["state"])
        groups.setdefault(k, []).append(r)
    for g in groups.values():
        m = dict(g[0])
        if len(g) > 1:
            each = [x for r in g for x in rep_figures(r)]
            for f in ("ops_per_s", "p50_us", "p99_us", "cpu_us_per_call", "client_cpu_us",
                      "server_cpu_us"):
                if all(f in x for x in each):
                    m[f] = median([x[f] for x in each])
            m["ops_min"] = min(r["ops_min"] for r in g)
            m["ops_max"] = max(r["ops_max"] for r in g)
            m["reps"] = [x for r in g for x in r.get("reps", [])]
        out.append(m)
    return out


def run_pinned(a, m):
    """Everything on CPU 0, idle: each peer with all its repetitions."""
    rows = []
    log("pinned:")
    for p in peers(a, m):
        if p["name"] == "mgr-nospin":
            continue  # nothing to poll on one CPU
        rows += run_one(a, p, ["--pinned", "--reps", str(p.get("reps", m["reps"]))])
    return rows


def run_states(a, m):
    """Unpinned, in every machine state, interleaved: round after round,
    each state, each peer one repetition (A B C A B C ...), so that every
    peer sees the same drifting machine; rows merged by median afterwards.
    The Python manager (no --state) runs idle, unpinned, once."""
    rows = []
    only = QUICK_STATE_WORKLOADS if a.quick else STATE_WORKLOADS
    ps = peers(a, m)
    for rnd in range(m["rounds"]):
        for st in STATES:
            split = m["over_split"] if st == "over" else 1
            for part in range(split):
                log(f"unpinned, round {rnd + 1}/{m['rounds']}, {st}"
                    + (f" {part + 1}/{split}" if split > 1 else "") + ":")
                for p in ps:
                    if p["states"]:
                        sel = [] if "--only" in p["argv"] else ["--only", only]
                        rows += run_one(a, p, ["--unpinned", "--reps", "1", "--state", st,
                                               "--mem", "1"] + sel, p["ops"] // split)
    for p in ps:
        if not p["states"]:
            log("unpinned, idle:")
            rows += run_one(a, p, ["--unpinned", "--reps", str(p.get("reps", m["reps"]))])
        elif p["name"] == "mgr" and not a.quick:
            log("unpinned, idle, 1000 idle clients:")
            rows += run_one(a, p, ["--unpinned", "--reps", str(m["reps"]),
                                   "--only", "counter_add_idle1000"])
    return merge(rows)


def run_all(a, m):
    rows = run_pinned(a, m) + run_states(a, m)
    # memory_hash runs with the pinned pass
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

def find(rows, peer, workload, clients, inflight, pinned, state="idle"):
    for r in rows:
        if (r.get("peer") == peer and r.get("workload") == workload and
                r.get("clients") == clients and r.get("inflight") == inflight and
                r.get("pinned") == pinned and r.get("state", "idle") == state and
                "ops_per_s" in r):
            return r
    return None


def ratio(a, b, f="ops_per_s"):
    return round(a[f] / b[f], 2) if a and b and b.get(f) and f in a else None


def cpu_at_equal_rate(r, other):
    """r's CPU per call against other's at the same calls/s: for each of r's
    repetitions, other's repetition nearest to it in calls/s (by ratio), and
    the median of the CPU-per-call ratios; None without two repetitions
    each. In the oversubscribed state every peer's repetitions are fast or
    slow by where the scheduler puts client and server (docs/design.md,
    "The over state's two modes"), and CPU per call follows the mode: two
    medians can come from different modes, a matched pair cannot."""
    a, b = (rep_figures(r) if r else []), (rep_figures(other) if other else [])
    if len(a) < 2 or len(b) < 2 or not all("cpu_us_per_call" in x and x["ops_per_s"] > 0
                                           and x["cpu_us_per_call"] > 0 for x in a + b):
        return None
    out = []
    for x in a:
        y = min(b, key=lambda y: abs(math.log(x["ops_per_s"] / y["ops_per_s"])))
        out.append(x["cpu_us_per_call"] / y["cpu_us_per_call"])
    return round(median(out), 2)


def compare(rows):
    """One entry per mgr row: the peers' rows of the same case and state,
    and mgr's ratio to each (throughput, and CPU time per call)."""
    out = []
    for r in rows:
        if r.get("peer") not in ("mgr", "mgr-emul") or "ops_per_s" not in r:
            continue
        if r["workload"] == "memory_hash":
            continue
        w, n, k, p, st = r["workload"], r["clients"], r["inflight"], r["pinned"], r["state"]
        redis = find(rows, "redis", w, n, k, p, st)
        py = find(rows, "python-manager", w, n, k, p, st)
        floor = find(rows, *FLOOR, n, k, p, st)
        nospin = find(rows, r["peer"].replace("mgr", "mgr-nospin"), w, n, k, p, st)

        def cpu(x):
            return x and x.get("cpu_us_per_call")
        out.append({"workload": w, "clients": n, "inflight": k, "pinned": p, "state": st,
                    "emulated": r["peer"] == "mgr-emul",
                    "mgr": {x: r.get(x) for x in ("ops_per_s", "ops_min", "ops_max",
                                                   "p50_us", "p99_us", "cpu_us_per_call")},
                    "redis_ops_per_s": redis and redis["ops_per_s"],
                    "floor_ops_per_s": floor and floor["ops_per_s"],
                    "python_ops_per_s": py and py["ops_per_s"],
                    "nospin_ops_per_s": nospin and nospin["ops_per_s"],
                    "redis_cpu_us": cpu(redis), "floor_cpu_us": cpu(floor),
                    "nospin_cpu_us": cpu(nospin),
                    "vs_redis": ratio(r, redis), "vs_floor": ratio(r, floor),
                    "vs_python": ratio(r, py), "vs_nospin": ratio(r, nospin),
                    "cpu_vs_nospin": ratio(r, nospin, "cpu_us_per_call"),
                    "cpu_vs_nospin_matched": cpu_at_equal_rate(r, nospin)})
    return out


def fmt(v, spec="{:.0f}"):
    return "-" if v is None else spec.format(v)


def order(c):
    return (not c["pinned"], c["workload"], c["inflight"], c["clients"],
            STATES.index(c["state"]) if c["state"] in STATES else 9)


def print_table(cmp):
    hdr = (f"{'workload':<12}{'cl':>3}{'fl':>4} {'pin':<4}{'mgr ops/s':>11}{'p50':>8}"
           f"{'p99':>8}{'floor':>10}{'redis':>10}{'python':>9}{'/floor':>8}{'/redis':>8}"
           f"{'/python':>8}")
    print("pinned (every process on CPU 0):")
    print(hdr)
    print("-" * len(hdr))
    for c in sorted((c for c in cmp if c["pinned"]), key=order):
        m = c["mgr"]
        name = c["workload"] + ("*" if c["emulated"] else "")
        print(f"{name:<12}{c['clients']:>3}{c['inflight']:>4} {'yes':<4}"
              f"{m['ops_per_s']:>11.0f}{m['p50_us']:>8.1f}{m['p99_us']:>8.1f}"
              f"{fmt(c['floor_ops_per_s']):>10}{fmt(c['redis_ops_per_s']):>10}"
              f"{fmt(c['python_ops_per_s']):>9}{fmt(c['vs_floor'], '{:.2f}'):>8}"
              f"{fmt(c['vs_redis'], '{:.2f}'):>8}{fmt(c['vs_python'], '{:.1f}'):>8}")
    if any(c["emulated"] for c in cmp):
        print("* emulated: no Employee type in mgrd yet; an atomic dict incr stands in")
    print_states(cmp)


def print_states(cmp):
    """Unpinned, one line per case and machine state: calls/s and CPU time
    per call (client + server, us) of mgr, mgr without polling, Redis and
    the bare socket."""
    hdr = (f"{'workload':<12}{'cl':>3}{'fl':>4} {'state':<5}{'mgr':>9}{'cpu':>6}"
           f"{'nospin':>9}{'cpu':>6}{'redis':>9}{'cpu':>6}{'floor':>9}{'cpu':>6}"
           f"{'/redis':>7}{'/nospin':>8}{'cpu/ns':>7}")
    rows = sorted((c for c in cmp if not c["pinned"]), key=order)
    if not rows:
        return
    print()
    print("unpinned, by machine state (idle; busy: one core taken by a busy loop;")
    print(f"over: 8 busy loops on the machine's cores); calls/s and CPU us per call"
          " (client + server):")
    print(hdr)
    print("-" * len(hdr))
    for c in rows:
        m = c["mgr"]
        name = c["workload"] + ("*" if c["emulated"] else "")
        print(f"{name:<12}{c['clients']:>3}{c['inflight']:>4} {c['state']:<5}"
              f"{m['ops_per_s']:>9.0f}{fmt(m['cpu_us_per_call'], '{:.2f}'):>6}"
              f"{fmt(c['nospin_ops_per_s']):>9}{fmt(c['nospin_cpu_us'], '{:.2f}'):>6}"
              f"{fmt(c['redis_ops_per_s']):>9}{fmt(c['redis_cpu_us'], '{:.2f}'):>6}"
              f"{fmt(c['floor_ops_per_s']):>9}{fmt(c['floor_cpu_us'], '{:.2f}'):>6}"
              f"{fmt(c['vs_redis'], '{:.2f}'):>7}{fmt(c['vs_nospin'], '{:.2f}'):>8}"
              f"{fmt(c['cpu_vs_nospin'], '{:.2f}'):>7}")


def memory_rows(rows):
    return {r["peer"]: r for r in rows if r.get("workload") == "memory_hash"}


def targets(rows, cmp, cg):
    """Each target of issues 6 and 14: (name, figure, goal, met or None if
    unmeasured). Unpinned figures without a state are the idle state's."""
    def get(w, n, k, p, st="idle"):
        return next((c for c in cmp if (c["workload"], c["clients"], c["inflight"],
                                        c["pinned"], c["state"]) == (w, n, k, p, st)), None)

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
        add("[14] instructions per call vs redis INCR", v, "<= 0.3", v <= 0.3)
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
    states_targets(get, add, cmp)
    tcp_targets(rows, add)
    return t


def states_targets(get, add, cmp):
    """Issue 14: waiting that holds in every machine state."""
    def at_least(name, c, f, goal):
        v = c and c.get(f)
        add(name, v, f">= {goal}", None if v is None else v >= goal)
    c = get("counter_add", 1, 1, False, "busy")
    at_least("[14] busy: 1 client unpinned vs redis", c, "vs_redis", 1.2)
    at_least("[14] busy: 1 client unpinned vs mgr no-spin", c, "vs_nospin", 0.95)
    at_least("[14] busy: queue vs redis", get("queue", 2, 1, False, "busy"), "vs_redis", 2)
    at_least("[14] idle: 1 client unpinned vs redis", get("counter_add", 1, 1, False),
             "vs_redis", 10)
    for n in (1, 8):
        at_least(f"[14] over: counter_add {n} client(s) vs redis",
                 get("counter_add", n, 1, False, "over"), "vs_redis", 1.5)
    # 16 calls in flight from 4 processes against the bare socket floor with
    # the same window (pingpong's rpc 4x16), pinned and in every state
    at_least("[14] 16 in flight x 4, pinned vs floor", get("counter_add", 4, 16, True),
             "vs_floor", 0.8)
    for st in STATES:
        at_least(f"[14] 16 in flight x 4, {st}: vs floor",
                 get("counter_add", 4, 16, False, st), "vs_floor", 0.8)
    # no case pays more than 1.5x no-spin's CPU per call for no more calls/s:
    # as medians (a draw in the over state: the two medians may come from
    # different modes), and repetition by repetition at equal calls/s
    for key, what, goal in (("cpu_vs_nospin", "medians, reported", None),
                            ("cpu_vs_nospin_matched", "at equal calls/s", 1.5)):
        worst, where = None, ""
        for c in cmp:
            if c["pinned"] or c[key] is None or c["vs_nospin"] is None:
                continue
            if c["vs_nospin"] <= 1.05 and (worst is None or c[key] > worst):
                worst, where = c[key], f"{c['workload']} {c['clients']}x{c['inflight']} {c['state']}"
        add(f"[14] worst CPU/call vs no-spin at <= its calls/s, {what} ({where or 'none'})",
            worst, "reported" if goal is None else f"<= {goal}",
            None if worst is None or goal is None else worst <= goal)


# ---- loopback TCP (issue 16) ----
# mgr over TCP (no ring: a TCP session never has one), with TLS, Redis over
# TCP and CPython's manager over TCP, counter_add, unpinned and idle, their
# repetitions interleaved round by round as the states are.
TCP_PEERS = ("mgr-tcp", "mgr-tls", "redis-tcp", "python-manager-tcp")


def tcp_free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tcp_files(d):
    """A key file, and a CA and a server certificate for 127.0.0.1 (None
    without openssl): paths in d."""
    key = os.path.join(d, "key")
    with open(os.open(key, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(os.urandom(24).hex())
    sh = ("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
          "-subj /CN=mgr-bench-ca && openssl req -newkey rsa:2048 -nodes -keyout srv.key "
          "-out srv.csr -subj /CN=localhost && printf 'subjectAltName=IP:127.0.0.1\\n' > ext && "
          "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem "
          "-days 2 -extfile ext && chmod 600 *.key")
    ok = shutil.which("openssl") and subprocess.run(
        sh, shell=True, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    return key, (os.path.join(d, "ca.pem"), os.path.join(d, "srv.pem"),
                 os.path.join(d, "srv.key")) if ok else None


def tcp_peers(a, m, d):
    b = os.path.join(a.build, "bench")
    key, tls = tcp_files(d)
    mb = [os.path.join(b, "mgr-bench"), "--only", "counter_add"]
    rows = [dict(name="mgr-tcp", argv=mb, env={"MGR_AUTH_KEY_FILE": key, "MGR_BENCH_LISTEN": ""},
                 ops=m["ops"]),
            dict(name="redis-tcp", argv=[os.path.join(b, "peer-redis"), "--tcp", "--only",
                                         "counter_add"], env={}, ops=m["ops"])]
    if tls:
        rows.append(dict(name="mgr-tls", argv=mb, env={
            "MGR_AUTH_KEY_FILE": key, "MGR_BENCH_LISTEN": "", "MGR_TLS_CA": tls[0],
            "MGR_BENCH_TLS_CERT": tls[1], "MGR_BENCH_TLS_KEY": tls[2]}, ops=m["ops"]))
    if not a.no_python:
        rows.append(dict(name="python-manager-tcp", argv=[
            sys.executable, os.path.join(HERE, "peer_python.py"), "--tcp", "--only",
            "counter_add"], env={}, ops=m["py_ops"]))
    return [p for p in rows if os.path.exists(p["argv"][0])]


def run_tcp(a, m):
    rows = []
    with tempfile.TemporaryDirectory(prefix="mgr-bench-tcp.") as d:
        ps = tcp_peers(a, m, d)
        for rnd in range(m["rounds"]):
            log(f"loopback TCP, unpinned, idle, round {rnd + 1}/{m['rounds']}:")
            for p in ps:
                if "MGR_BENCH_LISTEN" in p["env"]:  # a port free now, per run
                    p["env"]["MGR_BENCH_LISTEN"] = f"tcp:127.0.0.1:{tcp_free_port()}"
                reps = "1" if p["name"] != "python-manager-tcp" else str(m["py_reps"])
                rows += run_one(a, p, ["--unpinned", "--reps", reps])
    return merge(rows)


def tcp_cases(rows):
    """(clients, inflight) -> {peer: row} of the TCP peers' counter_add rows."""
    out = {}
    for r in rows:
        if r.get("peer") in TCP_PEERS and r.get("workload") == "counter_add" and "ops_per_s" in r:
            out.setdefault((r["clients"], r["inflight"]), {})[r["peer"]] = r
    return out


def print_tcp(rows):
    cases = tcp_cases(rows)
    if not cases:
        return
    print()
    print("loopback TCP (issue 16), counter_add, unpinned, idle, calls/s (median, min-max):")
    print(f"  {'clients':>7}{'k':>4}" + "".join(f"{p:>22}" for p in TCP_PEERS)
          + f"{'tcp/redis':>10}{'tls/tcp':>8}{'tcp/py':>8}")
    for (n, k), c in sorted(cases.items(), key=lambda x: (x[0][1], x[0][0])):
        def cell(p):
            r = c.get(p)
            return f"{'-':>22}" if not r else \
                f"{r['ops_per_s']:>9.0f} ({r['ops_min']:.0f}-{r['ops_max']:.0f})".rjust(22)
        print(f"  {n:>7}{k:>4}" + "".join(cell(p) for p in TCP_PEERS)
              + f"{fmt(ratio(c.get('mgr-tcp'), c.get('redis-tcp')), '{:.2f}'):>10}"
              + f"{fmt(ratio(c.get('mgr-tls'), c.get('mgr-tcp')), '{:.2f}'):>8}"
              + f"{fmt(ratio(c.get('mgr-tcp'), c.get('python-manager-tcp')), '{:.1f}'):>8}")


def tcp_targets(rows, add):
    """Issue 16: mgr over TCP >= 1.2x Redis over TCP; TLS's cost reported."""
    cases = tcp_cases(rows)
    for n in (1, 4):
        c = cases.get((n, 1), {})
        v = ratio(c.get("mgr-tcp"), c.get("redis-tcp"))
        add(f"[16] TCP vs Redis TCP, {n} client(s)", v, ">= 1.2", None if v is None else v >= 1.2)
        v = ratio(c.get("mgr-tls"), c.get("mgr-tcp"))
        cost = None if v is None else round(100 * (1 - v), 1)
        add(f"[16] TLS's cost, {n} client(s), % of TCP calls/s", cost, "reported", None)


def print_socket(rows):
    """mgr with MGR_RING_SIZE=0 (frames over the socket, as before the ring)."""
    sock = [r for r in rows if r.get("peer") == "mgr-socket" and "ops_per_s" in r
            and r.get("state", "idle") == "idle"]
    if not sock:
        return
    print()
    print("mgr over the socket alone (MGR_RING_SIZE=0), counter_add, idle (states: table above"
          " has none; bench.json has them):")
    for r in sorted(sock, key=lambda r: (not r["pinned"], r["inflight"], r["clients"])):
        w, n, k, p = r["workload"], r["clients"], r["inflight"], r["pinned"]
        ring = find(rows, "mgr", w, n, k, p)
        print(f"  {n} client(s), {k} in flight, {'pinned  ' if p else 'unpinned'}: "
              f"{r['ops_per_s']:>9.0f} calls/s, {fmt(ratio(r, find(rows, *FLOOR, n, k, p)), '{:.2f}')}x floor, "
              f"{fmt(ratio(r, find(rows, 'redis', w, n, k, p)), '{:.2f}')}x redis; "
              f"the ring: {fmt(ratio(ring, r), '{:.2f}')}x this")


def print_extras(rows, cg, tg):
    print_socket(rows)
    print_tcp(rows)
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
    print("targets (issues 6 and 14):")
    for t in tg:
        state = "n/a " if t["met"] is None else "met " if t["met"] else "MISS"
        print(f"  [{state}] {t['target']}: {fmt(t['value'], '{}')} (goal {t['goal']})")


def compare_python(rows):
    """Issue 15: each row of mgr's Python package (python-mgr) beside
    CPython's manager (python-manager) on the same case."""
    out = []
    for r in rows:
        if r.get("peer") != "python-mgr" or "ops_per_s" not in r:
            continue
        w, n, k, p = r["workload"], r["clients"], r["inflight"], r["pinned"]
        cp = find(rows, "python-manager", w, n, k, p, r.get("state", "idle"))
        out.append({"workload": w, "clients": n, "pinned": p,
                    "mgr": {x: r.get(x) for x in ("ops_per_s", "ops_min", "ops_max", "p50_us")},
                    "cpython": cp and {x: cp.get(x) for x in ("ops_per_s", "ops_min", "ops_max",
                                                               "p50_us")},
                    "ratio": ratio(r, cp)})
    return sorted(out, key=lambda c: (not c["pinned"], c["workload"], c["clients"]))


def print_python(pycmp):
    if not pycmp:
        return
    print()
    print("Python package vs CPython (bench/peer_python.py; mgr: MGR_PY_BENCH=1, only the"
          " import differs):")
    hdr = (f"{'workload':<12}{'cl':>3} {'pin':<4}{'mgr ops/s':>11}{'p50':>8}"
           f"{'CPython':>10}{'p50':>8}{'ratio':>7}")
    print(hdr)
    print("-" * len(hdr))
    for c in pycmp:
        cp = c["cpython"] or {}
        print(f"{c['workload']:<12}{c['clients']:>3} {'yes' if c['pinned'] else 'no':<4}"
              f"{c['mgr']['ops_per_s']:>11.0f}{c['mgr']['p50_us']:>8.1f}"
              f"{fmt(cp.get('ops_per_s')):>10}{fmt(cp.get('p50_us'), '{:.1f}'):>8}"
              f"{fmt(c['ratio'], '{:.1f}'):>7}")


def python_targets(pycmp):
    """[15]: >= 5x CPython's manager on every row with the fewest clients
    (1; the queue's producer and consumer are 2), pinned and unpinned."""
    fewest = {}
    for c in pycmp:
        fewest[c["workload"]] = min(fewest.get(c["workload"], 99), c["clients"])
    rs = [c["ratio"] for c in pycmp if c["clients"] == fewest[c["workload"]]]
    low = min(rs) if rs and None not in rs else None
    return [{"target": "[15] every row >= 5x CPython (Python package, 1 client; min)",
             "value": low, "goal": ">= 5", "met": None if low is None else low >= 5}]


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
    p.add_argument("--no-tcp", action="store_true", help="no loopback-TCP rows (issue 16)")
    p.add_argument("--tcp-only", action="store_true", help="only the loopback-TCP rows")
    p.add_argument("--callgrind-only", action="store_true",
                   help="only count instructions per call")
    p.add_argument("--peer", dest="only_peer", action="append",
                   help="run only this peer (repeatable)")
    p.add_argument("--python-only", action="store_true",
                   help="only the Python rows (python, python-mgr; no TCP, no callgrind)")
    p.add_argument("--workload", metavar="W[,W...]",
                   help="the Python peers run only these workloads (peer_python.py --only)")
    a = p.parse_args(argv)
    if a.python_only:
        a.only_peer, a.no_tcp, a.no_callgrind = ["python", "python-mgr"], True, True
    m = MODES["quick" if a.quick else "full"]
    t0 = time.monotonic()
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    rows = [] if a.callgrind_only or a.tcp_only else run_all(a, m)
    if not a.callgrind_only and not a.no_tcp:
        rows += run_tcp(a, m)
    cg = [] if a.no_callgrind or a.tcp_only else callgrind(a, m)
    cmp = compare(rows)
    tg = targets(rows, cmp, cg)
    pycmp = compare_python(rows)
    tg += python_targets(pycmp)
    print_table(cmp)
    print_python(pycmp)
    print_extras(rows, cg, tg)
    doc = {"date": started, "machine": machine(), "mode": "quick" if a.quick else "full",
           "command": " ".join([os.path.relpath(__file__)] + argv),
           "settings": m, "seconds": round(time.monotonic() - t0, 1),
           "comparison": cmp, "python": pycmp, "targets": tg, "callgrind": cg, "rows": rows}
    out = a.out or os.path.join(a.build, "bench.json")
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
    print(f"\n{len(rows)} lines from the peers in {doc['seconds']} s; written to {out}")
    return 0 if rows or a.callgrind_only else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
