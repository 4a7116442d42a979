# ppc64 (big-endian, pseries): kbuild and QEMU settings. Sourced by tools/vm/*.sh.
# User space is Debian's big-endian ppc64: ELFv1, with function descriptors; 32-bit
# (compat) programs are built with the same compiler and -m32.
KARCH=powerpc
CROSS_COMPILE=powerpc64-linux-gnu-
KIMAGE=vmlinux
TARGET_CC=powerpc64-linux-gnu-gcc
COMPAT_CC="powerpc64-linux-gnu-gcc -m32"
QEMU=qemu-system-ppc64
QEMU_MACHINE="-M pseries"
QEMU_CONSOLE=hvc0
QEMU_MEM=1024
# No KVM for a ppc64 guest on this host: TCG only.
qemu_accel() {
	echo "-accel tcg"
}
