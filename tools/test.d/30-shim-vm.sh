# Sourced by tools/test-all.sh: the C++ library's test suite on the kernel (syslet) backend,
# in QEMU on the test kernel (tools/vm/suites/asyncaio: every Catch2 case in its own process,
# the request-limit case and the statically linked drop-in program). About a minute under TCG.
step vm-x86_64-asyncaio pass vm x86_64 asyncaio
