#!/bin/sh
# The shipped systemd units pass `systemd-analyze verify` (skipped where
# systemd-analyze is missing). verify wants ExecStart's binary to exist,
# so the built service is pointed at the built mgrd first.
# Usage: test-units.sh BUILT_SERVICE SOCKET MGRD
set -e
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "units: no systemd-analyze here: skipped"
	exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s|^ExecStart=[^ ]*|ExecStart=$3|" "$1" >"$dir/mgrd.service"
cp "$2" "$dir/mgrd.socket"
systemd-analyze verify --man=no "$dir/mgrd.socket" "$dir/mgrd.service"
for want in '^DynamicUser=yes' '^StateDirectory=mgr' '^Requires=mgrd.socket' \
	'^RestrictAddressFamilies=AF_UNIX$' '^NoNewPrivileges=yes'; do
	grep -q "$want" "$dir/mgrd.service" || { echo "units: no $want in mgrd.service"; exit 1; }
done
echo "units: mgrd.socket and mgrd.service verified"
