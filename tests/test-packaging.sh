#!/bin/sh
# Small promises to people who package and build mgr (issue 17):
# `mgrd --version` prints the version and exits 0, and `make clean`
# removes every build tree a Makefile target sets up.
# usage: test-packaging.sh SOURCE_DIR MGRD VERSION
set -u
src=$1 mgrd=$2 version=$3
fail() { echo "packaging: $*"; exit 1; }
out=$("$mgrd" --version) || fail "mgrd --version exited non-zero"
[ "$out" = "mgrd $version" ] || fail "mgrd --version said '$out', not 'mgrd $version'"
"$mgrd" --help | grep -q -- '--version' || fail "mgrd --help does not list --version"
clean=$(make -s -n -C "$src" clean) || fail "make -n clean failed"
# each tree: the directory a "$(X)/build.ninja:" rule sets up, as make expands it
for var in $(sed -n 's/^\$(\([A-Z_]*\))\/build.ninja:.*/\1/p' "$src/Makefile"); do
	dir=$(make -s -C "$src" --eval "print-$var: ; @echo \$($var)" "print-$var")
	echo "$clean" | grep -q -- " $dir\( \|$\)" || fail "make clean leaves $var ($dir)"
done
echo "packaging: mgrd --version, make clean removes every build tree"
