# s390x: kbuild and QEMU settings. Sourced by tools/vm/*.sh.
# 31-bit (compat) test programs: the kselftest collections built -m31 against the cross
# compiler's 31-bit glibc (suites async-compat, vas-compat).
KARCH=s390
CROSS_COMPILE=s390x-linux-gnu-
KIMAGE=arch/s390/boot/bzImage
TARGET_CC=s390x-linux-gnu-gcc
COMPAT_CC="s390x-linux-gnu-gcc -m31 -mzarch"
QEMU=qemu-system-s390x
QEMU_MACHINE="-M s390-ccw-virtio"
QEMU_CONSOLE=ttysclp0
QEMU_MEM=1024
# No KVM for s390x on these (x86) hosts: TCG, with the CPU model that has the vector facility.
qemu_accel() {
	echo "-accel tcg -cpu max"
}
