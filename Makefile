# A thin wrapper over meson: `make demo` and `make test` work on a fresh
# Debian 12 machine (they run the setup script first).
BUILD ?= build
ASAN ?= build-asan
MESON_TEST ?= meson test --print-errorlogs --num-processes 2

.PHONY: all setup build test test-plain test-asan demo bench bench-quick clean

all: build

setup:
	@sh scripts/setup.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD)

$(ASAN)/build.ninja:
	meson setup $(ASAN) -Db_sanitize=address,undefined -Db_lundef=false

build: setup $(BUILD)/build.ninja
	ninja -C $(BUILD)

test: build test-plain test-asan

test-plain: $(BUILD)/build.ninja
	ninja -C $(BUILD)
	$(MESON_TEST) -C $(BUILD)

test-asan: $(ASAN)/build.ninja
	ninja -C $(ASAN)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(MESON_TEST) -C $(ASAN)

demo: build
	MGR_MGRD=$(CURDIR)/$(BUILD)/mgrd/mgrd $(BUILD)/examples/demo

clean:
	rm -rf $(BUILD) $(ASAN)
