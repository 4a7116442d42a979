#!/usr/bin/env bash
# make series-bisect: build the x86_64 kernel (test config) at every patch of the series, so
# that each patch is known to build on its own; then run sparse (make C=2) on every C file
# the series adds or changes, at the base and at the tip, and fail on any warning the
# series introduces (line numbers are ignored when comparing).
set -euo pipefail
. "$(dirname "$0")/common.sh"
command -v sparse >/dev/null || die "sparse is not installed (make setup)"
wt=$(scratch_tree bisect-tree)
out=$BUILD/kbuild/bisect-x86_64
apply_series "$wt"
tip=$(git -C "$wt" rev-parse HEAD)
commits=$(git -C "$wt" rev-list --reverse base..HEAD)
n=$(wc -w <<<"$commits")
build() { "$TOP/tools/vm/kbuild.sh" x86_64 "$wt" "$out" >/dev/null; }

# sparse_at REV FILE...: sparse warnings for FILEs (those that exist at REV and that the
# test configuration compiles), normalised.
sparse_at() {
	local rev=$1 objs=() f
	shift
	git -C "$wt" checkout -q --detach "$rev"
	build
	# Only what this configuration compiles (x86 shadow stacks, say, are off in it).
	for f in "$@"; do
		if [ -f "$wt/$f" ] && [ -f "$out/${f%.c}.o" ]; then
			objs+=("${f%.c}.o")
		fi
	done
	[ ${#objs[@]} -gt 0 ] || return 0
	# A file without warnings is the good case: grep finding nothing must not end the script.
	make -s -C "$wt" O="$out" ARCH=x86_64 C=2 "${objs[@]}" 2>&1 >/dev/null |
		{ grep -E ': (warning|error):' || true; } | sed -E 's/:[0-9]+:[0-9]+:/:/' | sort -u
}

i=0
for c in $commits; do
	i=$((i + 1))
	git -C "$wt" checkout -q --detach "$c"
	note "[$i/$n] $(git -C "$wt" log -1 --format=%s "$c")"
	build || die "build failed at: $(git -C "$wt" log -1 --format='%h %s' "$c")"
done
echo "series-bisect: $i patch(es) each build"

mapfile -t files < <(git -C "$wt" diff --name-only --diff-filter=AM base "$tip" -- '*.c' | grep -v '^tools/')
if [ ${#files[@]} -gt 0 ]; then
	note "sparse on ${#files[@]} file(s) the series touches"
	sparse_at base "${files[@]}" >"$BUILD/sparse-base.txt"
	sparse_at "$tip" "${files[@]}" >"$BUILD/sparse-tip.txt"
	new=$(comm -13 "$BUILD/sparse-base.txt" "$BUILD/sparse-tip.txt")
	if [ -n "$new" ]; then
		echo "$new"
		die "sparse: the series adds $(grep -c . <<<"$new") warning(s)"
	fi
	echo "sparse: no new warnings ($(grep -c . "$BUILD/sparse-base.txt" || true) at base, unchanged)"
fi
git -C "$wt" checkout -q --detach "$tip"
echo "series-bisect: PASS"
