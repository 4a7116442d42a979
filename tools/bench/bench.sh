#!/usr/bin/env bash
# bench.sh [--smoke]: make bench (tools/bench/README.md). Runs B6 on the host, boots the
# x86_64 test kernel once in QEMU for B1-B5 and B7 (suite tools/vm/suites/bench), and writes
# build/bench/results.md (the table of ratios and the raw numbers) and
# build/bench/bench-results.txt (the short table for the cover letter; BENCH_UPDATE_SERIES=1
# copies it to tools/series/bench-results.txt).
#
# --smoke (make test): every case briefly; fails only if a program crashes or a case
# produced no numbers, never on timing. Results in build/bench/results-smoke.md.
#
# The VM run holds build/.vm.lock (flock), so it never overlaps another VM run that does.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"
out=$TOP/build/bench
mkdir -p "$out" build/logs
sfx= kappend=
if [ "${1:-}" = --smoke ]; then
	sfx=-smoke
	export BENCH_MODE=smoke
	kappend=BENCH_MODE=smoke
else
	unset BENCH_MODE
fi
t0=$(date +%s)
rc=0

echo "== bench: host (B6)"
if tools/bench/build-progs.sh "$out/host" "$TOP/include/uapi" bench_host; then
	"$out/host/bench_host" "$out" >"$out/host$sfx.out" 2>&1 || { echo "bench: bench_host failed" >&2; rc=1; }
	grep -E '^BENCH(SKIP)? ' "$out/host$sfx.out" | tail -3
	# Diagnostic: the same comparison with the shim limited to 2 workers (one per core).
	BENCH_TAG=2workers ASYNCAIO_THREADS=2 "$out/host/bench_host" "$out" >>"$out/host$sfx.out" 2>&1 ||
		{ echo "bench: bench_host (2 workers) failed" >&2; rc=1; }
else
	echo "bench: building bench_host failed" >&2
	: >"$out/host$sfx.out"
	rc=1
fi

echo "== bench: guest (B1-B5, B7), one VM run"
log=build/logs/x86_64-bench$sfx.log
rm -f "$log"
flock "$TOP/build/.vm.lock" env KAPPEND="${KAPPEND:-} $kappend" LOGNAME_SUFFIX="$sfx" \
	tools/vm/vm-test.sh x86_64 bench || { echo "bench: the VM run failed (see $log)" >&2; rc=1; }
[ -f "$log" ] || { : >"$log"; rc=1; }

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
kver=$(grep -aoE 'BENCHINFO kernel [^,]*' "$log" | head -1 | sed 's/BENCHINFO kernel //')
ksrc="series of $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- patches || echo ' + uncommitted patches/')"
[ -z "${KSRC:-}" ] || ksrc=$KSRC
where="${kver:-the test kernel} ($ksrc) in QEMU $(qemu-system-x86_64 --version | head -1 | awk '{print $4}') TCG, 2 vCPUs, on $(nproc) host cores ($cpu); B6 on the host ($(uname -r))"
python3 tools/bench/report.py --guest "$log" --host "$out/host$sfx.out" --out "$out/results$sfx.md" \
	--series "$out/bench-results$sfx.txt" --where "$where" --strict || rc=1
if [ -z "$sfx" ] && [ "${BENCH_UPDATE_SERIES:-0}" = 1 ] && [ $rc -eq 0 ]; then
	cp "$out/bench-results.txt" tools/series/bench-results.txt
	echo "bench: tools/series/bench-results.txt updated"
fi
echo "bench: $(($(date +%s) - t0)) s; results in $out/results$sfx.md"
exit $rc
