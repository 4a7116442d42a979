#!/usr/bin/env bash
# make test: every test of the project, each step judged on its own, then one summary line.
# Steps run in order; a failed step does not stop the others, but fails the run.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
mkdir -p build/logs
passed=0 failed=0 skipped=0
results=()

step() { # step NAME EXPECT(pass|fail) CMD...
	local name=$1 expect=$2 rc t0 t1
	shift 2
	echo
	echo "######## $name"
	t0=$(date +%s)
	"$@" 2>&1 | tee "build/logs/step-$name.log"
	rc=${PIPESTATUS[0]}
	t1=$(date +%s)
	if { [ "$expect" = pass ] && [ $rc -eq 0 ]; } || { [ "$expect" = fail ] && [ $rc -ne 0 ]; }; then
		passed=$((passed + 1)); results+=("PASS  $name ($((t1 - t0))s)")
	elif [ "$expect" = pass ] && [ $rc -eq 4 ]; then
		skipped=$((skipped + 1)); results+=("SKIP  $name ($((t1 - t0))s)")
	else
		failed=$((failed + 1)); results+=("FAIL  $name ($((t1 - t0))s, exit $rc, expected $expect)")
	fi
}

vm() { tools/vm/vm-test.sh "$@"; }

step series-check pass tools/series/check.sh
# The harness proves itself: a passing suite and an in-tree kselftest collection pass, and a
# failing test program or a kernel splat each fail the run.
step vm-x86_64-pidfd pass vm x86_64 harness-pass pidfd
step vm-harness-detects-failure fail vm x86_64 harness-fail
step vm-harness-detects-splat fail vm x86_64 harness-splat
for s in tools/test.d/*.sh; do
	[ -e "$s" ] || continue
	. "$s"
done

echo
echo "######## summary"
printf '%s\n' "${results[@]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
