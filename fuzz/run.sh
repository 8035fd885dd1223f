#!/bin/sh
# Runs every fuzz target of a -Dfuzz=enabled build for SECONDS each, from
# the committed seeds plus what earlier runs found (BUILD/fuzz-corpus), and
# prints the executions per target. Crashes land in BUILD/fuzz-artifacts/
# and make the run fail.
#   fuzz/run.sh BUILD SECONDS [target...]
set -u
build=$1
secs=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)
targets=${*:-frame value ring auth dispatch sessions json}
mkdir -p "$build/fuzz-artifacts"
status=0
summary=""
for t in $targets; do
	exe="$build/fuzz/fuzz-$t"
	seeds="$src/corpus/$t"
	[ "$t" = json ] && seeds="$src/../tests/fuzz-json"
	work="$build/fuzz-corpus/$t"
	mkdir -p "$work"
	log="$build/fuzz-$t.log"
	echo "fuzz-$t: ${secs}s"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	"$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-dict="$src/$t.dict" -artifact_prefix="$build/fuzz-artifacts/$t-" \
		-print_final_stats=1 "$work" "$seeds" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	if [ $rc -ne 0 ]; then
		status=1
		line="fuzz-$t: FAILED (exit $rc) after ${runs:-?} executions; see $log"
	else
		line="fuzz-$t: ${runs:-?} executions in ${secs}s, $cov, corpus $(ls "$work" | wc -l) inputs"
	fi
	echo "$line"
	summary="$summary$line
"
done
printf '\n%s' "$summary"
exit $status
