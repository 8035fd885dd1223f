#!/bin/sh
# libmgrserver.pc (issue 17): install into a temporary directory, then with
# nothing but `pkg-config libmgrserver` build (1) examples/employee.c, a
# program serving its own Employee type, and run it, and (2) the Employee
# type as an out-of-tree module, load it into the installed mgrd
# (--module) and see the type with the installed mgrctl.
# usage: test-install-module.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
dest=$(mktemp -d /tmp/mgr-install-module-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$dest"' EXIT
fail() { echo "test-install-module: $*" >&2; exit 1; }

meson install -C "$build" --no-rebuild --destdir "$dest" --quiet >/dev/null
pc=$(find "$dest" -name libmgrserver.pc | head -n 1)
[ -n "$pc" ] || fail "libmgrserver.pc was not installed"
root=${pc%/lib/*}
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$dest"
flags=$(pkg-config --cflags --libs libmgrserver) || fail "pkg-config libmgrserver failed"
cflags=$(pkg-config --cflags libmgrserver)
ex=$src/examples
cd "$dest"
${CC:-cc} -o employee "$ex/employee.c" "$ex/employee-type.c" "$ex/workers.c" "$ex/scenarios.c" \
	$flags || fail "examples/employee.c does not build from libmgrserver.pc"
so=$(find "$root" -name 'libmgr.so.0*' -type f | head -n 1)
export LD_LIBRARY_PATH="$(dirname "$so")" MGR_MGRD="$root/sbin/mgrd"
./employee >out 2>&1 || { tail -5 out; fail "employee built from libmgrserver.pc failed"; }

${CC:-cc} -shared -fPIC -o employee.so "$ex/employee-module.c" "$ex/employee-type.c" $cflags ||
	fail "the Employee module does not build with libmgrserver's cflags"
export MGR_SOCKET="$dest/mgrd.sock"
"$root/sbin/mgrd" --socket "$MGR_SOCKET" --module "$dest/employee.so" --log-level warn &
pid=$!
i=0
until "$root/bin/mgrctl" types >types 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "mgrd with the module did not start"
	kill -0 $pid 2>/dev/null || fail "mgrd refused the module"
	sleep 0.1
done
grep -qi employee types || { cat types; fail "the module's type is not served"; }
echo "test-install-module: ok (a program and a module from libmgrserver.pc)"
