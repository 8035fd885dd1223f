#!/bin/sh
# The mutation check (`make mutants`): every promise mgr makes has a small
# deliberate bug in scripts/mutants.txt that breaks it, and the test suite
# must fail with each one in. A copy of the tree (HEAD, or the working tree
# with --worktree) is built once in a scratch directory; each mutant is
# applied there by an exact textual substitution (its snippet must occur
# exactly once, else the run stops before building anything), built
# incrementally, tested, and the file is put back. Prints a table and exits
# non-zero if any mutant survived or could not be applied or built.
#
#   scripts/mutants.sh [--worktree] [--check] [--keep] [--list FILE] [NAME...]
#
#   --worktree  copy the working tree (tracked and untracked, not ignored)
#               instead of HEAD
#   --check     only check that every snippet applies exactly once
#   --keep      keep the scratch directory (its path is printed)
#   --list F    the mutant list (default scripts/mutants.txt)
#   NAME...     only these mutants
#
# Environment: MUTANTS_JOBS (meson test --num-processes, default 2),
# MUTANTS_TIMEOUT_MULT (meson test -t, default 0.2: an integration test
# gets 60 s, so a mutant that makes a test hang counts as killed and the
# run stays bounded), MUTANTS_DIR (scratch directory, default a fresh one
# under /tmp).
#
# A mutant's `tests:` line names the tests most likely to catch it: they
# run first (stopping at the first failure); only if they all pass does the
# whole suite run, so SURVIVED always means the whole suite passed.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
list=$root/scripts/mutants.txt
worktree=0 check=0 keep=0
while [ $# -gt 0 ]; do
	case $1 in
	--worktree) worktree=1 ;;
	--check) check=1 ;;
	--keep) keep=1 ;;
	--list) list=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift ;;
	-h | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	--*) echo "mutants: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
jobs=${MUTANTS_JOBS:-2}
tmult=${MUTANTS_TIMEOUT_MULT:-0.2}
[ -f "$list" ] || { echo "mutants: no list $list" >&2; exit 2; }

