#!/bin/sh
# Drop-in test.
#   check.sh PROG LIB [SANRT]  PROG is a plain program (no shim linked); run
#                         it with LD_PRELOAD=LIB (after SANRT, the sanitizer
#                         runtime, in sanitizer builds)
#   check.sh PROG linked  PROG is linked with -lasyncaio
# The shim writes an exit report when ASYNCAIO_STATS=<file> is set; glibc
# does not. The report proves the shim (not glibc) served the calls, and
# counts them: 4 writes + 1 fsync + 4 reads = 9, and 4 SIGEV_SIGNALs.
set -eu
prog=$1 lib=$2 san=${3:-}
stats=$(mktemp)
trap 'rm -f "$stats"' EXIT
if [ "$lib" != linked ]; then
	# Baseline: the same binary passes on glibc alone, and no report appears.
	ASYNCAIO_STATS="$stats" "$prog"
	if [ -s "$stats" ]; then echo "FAIL: shim report without LD_PRELOAD"; exit 1; fi
	pre=$lib
	[ -n "$san" ] && pre="$san:$lib"
	LD_PRELOAD="$pre" ASYNCAIO_STATS="$stats" "$prog"
else
	ASYNCAIO_STATS="$stats" "$prog"
fi
cat "$stats"
grep -q "submitted=9 completed=9 " "$stats" || { echo "FAIL: requests did not go through the shim"; exit 1; }
grep -q "signals=4 " "$stats" || { echo "FAIL: SIGEV_SIGNAL not sent by the shim"; exit 1; }
echo "PASS: drop-in ($lib)"
