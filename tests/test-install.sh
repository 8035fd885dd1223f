#!/bin/sh
# meson install into a temporary directory, check what lands there, then
# build a worker and examples/shared_dict.c against the installed libmgr.pc
# and run them.
# usage: test-install.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
dest=$(mktemp -d /tmp/mgr-install-XXXXXX)
trap 'rm -rf "$dest"' EXIT

meson install -C "$build" --no-rebuild --destdir "$dest" --quiet >/dev/null
prefix=$(meson introspect "$build" --buildoptions |
	python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
root=$dest$prefix

fail() { echo "test-install: $*" >&2; exit 1; }
for f in sbin/mgrd bin/mgrctl include/mgr/mgr.h include/mgr/value.h include/mgr/error.h \
	share/man/man8/mgrd.8 share/man/man1/mgrctl.1 share/man/man3/libmgr.3 \
	lib/systemd/system/mgrd.service lib/systemd/system/mgrd.socket; do
	[ -e "$root/$f" ] || fail "$f was not installed"
done
pc=$(find "$root" -name libmgr.pc | head -n 1)
[ -n "$pc" ] || fail "libmgr.pc was not installed"
so=$(find "$root" -name 'libmgr.so.0*' -type f | head -n 1)
readelf -d "$so" | grep -q 'SONAME.*libmgr.so.0' || fail "libmgr.so has no SONAME libmgr.so.0"
grep -q "^Type=notify" "$root/lib/systemd/system/mgrd.service" || fail "mgrd.service is not Type=notify"
grep -q "ExecStart=$prefix/sbin/mgrd" "$root/lib/systemd/system/mgrd.service" ||
	fail "mgrd.service does not run $prefix/sbin/mgrd"

# The sysroot makes pkg-config point into the destdir.
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$dest"
flags=$(pkg-config --cflags --libs libmgr) || fail "pkg-config libmgr failed"
# A worker built only from the installed header and libmgr.pc; then a
# shipped example that needs nothing but libmgr.
cat >"$dest/worker.c" <<'C'
#include <mgr/mgr.h>
#include <stdio.h>
int main(void)
{
	mgr_manager *m;
	mgr_client *c;
	mgr_object *k;
	int64_t n = 0;
	int err = mgr_manager_start(NULL, &m);
	if (!err)
		err = mgr_client_connect(mgr_manager_address(m), &c);
	if (!err)
		err = mgr_counter_open(c, "hits", &k);
	if (!err)
		err = mgr_counter_add(k, 2, &n);
	printf("%s %lld\n", mgr_strerror(err), (long long)n);
	return err || n != 2 || mgr_manager_shutdown(m);
}
C
${CC:-cc} -o "$dest/worker" "$dest/worker.c" $flags || fail "a worker does not build from libmgr.pc"
export LD_LIBRARY_PATH="$(dirname "$so")" MGR_MGRD="$root/sbin/mgrd"
"$dest/worker" >/dev/null || fail "a worker built against the installed libmgr failed"
ex=$src/examples
${CC:-cc} -o "$dest/shared_dict" "$ex/shared_dict.c" "$ex/workers.c" "$ex/scenarios.c" $flags ||
	fail "examples/shared_dict.c does not build from libmgr.pc"
"$dest/shared_dict" >/dev/null || fail "examples/shared_dict failed against the installed libmgr"
LD_LIBRARY_PATH="$(dirname "$so")" "$root/bin/mgrctl" help >/dev/null || fail "installed mgrctl does not run"
echo "test-install: ok ($prefix)"