scratch=${MUTANTS_DIR:-$(mktemp -d /tmp/mgr-mutants.XXXXXX)}
mkdir -p "$scratch"
tree=$scratch/tree
build=$tree/build
cleanup() {
	if [ "$keep" = 1 ]; then
		echo "mutants: scratch directory kept: $scratch"
	else
		rm -rf "$scratch"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the list: parsing, applying, restoring (python, one helper) ----
tool=$scratch/mutants-tool.py
cat >"$tool" <<'EOF'
"""mutants.txt: blocks of
    == name
    file: path [path...]        (globs allowed; the snippet must occur once
                                 in all of them together)
    promise: what the mutant breaks
    tests: suite test names to try first (optional)
    --- old
    exact lines (whitespace runs match any whitespace run)
    --- new
    replacement lines (may be none: the old lines are deleted)
A blank line ends an old or new block. Lines starting with '#' outside old/new blocks are comments."""
import glob, os, re, sys


def parse(path):
    muts, cur, mode = [], None, None
    for n, line in enumerate(open(path, encoding="utf-8").read().split("\n"), 1):
        if line.startswith("== "):
            cur = {"name": line[3:].strip(), "line": n, "old": [], "new": []}
            muts.append(cur)
            mode = None
        elif cur is None:
            if line.strip() and not line.startswith("#"):
                sys.exit(f"{path}:{n}: text before the first '== name'")
        elif line in ("--- old", "--- new"):
            mode = line[4:]
        elif mode and line.strip():
            cur[mode].append(line)
        elif mode:
            mode = None  # a blank line ends an old or new block
        elif line.startswith("#") or not line.strip():
            pass
        else:
            key, _, val = line.partition(":")
            if key not in ("file", "promise", "tests"):
                sys.exit(f"{path}:{n}: unknown field '{key}'")
            cur[key] = val.strip()
    names = set()
    for m in muts:
        for f in ("file", "promise"):
            if not m.get(f):
                sys.exit(f"{path}:{m['line']}: mutant {m['name']} has no {f}:")
        for f in ("old", "new"):
            while m[f] and not m[f][-1].strip():
                m[f].pop()
        if not m["old"]:
            sys.exit(f"{path}:{m['line']}: mutant {m['name']} has no old snippet")
        if m["name"] in names:
            sys.exit(f"{path}:{m['line']}: mutant {m['name']} twice")
        names.add(m["name"])
    return muts


def pattern(old):
    words = "\n".join(old).split()
    return re.compile(r"\s+".join(re.escape(w) for w in words))


def locate(tree, m):
    """(file, match) of the one occurrence, or an error message."""
    files = []  # a glob may match nothing (a file to come), not all of them
    for g in m["file"].split():
        files += sorted(glob.glob(os.path.join(tree, g)))
    if not files:
        return f"no file {m['file']}"
    pat, found = pattern(m["old"]), []
    for f in files:
        text = open(f, encoding="utf-8").read()
        found += [(f, mt) for mt in pat.finditer(text)]
    if len(found) != 1:
        where = ", ".join(sorted({os.path.relpath(f, tree) for f, _ in found}))
        return f"old snippet found {len(found)} times (want 1){': ' + where if where else ''}"
    return found[0]


def get(muts, name):
    for m in muts:
        if m["name"] == name:
            return m
    sys.exit(f"no mutant named {name}")


def main():
    cmd, lst = sys.argv[1], sys.argv[2]
    muts = parse(lst) if cmd != "restore" else []
    if cmd == "names":
        print("\n".join(m["name"] for m in muts))
    elif cmd == "field":  # field NAME KEY
        print(get(muts, sys.argv[3]).get(sys.argv[4], ""))
    elif cmd == "check":  # check TREE [NAME...]: every snippet once
        tree, want, bad = sys.argv[3], set(sys.argv[4:]), 0
        for m in muts:
            if want and m["name"] not in want:
                continue
            r = locate(tree, m)
            if isinstance(r, str):
                print(f"mutants: {m['name']} ({lst}:{m['line']}): {r}", file=sys.stderr)
                bad += 1
        sys.exit(1 if bad else 0)
    elif cmd == "apply":  # apply TREE NAME SAVE: mutate, keep the original
        tree, m, save = sys.argv[3], get(muts, sys.argv[4]), sys.argv[5]
        r = locate(tree, m)
        if isinstance(r, str):
            sys.exit(f"mutants: {m['name']}: {r}")
        f, mt = r
        text = open(f, encoding="utf-8").read()
        with open(save, "w", encoding="utf-8") as out:
            out.write(f + "\n" + text)
        # the new lines, re-indented from where the match starts
        lines = m["new"] or [""]
        lead = lines[0][: len(lines[0]) - len(lines[0].lstrip())]
        lines = [l[len(lead):] if l.startswith(lead) else l for l in lines]
        indent = text[text.rfind("\n", 0, mt.start()) + 1 : mt.start()]
        indent = indent if indent.strip() == "" else ""
        new = ("\n" + indent).join(lines)
        with open(f, "w", encoding="utf-8") as out:
            out.write(text[: mt.start()] + new + text[mt.end() :])
        print(os.path.relpath(f, tree))
    elif cmd == "restore":  # restore SAVE: the original back, a new mtime
        save = sys.argv[2]
        f, _, text = open(save, encoding="utf-8").read().partition("\n")
        with open(f, "w", encoding="utf-8") as out:
            out.write(text)
        os.remove(save)
    else:
        sys.exit(f"unknown command {cmd}")


main()
EOF
mt() { python3 "$tool" "$@"; }

# ---- the scratch copy ----
rm -rf "$tree"
mkdir -p "$tree"
if [ "$worktree" = 1 ]; then
	(cd "$root" && git ls-files -z -c -o --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done; :' sh |
		tar --null -T - -cf -) | tar -xf - -C "$tree"
	what="working tree of $root"
else
	(cd "$root" && git archive HEAD) | tar -xf - -C "$tree"
	what="HEAD $(cd "$root" && git rev-parse --short HEAD)"
fi
echo "mutants: $what in $tree"

names=$(mt names "$list")
if [ $# -gt 0 ]; then
	for n; do echo "$names" | grep -qx -- "$n" || { echo "mutants: no mutant $n" >&2; exit 2; }; done
	names=$(printf '%s\n' "$@")
fi
# shellcheck disable=SC2086
if ! mt check "$list" "$tree" $names; then
	echo "mutants: FAILED: the list is out of step with the code (see above)" >&2
	exit 1
fi
count=$(echo "$names" | wc -l)
echo "mutants: all $count snippets apply exactly once"
[ "$check" = 1 ] && exit 0

# ---- build and the unmutated suite ----
log=$scratch/log
mkdir -p "$log"
meson setup "$build" "$tree" >"$log/setup.txt" 2>&1 ||
	{ cat "$log/setup.txt"; echo "mutants: meson setup failed" >&2; exit 1; }
ninja -C "$build" >"$log/build.txt" 2>&1 ||
	{ tail -40 "$log/build.txt"; echo "mutants: the unmutated tree does not build" >&2; exit 1; }

# run_tests OUT [TEST...]: 0 if every test passed
run_tests() {
	out=$1
	shift
	meson test -C "$build" --no-rebuild --num-processes "$jobs" -t "$tmult" \
		--maxfail 1 "$@" >"$out" 2>&1
}

# the tests that failed in a meson test output
failed_in() {
	sed -n 's/^ *[0-9]*\/[0-9]* *[^ ]* *\/ *\([^ ]*\) *\(FAIL\|TIMEOUT\|ERROR\).*/\1/p' "$1" |
		sort -u | tr '\n' ' ' | sed 's/ $//'
}

start=$(date +%s)
if ! run_tests "$log/baseline.txt"; then
	grep -E 'FAIL|TIMEOUT|ERROR' "$log/baseline.txt" | head -20
	echo "mutants: the unmutated suite fails ($(failed_in "$log/baseline.txt")); nothing to measure" >&2
	exit 1
fi
echo "mutants: unmutated suite passes ($(($(date +%s) - start)) s)"

# ---- each mutant ----
results=$scratch/results
: >"$results"
bad=0
i=0
for n in $names; do
	i=$((i + 1))
	t0=$(date +%s)
	file=$(mt apply "$list" "$tree" "$n" "$scratch/orig")
	tests=$(mt field "$list" "$n" tests)
	if ! ninja -C "$build" >"$log/$n.build.txt" 2>&1; then
		status=NOBUILD by="see $log/$n.build.txt"
	else
		status=SURVIVED by=
		# shellcheck disable=SC2086
		if [ -n "$tests" ] && ! run_tests "$log/$n.first.txt" $tests; then
			status=KILLED by=$(failed_in "$log/$n.first.txt")
		elif ! run_tests "$log/$n.txt"; then
			status=KILLED by=$(failed_in "$log/$n.txt")
		fi
	fi
	mt restore "$scratch/orig"
	[ "$status" = KILLED ] || bad=$((bad + 1))
	printf '%s\t%s\t%s\t%s\n' "$n" "$status" "$(mt field "$list" "$n" promise)" "$by" >>"$results"
	printf 'mutants: [%d/%d] %-28s %-8s %3ds  %s\n' "$i" "$count" "$n" "$status" \
		$(($(date +%s) - t0)) "$by"
done
ninja -C "$build" >/dev/null 2>&1 || true

# ---- the table ----
echo
awk -F '\t' '{ n[NR] = $1; s[NR] = $2; p[NR] = $3; b[NR] = $4 == "" ? "-" : $4
	if (length($1) > w1) w1 = length($1); if (length(b[NR]) > w3) w3 = length(b[NR]) }
END { if (w1 < 6) w1 = 6; if (w3 < 9) w3 = 9
	printf "%-" w1 "s  %-8s  %-" w3 "s  %s\n", "MUTANT", "RESULT", "KILLED BY", "PROMISE"
	for (i = 1; i <= NR; i++)
		printf "%-" w1 "s  %-8s  %-" w3 "s  %s\n", n[i], s[i], b[i], p[i] }' "$results"
echo
echo "mutants: $((count - bad)) of $count killed, $(($(date +%s) - start)) s, $what"
if [ "$bad" -gt 0 ]; then
	echo "mutants: FAILED: $bad mutant(s) not killed" >&2
	exit 1
fi
