#!/usr/bin/env bash
# make series-check: fail unless patches/ applies with git am to a fresh base, the readable
# copy equals the applied result, every patch is checkpatch --strict clean, and every patch
# has a changelog and a Signed-off-by, and no patch adds a backup or reject file.
#
# Ignored checkpatch types (and why):
#   FILE_PATH_CHANGES  "does MAINTAINERS need updating?" fires on every patch that adds a
#                      file; the series adds its MAINTAINERS entries in the patch that
#                      creates each area, so later patches adding files there would warn
#                      needlessly.
set -euo pipefail
. "$(dirname "$0")/common.sh"
IGNORE=FILE_PATH_CHANGES
fail=0
bad() { echo "series-check: FAIL: $*"; fail=1; }

[ -f "$PATCHES/0000-cover-letter.patch" ] || die "patches/0000-cover-letter.patch missing (make export)"
# The same scratch tree as the tests use (testtree.sh); applied afresh here, always.
wt=$(scratch_tree test-tree)
note "git am onto a fresh base ($(git -C "$wt" rev-parse --short base))"
apply_series "$wt"
series_stamp >"$BUILD/test-tree.stamp"
n=$(git -C "$wt" rev-list --count base..HEAD)
echo "applied $n patch(es)"

base=$(base_commit)
grep -qx "base-commit: $base" "$PATCHES/0000-cover-letter.patch" ||
	bad "cover letter's base-commit is not $base"
grep -qx "base-commit: $base" "$BASE_INFO" || bad "patches/BASE does not record base-commit $base"

note "readable copy"
added=$(git -C "$wt" diff --name-only --diff-filter=A base..HEAD -- $COPY_ROOTS)
for f in $added; do
	cmp -s "$wt/$f" "$TOP/$f" || bad "readable copy $f differs from the series (make export)"
done
for root in $COPY_ROOTS; do
	[ -d "$TOP/$root" ] || continue
	while read -r f; do
		grep -qxF "$f" <<<"$added" || bad "$f is not added by the series (stale readable copy?)"
	done < <(cd "$TOP" && find "$root" -type f)
done

note "no stray files"
# patch(1) and editor leftovers: a series once shipped kernel/async/ring.c.orig.
stray=$(git -C "$wt" diff --name-only --diff-filter=AM base..HEAD |
	grep -E '(\.(orig|rej|swp|bak)|~)$|(^|/)#[^/]*#$' || true)
[ -z "$stray" ] || bad "stray files in the series: $(echo $stray)"

note "changelogs and Signed-off-by"
for c in $(git -C "$wt" rev-list --reverse base..HEAD); do
	subj=$(git -C "$wt" log -1 --format=%s "$c")
	body=$(git -C "$wt" log -1 --format=%b "$c" | grep -vE '^[A-Za-z-]+: ' | grep -c '[^[:space:]]' || true)
	[ "$body" -gt 0 ] || bad "'$subj' has no changelog"
	git -C "$wt" log -1 --format=%b "$c" | grep -qE '^Signed-off-by: .+ <.+@.+>$' ||
		bad "'$subj' has no Signed-off-by"
done

note "checkpatch --strict (ignoring $IGNORE)"
for p in $(series_patches); do
	# Debian's python3 first: checkpatch's spdxcheck.py needs python3-ply and python3-git.
	out=$(cd "$wt" && PATH=/usr/bin:/bin:$PATH ./scripts/checkpatch.pl --strict --no-summary --quiet --ignore "$IGNORE" "$p" 2>&1 || true)
	if [ -n "$out" ]; then
		bad "checkpatch: $(basename "$p")"
		echo "$out" | head -60
	fi
done
[ $fail -eq 0 ] || exit 1
echo "series-check: PASS ($n patch(es))"
