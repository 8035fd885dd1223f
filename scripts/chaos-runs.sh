#!/bin/sh
# Repeats the chaos test and counts the runs in which mgrd crashed:
#   scripts/chaos-runs.sh [BUILD] — RUNS (30) runs of CHAOS_SECONDS (20) each, on
#   TRANSPORT ring, socket or both (alternating; default both).
# Each run's output is kept in $BUILD/chaos-runs/; the last line is the tally.
set -u
BUILD=${1:-build}
RUNS=${RUNS:-30}
SECONDS_EACH=${CHAOS_SECONDS:-20}
TRANSPORT=${TRANSPORT:-both}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "$BUILD" && pwd)
OUT=$B/chaos-runs
mkdir -p "$OUT"
crashed=0 failed=0 passed=0
i=1
while [ "$i" -le "$RUNS" ]; do
	t=$TRANSPORT
	[ "$t" = both ] && { [ $((i % 2)) = 1 ] && t=ring || t=socket; }
	ring=65536
	[ "$t" = socket ] && ring=0
	log=$OUT/run-$i-$t.log
	MGR_RING_SIZE=$ring MGR_CHAOS_SECONDS=$SECONDS_EACH MGR_MGRD=$B/mgrd/mgrd \
		MGR_EMPLOYEE_MODULE=$B/examples/libemployee.so \
		LD_LIBRARY_PATH=$B/libmgr:$B/examples timeout 600 "$B/tests/test-chaos" >"$log" 2>&1
	rc=$?
	if grep -q "mgrd crashed" "$log"; then
		crashed=$((crashed + 1)); what="mgrd CRASHED ($(grep -o 'mgrd crashed after [^"]*' "$log" | head -1))"
	elif [ $rc -ne 0 ]; then
		failed=$((failed + 1)); what="FAILED (exit $rc; see $log)"
	else
		passed=$((passed + 1)); what=ok
	fi
	echo "chaos-runs: run $i/$RUNS ($t, $SECONDS_EACH s): $what"
	grep "chaos summary" "$log" | sed 's/^/  /'
	i=$((i + 1))
done
echo "chaos-runs: $RUNS runs of $SECONDS_EACH s ($TRANSPORT): mgrd crashed in $crashed, other failures $failed, passed $passed"
[ $crashed -eq 0 ] && [ $failed -eq 0 ]
