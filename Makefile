# A thin wrapper over meson: `make demo` and `make test` work on a fresh
# Debian 12 machine (they run the setup script first).
BUILD ?= build
ASAN ?= build-asan
MESON_TEST ?= meson test --print-errorlogs --num-processes 2

.PHONY: all setup build test test-plain test-asan test-tsan demo bench bench-quick clean fuzz chaos \
	test-python test-python-compat \
	mutants

all: build

setup:
	@sh scripts/setup.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD)

$(ASAN)/build.ninja:
	meson setup $(ASAN) -Db_sanitize=address,undefined -Db_lundef=false

build: setup $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Every test, plain, under ASan + UBSan (leaks too) and under ThreadSanitizer.
test: build test-plain test-asan test-tsan

test-plain: $(BUILD)/build.ninja
	ninja -C $(BUILD)
	$(MESON_TEST) -C $(BUILD)

test-asan: $(ASAN)/build.ninja
	ninja -C $(ASAN)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(MESON_TEST) -C $(ASAN)

# ThreadSanitizer: the whole suite (the threads, pool and chaos tests are
# the multi-threaded ones), about a minute.
TSAN ?= build-tsan
$(TSAN)/build.ninja:
	meson setup $(TSAN) -Db_sanitize=thread -Db_lundef=false -Dtests=enabled

test-tsan: $(TSAN)/build.ninja
	ninja -C $(TSAN)
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 $(MESON_TEST) -C $(TSAN)

# libFuzzer targets (fuzz/): each runs FUZZ_SECONDS; see fuzz/run.sh.
FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 60
$(FUZZ)/build.ninja:
	CC=clang meson setup $(FUZZ) -Dfuzz=enabled -Db_sanitize=address,undefined \
		-Db_lundef=false -Dtests=disabled

fuzz: $(FUZZ)/build.ninja
	ninja -C $(FUZZ)
	sh fuzz/run.sh $(FUZZ) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The mutation check: each deliberate bug in scripts/mutants.txt, applied
# alone to a scratch copy of HEAD, must make the suite fail (~15 min;
# MUTANTS_ARGS=--worktree tests uncommitted changes, --check only checks
# that the list still applies).
mutants:
	sh scripts/mutants.sh $(MUTANTS_ARGS)

# Chaos for minutes (tests/test-chaos.c, ring then socket, CHAOS_SECONDS
# each): each run ends with a "chaos summary" line (kills, group kills,
# calls, items put/got/lost/duplicated, owner-died marks, crashes).
# scripts/chaos-runs.sh repeats it (RUNS=30 runs of CHAOS_SECONDS=20) and counts
# the runs in which mgrd crashed.
CHAOS_SECONDS ?= 120
chaos: $(BUILD)/build.ninja
	ninja -C $(BUILD)
	MGR_CHAOS_SECONDS=$(CHAOS_SECONDS) meson test -C $(BUILD) --suite chaos -v \
		--timeout-multiplier 0 --print-errorlogs

# The C showcase, then the seed Python program (python/examples/employee.py,
# only its import changed) through the built package: it checks its own
# result (zhangsan:2000) and exits non-zero otherwise.
PYTHON ?= /usr/bin/python3
PYENV = PYTHONPATH=$(CURDIR)/$(BUILD)/python:$(CURDIR)/python
demo: build
	MGR_MGRD=$(CURDIR)/$(BUILD)/mgrd/mgrd $(BUILD)/examples/demo
	@printf '\ndemo: the seed Python program, one import changed (python/examples/employee.py):\n'
	$(PYENV) $(PYTHON) python/examples/employee.py
	@echo 'demo: python: ten processes raised zhangsan to 2000; result: OK'

# Benchmarks against the peers (bench/README.md), in the $(BUILD) tree
# (debugoptimized: -O2): figures on stdout and in $(BUILD)/bench.json.
# bench-quick is CI's smoke check; neither has thresholds.
bench: build
	MGR_MGRD=$(CURDIR)/$(BUILD)/mgrd/mgrd MGR_EMPLOYEE_MODULE=$(CURDIR)/$(BUILD)/examples/libemployee.so python3 bench/run.py --build $(BUILD)

bench-quick: $(BUILD)/build.ninja
	ninja -C $(BUILD)
	MGR_MGRD=$(CURDIR)/$(BUILD)/mgrd/mgrd MGR_EMPLOYEE_MODULE=$(CURDIR)/$(BUILD)/examples/libemployee.so python3 bench/run.py --build $(BUILD) --quick

# CPython's own manager tests (test/_test_multiprocessing.py, Debian's
# libpython3.11-testsuite) with the mgr package swapped in, fork, spawn and
# forkserver; compared with python/compat/expected-failures.txt.
# MGR_COMPAT_STDLIB=1 runs the same selection on CPython's manager.
test-python-compat: $(BUILD)/build.ninja
	ninja -C $(BUILD) python/_mgr.cpython-311-x86_64-linux-gnu.so
	$(PYENV) $(PYTHON) python/compat/run_compat.py

# The Python package's own tests and examples (also in meson's suite 'python').
test-python: $(BUILD)/build.ninja
	ninja -C $(BUILD)
	meson test -C $(BUILD) --print-errorlogs --suite python

# Every build tree a target here makes (plain, ASan, TSan, fuzz).
clean:
	rm -rf $(BUILD) $(ASAN) $(TSAN) $(FUZZ)
