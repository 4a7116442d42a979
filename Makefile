# Syslets, threadlets and switchable address spaces for Linux: a kernel patch series
# (patches/) plus the C++ POSIX AIO library that uses it (userspace/).
#
#   make run      boot the x86_64 kernel with the series and show it working
#   make test     run every test (what CI runs)
#   make test-debug  the syslet selftests on a KASAN/lockdep/kmemleak kernel
#   make bench    benchmarks B1-B7 (one QEMU run + host): ratios in build/bench/results.md
#
# Series workflow: make tree -> commit in build/linux (branch series) -> make export ->
# make series-check. See README.md.

ARCH ?= x86_64
SUITE ?=
export KSRC KVARIANT KCONFIG_OFF TIMEOUT V

.PHONY: all setup tree export series-check series-bisect kernel vm-test run test \
	test-debug test-harness bench clean help

all: help

help:
	@sed -n 's/^#   //p;s/^# \(Series\)/\1/p' $(firstword $(MAKEFILE_LIST))

setup:
	@tools/scripts/setup.sh

tree: setup
	@tools/series/tree.sh

export:
	@tools/series/export.sh

series-check: setup
	@tools/series/check.sh

series-bisect: setup
	@tools/series/bisect.sh

# The x86_64 test kernel from base + patches/ (or KSRC=...), without booting it.
kernel: setup
	@tools/vm/kbuild.sh $(ARCH) $${KSRC:-$$(tools/series/testtree.sh)} build/kbuild/$(ARCH)

# make vm-test ARCH=x86_64 SUITE=async [KSRC=build/wt-async] [V=1]
vm-test: setup
	@test -n "$(SUITE)" || { echo "usage: make vm-test ARCH=$(ARCH) SUITE=<suite> [KSRC=tree]"; exit 2; }
	@tools/vm/vm-test.sh $(ARCH) $(SUITE)

run: setup
	@V=1 tools/vm/vm-test.sh x86_64 demo

test: setup
	@tools/test-all.sh

# Debug kernel (tools/configs/debug.config): any splat fails; kmemleak must find nothing.
test-debug: setup
	@tools/vm/test-debug.sh

# Ratios measured side by side (QEMU under TCG); tools/bench/README.md.
bench: setup
	@tools/bench/bench.sh

clean:
	rm -rf build/kbuild build/vm build/kselftest build/logs build/userspace* build/bench
