#!/usr/bin/env bash
# make tree: build/linux = Debian's linux-source-6.12 as a one-commit git repo (tag `base`),
# with patches/ applied by `git am` on branch `series`. Developers commit there, then `make export`.
set -euo pipefail
. "$(dirname "$0")/common.sh"

mkdir -p "$BUILD"
[ -d "$TREE/.git" ] || make_base "$TREE"

base=$(base_commit)
if [ -f "$BASE_INFO" ]; then
	want=$(sed -n 's/^base-commit: //p' "$BASE_INFO")
	if [ -n "$want" ] && [ "$want" != "$base" ]; then
		echo "warning: base commit $base differs from the recorded $want" >&2
		echo "warning: (installed $KSRC_PKG $(pkg_version); see $BASE_INFO)" >&2
	fi
fi

cd "$TREE"
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
	die "$TREE has uncommitted changes; commit or stash them first"

# Apply patches/ on a fresh branch; only replace `series` if that loses nothing.
cur=$(git rev-parse -q --verify refs/heads/series || true)
git checkout -q -f -B series-apply base
am_git_env
for p in $(series_patches); do
	git am -q "$p" || { git am --abort; git checkout -q -f "${cur:-base}"; die "git am failed on $(basename "$p")"; }
done
if [ -n "$cur" ] && [ "$cur" != "$(git rev-parse HEAD)" ] && [ "${FORCE:-0}" != 1 ]; then
	if [ -n "$(git diff series-apply "$cur")" ]; then
		git checkout -q -f series
		git branch -q -D series-apply
		die "branch series has work that patches/ lacks: run 'make export' (or FORCE=1 make tree to drop it)"
	fi
fi
git checkout -q -f -B series series-apply
git branch -q -D series-apply
n=$(git rev-list --count base..series)
note "build/linux: base $(git rev-parse --short base) ($(git log -1 --format=%s base)), series: $n patch(es) on branch 'series'"
