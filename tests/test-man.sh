#!/bin/sh
# The man pages list every option (issue 17): each --option that
# `mgrd --help` prints is in mgrd.8.scd, each one mgrctl's help prints in
# mgrctl.1.scd, and every page builds with scdoc (where it is installed).
# usage: test-man.sh SOURCE_DIR MGRD MGRCTL
set -u
src=$1 mgrd=$2 ctl=$3
fail=0
check() { # page help-text
	for opt in $(echo "$2" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		grep -q -- "\*$opt\*" "$src/man/$1" || { echo "man: $1 lacks $opt"; fail=1; }
	done
}
check mgrd.8.scd "$("$mgrd" --help)"
check mgrctl.1.scd "$("$ctl" help)"
if command -v scdoc >/dev/null 2>&1; then
	for page in "$src"/man/*.scd; do
		scdoc <"$page" >/dev/null || { echo "man: scdoc fails on $page"; fail=1; }
	done
fi
[ $fail = 0 ] && echo "man: every option documented"
exit $fail
