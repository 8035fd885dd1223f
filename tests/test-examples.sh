#!/bin/sh
# The examples run by themselves, as a newcomer runs them (issue 17): no
# MGR_MGRD, no installed mgrd: a program in the build tree finds the mgrd
# built beside it (build/examples/x -> build/mgrd/mgrd), and its stderr
# gets none of mgrd's routine (info) lines. A copy of the program where
# no mgrd is near, on PATH or installed says "mgrd not found: install mgr
# or set MGR_MGRD", never an exit status.
# Usage: test-examples.sh BUILD_ROOT INSTALLED_MGRD
set -u
build=$1
unset MGR_MGRD MGR_SOCKET MGR_LOG_LEVEL
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "examples: $*"; exit 1; }

# employee serves its own types (mgr_server_main in a fork, not an exec)
for ex in tickets shared_dict employee; do
	timeout 60 "$build/examples/$ex" >"$dir/out" 2>"$dir/err" ||
		{ cat "$dir/out" "$dir/err"; fail "$ex failed from the build tree"; }
	if grep -q 'mgrd\[[0-9]*\]: info' "$dir/err"; then
		cat "$dir/err"
		fail "$ex: mgrd's info lines reached the program's stderr"
	fi
done
# MGR_LOG_LEVEL=info brings them back (for whoever wants them)
MGR_LOG_LEVEL=info timeout 60 "$build/examples/tickets" >/dev/null 2>"$dir/err" ||
	fail "tickets failed with MGR_LOG_LEVEL=info"
grep -q 'mgrd\[[0-9]*\]: info: listening' "$dir/err" || fail "MGR_LOG_LEVEL=info: no info lines"
MGR_LOG_LEVEL=info timeout 60 "$build/examples/employee" >/dev/null 2>"$dir/err" ||
	fail "employee failed with MGR_LOG_LEVEL=info"
grep -q 'mgrd\[[0-9]*\]: info: listening' "$dir/err" || fail "employee, MGR_LOG_LEVEL=info: no info lines"

# the same program where no mgrd can be found (unless one is installed)
installed=$2
cp "$build/examples/tickets" "$dir/tickets"
if [ -n "$installed" ] && [ -x "$installed" ]; then
	echo "examples: $installed is installed: the not-found case is skipped"
else
	LD_LIBRARY_PATH="$build/libmgr" PATH=/usr/bin:/bin timeout 60 "$dir/tickets" \
		>/dev/null 2>"$dir/err" && fail "tickets ran without any mgrd"
	grep -q 'mgrd not found: install mgr or set MGR_MGRD' "$dir/err" ||
		{ cat "$dir/err"; fail "no 'mgrd not found' message"; }
	grep -q 'status 127' "$dir/err" && fail "'status 127' still said"
fi
# and with the mgrd on PATH
mkdir "$dir/bin" && ln -s "$build/mgrd/mgrd" "$dir/bin/mgrd"
LD_LIBRARY_PATH="$build/libmgr" PATH="$dir/bin:/usr/bin:/bin" timeout 60 "$dir/tickets" \
	>/dev/null 2>"$dir/err" || { cat "$dir/err"; fail "tickets did not find mgrd on PATH"; }
echo "examples: found mgrd beside them and on PATH, quiet, and say so when it is missing"
