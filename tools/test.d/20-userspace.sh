# Sourced by tools/test-all.sh: the C++ library's CTest suite on the host (thread-pool
# backend; kernel-backend cases SKIP there), plain and under ASan+UBSan and TSan.
step userspace-host pass tools/userspace-test.sh build/userspace
step userspace-asan pass tools/userspace-test.sh build/userspace-asan address
step userspace-tsan pass tools/userspace-test.sh build/userspace-tsan thread
