#!/bin/bash
# mgrctl's bash completion (mgrctl/mgrctl.bash) against a real mgrd:
# verbs, a verb's options, object names after show/call, type names after
# create and --type.
# Usage: test-completion.sh COMPLETION MGRCTL MGRD
set -u
comp=$1 ctl=$2 mgrd=$3
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
fail() { echo "completion: $*"; exit 1; }
mkdir "$dir/bin" && ln -s "$ctl" "$dir/bin/mgrctl"
export PATH="$dir/bin:$PATH" MGR_SOCKET="$dir/mgrd.sock"
"$mgrd" --socket "$MGR_SOCKET" --log-level warn &
pid=$!
for i in $(seq 100); do mgrctl info >/dev/null 2>&1 && break; sleep 0.1; done
mgrctl create dict alpha >/dev/null && mgrctl create counter beta >/dev/null || fail "no manager"
source "$comp"
complete_line() { # words...: COMPREPLY for the last word, sorted, one line
	COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
	_mgrctl
	printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | tr '\n' ' '
}
check() { # want words...
	local want=$1; shift
	local got; got=$(complete_line "$@")
	[[ $got == "$want" ]] || fail "'$*': got '$got', want '$want'"
}
check "show shutdown " mgrctl sh
check "alpha " mgrctl show al
check "#0 alpha beta " mgrctl call ""
check "beta " mgrctl --json call b
check "counter " mgrctl create cou
check "dict " mgrctl ls --type di
check "--names " mgrctl ls --na
check "--method " mgrctl monitor --me
echo "completion: verbs, options, object and type names"
