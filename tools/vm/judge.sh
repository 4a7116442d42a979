#!/usr/bin/env bash
# judge.sh LOG [--qemu-rc N]: decide whether a VM run passed, from its console log.
# Fails on: no VMTEST-DONE line (hang, panic, crash), any top-level "not ok", no test at
# all, or any kernel splat line (Oops, BUG, WARNING, KASAN, UBSAN, lockdep, RCU stall,
# kmemleak, panic; the stack dump of an OOM report only if no test announced it). Prints the
# offending lines and a one-line verdict.
set -uo pipefail
log=$1
qrc=
[ "${2:-}" = --qemu-rc ] && qrc=${3:-}

# Kernel messages carry a printk timestamp; test output is prefixed with "# " by /init. A
# kernel line can land in the middle of a test's line on the console, so it is not anchored.
splat='\[ *[0-9]+\.[0-9]+\] .*(Oops|BUG:|WARNING:|KASAN|UBSAN|kernel BUG|general protection fault|Kernel panic|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|INFO: task .* blocked|rcu_sched self-detected stall|RCU stall|unreferenced object|Call Trace:|cut here)'
fail=0
why=()
# A test that means to invoke the OOM killer writes "vmtest: expecting oom-killer" to
# /dev/kmsg first. After that line, and only inside an OOM report (from "invoked
# oom-killer:" to its "Killed process" or "oom-kill:" line), the report's stack dump
# ("Call Trace:") is not a splat; every other splat word still is.
if awk -v re="$splat" '
	/vmtest: expecting oom-killer/ { expect = 1 }
	/invoked oom-killer:/ { in_oom = expect }
	$0 ~ re && !(in_oom && /Call Trace:/) { print NR ":" $0; found = 1 }
	/Killed process|oom-kill:/ { in_oom = 0 }
	END { exit !found }' "$log" >/tmp/judge.$$ 2>/dev/null; then
	fail=1
	why+=("kernel splat")
	echo "---- kernel splat lines:"
	head -40 /tmp/judge.$$
fi
rm -f /tmp/judge.$$
done_line=$(grep -aE '^VMTEST-DONE ' "$log" | tail -1)
if [ -z "$done_line" ]; then
	fail=1
	why+=("run did not finish (no VMTEST-DONE; qemu rc ${qrc:-?})")
	echo "---- last console lines:"
	tail -25 "$log"
fi
if grep -aqE '^not ok ' "$log"; then
	fail=1
	why+=("$(grep -acE '^not ok ' "$log") test program(s) failed")
	grep -aE '^not ok ' "$log"
fi
pass=$(grep -acE '^ok [0-9]+ .*' "$log" || true)
skip=$(grep -acE '^ok [0-9]+ .*# SKIP' "$log" || true)
nfail=$(grep -acE '^not ok ' "$log" || true)
if [ -n "$done_line" ] && [ $((pass + nfail)) -eq 0 ]; then
	fail=1
	why+=("no test ran")
fi
# Subtest totals as printed by kselftest_harness ("# Totals: pass:N fail:N ...").
totals=$(grep -aoE '^# # Totals: .*' "$log" | awk '{for (i=3;i<=NF;i++){split($i,a,":"); s[a[1]]+=a[2]}} END {printf "subtests pass:%d fail:%d skip:%d", s["pass"], s["fail"], s["skip"]}')
if [ $fail -eq 0 ]; then
	echo "vm-test: PASS: $((pass - skip)) program(s) passed, $skip skipped${totals:+; $totals} ($log)"
	exit 0
fi
echo "vm-test: FAIL: $(IFS=';'; echo "${why[*]}") ($log)"
exit 1
