# x86_64: kbuild and QEMU settings. Sourced by tools/vm/*.sh.
KARCH=x86_64
CROSS_COMPILE=
KIMAGE=arch/x86/boot/bzImage
TARGET_CC=gcc
COMPAT_CC="i686-linux-gnu-gcc -msse2"
QEMU=qemu-system-x86_64
QEMU_MACHINE="-M q35"
QEMU_CONSOLE=ttyS0
QEMU_MEM=1024
# KVM is used only when it really works (it does not on these machines: see KERNEL-NOTES):
# the probe boots KIMAGE with no root file system and expects its panic within 20 s.
# The answer is cached per host boot.
qemu_accel() {
	local kimage=$1 cache=${BUILD:-/tmp}/.accel-x86_64 boot
	boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)
	if [ -f "$cache" ] && [ "$(head -1 "$cache")" = "$boot" ]; then
		tail -1 "$cache"
		return
	fi
	local accel="-accel tcg -cpu max"
	if [ -w /dev/kvm ] && timeout -k 2 20 "$QEMU" -accel kvm -cpu host -M q35 -m 256 -nographic \
		-no-reboot -kernel "$kimage" -append "console=ttyS0 panic=-1" </dev/null 2>&1 |
		grep -q 'Kernel panic'; then
		accel="-accel kvm -cpu host"
	fi
	printf '%s\n%s\n' "$boot" "$accel" >"$cache"
	echo "$accel"
}
