#!/usr/bin/env bash
# Install every Debian package the project needs. Idempotent; quiet when all is present.
set -euo pipefail

PKGS=(
	# kernel build
	linux-source-6.12 build-essential flex bison bc libelf-dev libssl-dev cpio
	xz-utils rsync ccache sparse git kmod python3 python3-ply python3-git
	# emulators
	qemu-system-x86 qemu-system-ppc qemu-system-misc
	# cross toolchains (no gcc-multilib: it conflicts with these)
	gcc-powerpc64-linux-gnu g++-powerpc64-linux-gnu
	gcc-s390x-linux-gnu g++-s390x-linux-gnu
	gcc-i686-linux-gnu
	# compat test programs: the 32-bit (31-bit on s390) C libraries of the cross compilers
	libc6-dev-i386-cross gcc-12-multilib-powerpc64-linux-gnu gcc-12-multilib-s390x-linux-gnu
	# user space
	cmake pkg-config catch2 libboost-context-dev liburing-dev
)

missing=()
for p in "${PKGS[@]}"; do
	[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
