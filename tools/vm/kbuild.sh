#!/usr/bin/env bash
# kbuild.sh ARCH SRC OUT [FRAGMENT...]: configure (tinyconfig + fragments) and build a kernel
# out of tree. Incremental: reruns only what changed; ccache is used when installed.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
arch=$1
mkdir -p "$3"
src=$(cd "$2" && pwd) out=$(cd "$3" && pwd)
shift 3
. "$TOP/tools/vm/arch/$arch.sh"

frags=("$TOP/tools/configs/common.config" "$TOP/tools/configs/$arch.config")
# Extra fragments: a name from tools/configs/, or a path.
for f in "$@"; do
	case $f in */*) frags+=("$f") ;; *) frags+=("$TOP/tools/configs/$f.config") ;; esac
done

cc=${CROSS_COMPILE}gcc
command -v ccache >/dev/null && cc="ccache $cc"
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
# Paths are hashed relative to the checkout, so a fresh clone (CI) reuses what the last
# build of the same tree layout compiled.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$TOP}
export KBUILD_BUILD_USER=series KBUILD_BUILD_HOST=vm KBUILD_BUILD_TIMESTAMP="2000-01-01"
kmake() { make -s -C "$src" O="$out" ARCH="$KARCH" CROSS_COMPILE="$CROSS_COMPILE" CC="$cc" "$@"; }

# Reconfigure when a fragment or any Kconfig file changed: a patch that adds a symbol must
# get the fragments' value for it (series-bisect builds every patch in one output tree).
stamp=$({ cat "${frags[@]}"; find "$src" -name 'Kconfig*' -not -path '*/.git/*' -print0 | sort -z |
	xargs -0 cat; } | sha1sum | cut -c1-16)
if [ ! -f "$out/.config" ] || [ "$(cat "$out/.fragstamp" 2>/dev/null)" != "$stamp" ]; then
	kmake tinyconfig >/dev/null
	KCONFIG_CONFIG="$out/.config" "$src/scripts/kconfig/merge_config.sh" -m -O "$out" \
		"$out/.config" "${frags[@]}" >"$out/merge.log" 2>&1 || { cat "$out/merge.log"; exit 1; }
	kmake olddefconfig >/dev/null
	echo "$stamp" >"$out/.fragstamp"
fi
# A fragment line the kernel did not take (typo, missing dependency) is reported, not hidden.
for f in "${frags[@]}"; do
	{ grep -E '^(CONFIG_[A-Z0-9_]+)=' "$f" || true; } | while IFS='=' read -r sym val; do
		got=$(grep -E "^$sym=" "$out/.config" | cut -d= -f2- || true)
		[ "$got" = "$val" ] || echo "kbuild: note: $sym=${got:-unset} (fragment $(basename "$f") asks $val)" >&2
	done
	{ grep -E '^# CONFIG_[A-Z0-9_]+ is not set' "$f" || true; } | while read -r _ sym _; do
		! grep -qE "^$sym=" "$out/.config" || echo "kbuild: note: $sym is set (fragment $(basename "$f") asks it unset)" >&2
	done
done

kmake -j"$(nproc)" "$(basename "$KIMAGE")" >"$out/build.log" 2>&1 || { tail -50 "$out/build.log"; exit 1; }
kmake headers_install INSTALL_HDR_PATH="$out/hdr" >/dev/null
echo "$out/$KIMAGE"
