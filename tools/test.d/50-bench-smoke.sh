# Sourced by tools/test-all.sh: a short run of every make-bench case (tools/bench/bench.sh
# --smoke: B6 on the host, B1-B5 and B7 in one QEMU run). It never fails on timing, only if
# a benchmark program crashes or a case produces no numbers. About 20 s once built (1-2 min
# when the shim and the programs are built first).
step bench-smoke pass tools/bench/bench.sh --smoke
