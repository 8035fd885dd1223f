#!/bin/sh
# Installs the Debian 12 packages mgr needs to build, test and benchmark:
# only those missing, so running it again is quick and changes nothing.
set -eu

PACKAGES="
gcc make pkg-config meson ninja-build
protobuf-c-compiler libprotobuf-c-dev
libevent-dev libcmocka-dev libxxhash-dev libjansson-dev scdoc
libgnutls28-dev liburing-dev openssl iproute2
redis-server libhiredis-dev python3
python3-dev python3-pytest libpython3.11-testsuite
clang libclang-rt-14-dev valgrind
systemd
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "setup: all packages present"
	exit 0
fi

echo "setup: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "setup: done"
