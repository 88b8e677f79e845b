# SPDX-License-Identifier: MIT
# Thin front end over Meson: `make <target>`. See README.md.
#
#   make demo          the main job, on the simulated platform
#   make check         install what is missing, build, run every test
#   make fuzz          run the fuzzers for FUZZ_SECONDS each (default 600)
#   make bench-engine  the engine benchmark (JSON lines)
#   make deb           the Debian package, in build-deb/ (lintian-checked)
#   make bench-plot    charts from benchmark JSON lines (BENCH_JSON=FILES)

BUILD      ?= build
BUILD_SAN  ?= build-san
BUILD_FUZZ ?= build-fuzz
BUILD_DEB  ?= build-deb
BUILD_REL  ?= build-release
# meson.build's project version: the one source of the version.
VERSION := $(shell sed -n "s/^ *version: '\([^']*\)',.*/\1/p" meson.build | head -n 1)
FUZZ_SECONDS ?= 600
CHECK_FUZZ_SECONDS ?= 30

# Debian packages the build and the tests need.
DEB_PACKAGES = build-essential meson ninja-build pkg-config libxen-dev \
	libcmocka-dev clang libclang-rt-14-dev valgrind xenstore-utils \
	iproute2 iperf3 iputils-ping liburing-dev libseccomp-dev python3 gdb scdoc

FUZZERS = fuzz_tx fuzz_rx fuzz_offload fuzz_front fuzz_xsvalue fuzz_ctrl fuzz_xs_server fuzz_xenbus

PHONY_EXTRA = demo-engine bench-e2e
.PHONY: install all deps build demo check test test-release test-san test-valgrind fuzz-build \
	fuzz check-fuzz bench-engine bench-plot clean lab-build lab-test bench-lab deb deb-deps

all: build

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:" $$missing; \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root (apt-get)" >&2; exit 1; fi; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: deps build
	tools/xnb-demo.sh $(BUILD)

demo-engine: build
	$(BUILD)/tools/xnb-engine-demo

test: build
	meson test -C $(BUILD) --print-errorlogs --logbase check-plain

# The optimised build (-O3, as `meson setup -Dbuildtype=release`): it must
# compile warning-free (-Werror) too, and its unit tests pass; the other
# suites run in the debug-optimised build above.
$(BUILD_REL)/build.ninja:
	meson setup $(BUILD_REL) -Dbuildtype=release

test-release: $(BUILD_REL)/build.ninja
	ninja -C $(BUILD_REL)
	meson test -C $(BUILD_REL) --suite unit --print-errorlogs --logbase check-release

$(BUILD_SAN)/build.ninja:
	meson setup $(BUILD_SAN) -Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fno-sanitize-recover=undefined -Dc_link_args=-fno-sanitize-recover=undefined

test-san: $(BUILD_SAN)/build.ninja
	ninja -C $(BUILD_SAN)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
		meson test -C $(BUILD_SAN) --print-errorlogs --logbase check-san

# Valgrind over the unit tests: memory errors and leaks fail the run.
# (meson names the log after the wrapper: check-valgrind.json)
test-valgrind: build
	meson test -C $(BUILD) --suite unit --print-errorlogs --logbase check \
		--wrapper 'valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible --show-leak-kinds=definite,indirect,possible'

$(BUILD_FUZZ)/build.ninja:
	CC=clang meson setup $(BUILD_FUZZ) -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link

fuzz-build: $(BUILD_FUZZ)/build.ninja
	ninja -C $(BUILD_FUZZ)

fuzz: fuzz-build
	tools/run-fuzzers.sh $(BUILD_FUZZ) $(FUZZ_SECONDS) $(FUZZERS)

check-fuzz: fuzz-build
	tools/run-fuzzers.sh $(BUILD_FUZZ) $(CHECK_FUZZ_SECONDS) $(FUZZERS)

check: deps
	$(MAKE) build
	$(MAKE) test
	$(MAKE) test-release
	$(MAKE) test-san
	$(MAKE) test-valgrind
	$(MAKE) check-fuzz
	@tools/test-summary.sh $(BUILD)/meson-logs/check-plain.json \
		$(BUILD_REL)/meson-logs/check-release.json \
		$(BUILD_SAN)/meson-logs/check-san.json $(BUILD)/meson-logs/check-valgrind.json \
		$(BUILD_FUZZ)/meson-logs/check-fuzz.json

# The Debian package: debian/ with debhelper and meson, built in a copy of
# this tree (without .git and build dirs) under $(BUILD_DEB)/, where the
# .deb, its -dbgsym .deb, .buildinfo and .changes land; lintian must find
# no error. deb-deps installs the build dependencies (debian/control) and
# the tools.
deb-deps:
	@if ! command -v dpkg-checkbuilddeps >/dev/null 2>&1 || ! command -v lintian >/dev/null 2>&1 || \
	    ! dpkg-checkbuilddeps >/dev/null 2>&1; then \
		echo "Installing the package's build dependencies (debian/control), dpkg-dev, lintian"; \
		if [ "$$(id -u)" != 0 ]; then echo "make deb-deps: run as root (apt-get)" >&2; exit 1; fi; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpkg-dev lintian >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq ./ >/dev/null; \
	fi

deb: deb-deps
	rm -rf $(BUILD_DEB)
	mkdir -p $(BUILD_DEB)/xnb-$(VERSION)
	tar -cf - --exclude=./.git --exclude='./build*' --exclude='./obj-*' . | \
		tar -xf - -C $(BUILD_DEB)/xnb-$(VERSION)
	cd $(BUILD_DEB)/xnb-$(VERSION) && dpkg-buildpackage -b -us -uc
	lintian --fail-on error --display-info --pedantic $(BUILD_DEB)/xnb_$(VERSION)_amd64.changes
	@ls -l $(BUILD_DEB)/*.deb

bench-engine: build
	$(BUILD)/bench/bench-engine

bench-e2e: deps build
	bench/bench-e2e.sh $(BUILD)

# Charts (SVG and PNG) from the benchmarks' JSON lines, each against its
# own run's baseline: make bench-plot BENCH_JSON="e2e.jsonl lab.jsonl".
# The default input is the README's numbers; the charts go to BENCH_PLOTS.
BENCH_JSON ?= doc/bench/readme-results.jsonl
BENCH_PLOTS ?= $(BUILD)/bench-plots
bench-plot:
	@command -v gnuplot >/dev/null 2>&1 || { \
		echo "Installing gnuplot-nox"; \
		if [ "$$(id -u)" != 0 ]; then echo "make bench-plot: run as root (apt-get)" >&2; exit 1; fi; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnuplot-nox >/dev/null; }
	python3 tools/bench-plot.py --out $(BENCH_PLOTS) $(BENCH_JSON)

# The Xen lab (tests/lab/README.md): artifacts cached in $XNB_LAB_CACHE
# (default /var/cache/xnb-lab), rebuilt only when the lab's files change.
lab-build:
	tests/lab/build.sh

lab-test:
	tests/lab/test.sh

bench-lab:
	tests/lab/bench.sh

# Installs under meson's prefix (default /usr/local) and creates the system
# user the per-guest workers run as (xnbd --user; nobody if it is missing).
install: build
	meson install -C $(BUILD)
	id -u xnb >/dev/null 2>&1 || useradd --system --no-create-home \
		--home-dir /nonexistent --shell /usr/sbin/nologin xnb

clean:
	rm -rf $(BUILD) $(BUILD_REL) $(BUILD_SAN) $(BUILD_FUZZ) $(BUILD_DEB)
