#!/usr/bin/env python3
"""The bench's --place through the real mgr-bench and mgrd (meson test
bench-place): while a placed repetition runs, the server's threads are
pinned to CPU 0 and the clients where the placement says; the output line
names the placement; a machine without CPUs 0 and 1 gets a precise error.

    bench/test_place.py MGR_BENCH   (with $MGR_MGRD set, as meson does)"""
import json
import os
import subprocess
import sys
import time
import unittest

BENCH = None


def allowed(pid):
    """Cpus_allowed_list of every thread of pid, as a set of strings."""
    out = set()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("Cpus_allowed_list:"):
                        out.add(line.split()[1])
        except OSError:  # a thread that ended meanwhile
            pass
    return out


def children(pid):
    """(pid, comm) of pid's children."""
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):  # any thread may have forked
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids += [int(k) for k in f.read().split()]
    except OSError:
        return
    for k in kids:
        try:
            with open(f"/proc/{k}/comm") as f:
                yield k, f.read().strip()
        except OSError:
            pass


def run_placed(place, clients):
    """Runs one idle repetition placed; returns (JSON line, {mgrd's CPUs},
    {the workers' CPUs}) as seen while the clients ran."""
    argv = [BENCH, "--unpinned", "--state", "idle", "--place", place, "--reps", "1",
            "--ops", "60000", "--only", "counter_add", "--clients", str(clients)]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    server, workers = set(), {}
    while p.poll() is None:  # until every client has pinned itself
        now_server, now_workers = set(), {}
        for pid, comm in list(children(p.pid)):
            try:
                if comm == "mgrd":
                    now_server = allowed(pid)
                elif comm == "mgr-bench":
                    now_workers[pid] = allowed(pid)
            except OSError:
                pass
        if len(now_workers) == clients and all(len(c) == 1 and "-" not in next(iter(c))
                                               for c in now_workers.values()):
            server, workers = now_server, now_workers
            break
        time.sleep(0.002)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    line = next(json.loads(l) for l in out.splitlines() if l.startswith("{") and "ops_per_s" in l)
    return line, server, workers


class Place(unittest.TestCase):
    def setUp(self):
        if not {0, 1} <= os.sched_getaffinity(0):
            self.skipTest("needs CPUs 0 and 1")

    def test_apart(self):
        line, server, workers = run_placed("apart", 2)
        self.assertEqual(line["place"], "apart")
        self.assertEqual(line["check"], "ok")
        self.assertEqual(server, {"0"})
        self.assertEqual(len(workers), 2)
        for cpus in workers.values():
            self.assertEqual(cpus, {"1"})

    def test_split(self):
        line, server, workers = run_placed("split", 4)
        self.assertEqual(line["place"], "split")
        self.assertEqual(server, {"0"})
        seen = sorted(next(iter(c)) for c in workers.values() if len(c) == 1)
        self.assertEqual(seen, ["0", "0", "1", "1"])

    def test_kernel_is_unplaced(self):
        p = subprocess.run([BENCH, "--unpinned", "--reps", "1", "--ops", "200", "--only",
                            "counter_add", "--clients", "1"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        line = next(json.loads(l) for l in p.stdout.splitlines() if l.startswith("{"))
        self.assertNotIn("place", line)


class PlaceErrors(unittest.TestCase):
    def test_needs_two_cpus(self):
        p = subprocess.run(["taskset", "-c", "0", BENCH, "--place", "split"],
                           capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--place split needs CPUs 0 and 1", p.stderr)
        self.assertEqual(p.stdout, "")

    def test_unknown_placement(self):
        p = subprocess.run([BENCH, "--place", "near"], capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--place kernel|together|split|apart", p.stderr)


if __name__ == "__main__":
    BENCH = sys.argv.pop(1)
    unittest.main()
