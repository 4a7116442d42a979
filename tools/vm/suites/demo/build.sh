#!/usr/bin/env bash
# build.sh STAGE_DIR HDR_DIR, called by tools/vm/vm-test.sh: the POSIX AIO demonstration of
# `make run`, userspace/examples/aio_pipe_demo.c linked statically with the C++ library, so
# that its aio_read goes through the shim's kernel backend on the booted kernel. Runs after
# demo.c (the raw syslet chains).
set -euo pipefail
stage=$1
: "${TOP:?}"
bdir=$("$TOP/tools/vm/userspace-static.sh" aio_pipe_demo_static)
objcopy --strip-debug "$bdir/examples/aio_pipe_demo_static" "$stage/aio_pipe_demo"
echo aio_pipe_demo
