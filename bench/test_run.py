#!/usr/bin/env python3
"""Unit tests of bench/run.py's comparisons (meson test bench-run-py)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402


def row(draws, ops=1000):
    """A row of repetitions (calls/s, CPU us a call) of ops calls each."""
    return {"ops": ops, "ops_per_s": 0, "reps": [
        {"ops_per_s": r, "p50_us": 1.0, "p99_us": 2.0,
         "client_cpu_ns": cpu * 1000 * ops / 2, "server_cpu_ns": cpu * 1000 * ops / 2}
        for r, cpu in draws]}


class CpuAtEqualRate(unittest.TestCase):
    def test_same_cost_different_luck(self):
        # mgr drew mostly slow repetitions, no-spin mostly fast: the medians
        # differ 4x, at equal calls/s the two cost the same
        mgr = row([(6000, 20.0), (5500, 21.0), (6500, 19.0), (100000, 2.5), (5000, 22.0)])
        nospin = row([(100000, 2.5), (98000, 2.6), (6200, 20.0), (102000, 2.4), (5200, 21.5)])
        self.assertAlmostEqual(run.cpu_at_equal_rate(mgr, nospin), 1.0, delta=0.05)

    def test_polling_that_costs_shows(self):
        # twice the CPU at the same calls/s, in either mode
        mgr = row([(100000, 5.0), (6000, 40.0), (101000, 5.0)])
        nospin = row([(100000, 2.5), (6000, 20.0), (99000, 2.5)])
        self.assertAlmostEqual(run.cpu_at_equal_rate(mgr, nospin), 2.0, delta=0.05)

    def test_needs_repetitions(self):
        self.assertIsNone(run.cpu_at_equal_rate(row([(1000, 1.0)]), row([(1000, 1.0)] * 3)))
        self.assertIsNone(run.cpu_at_equal_rate(row([(1000, 1.0)] * 3), None))


if __name__ == "__main__":
    unittest.main()
