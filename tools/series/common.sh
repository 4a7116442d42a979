# Shared settings for the series scripts. Sourced, not run.
# shellcheck shell=bash

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
KSRC_TARBALL=${KSRC_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
KSRC_PKG=linux-source-6.12
TREE=$BUILD/linux                 # the developers' tree: base commit + series branch
PATCHES=$TOP/patches
BASE_INFO=$PATCHES/BASE
# Roots of the readable copy: every file the series adds under these is mirrored in the repo.
COPY_ROOTS="arch block Documentation drivers fs include init ipc kernel lib mm net scripts security tools/include tools/testing/selftests"

# The base commit is made with a fixed identity and date, so that the same tarball
# gives the same commit id on every machine and `base-commit:` lines are stable.
base_git_env() {
	export GIT_AUTHOR_NAME="Debian $KSRC_PKG" GIT_AUTHOR_EMAIL="debian-kernel@lists.debian.org"
	export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
	export GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z"
}

# Identity for `git am` in scratch trees. The patches carry their own authors; this is
# only the committer of the throw-away commits.
am_git_env() {
	export GIT_COMMITTER_NAME="series-bot" GIT_COMMITTER_EMAIL="series-bot@localhost"
	export GIT_COMMITTER_DATE="2000-01-01T00:00:00Z"
}

die() { echo "error: $*" >&2; exit 1; }
note() { echo "== $*"; }

pkg_version() { dpkg-query -W -f='${Version}' "$KSRC_PKG" 2>/dev/null; }

# The patch files of the series, in order, without the cover letter.
series_patches() {
	local dir=${1:-$PATCHES}
	find "$dir" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-cover-letter.patch' | sort
}

# make_base DIR: unpack the tarball into DIR as a git repo whose only commit is tagged `base`.
make_base() {
	local dir=$1 tmp
	[ -r "$KSRC_TARBALL" ] || die "$KSRC_TARBALL missing (run make setup)"
	tmp=$dir.tmp.$$
	rm -rf "$tmp"
	mkdir -p "$tmp"
	note "unpacking $KSRC_TARBALL"
	tar -xJf "$KSRC_TARBALL" -C "$tmp" --strip-components=1
	(
		cd "$tmp"
		base_git_env
		git init -q -b base-import
		git config core.autocrlf false
		git config gc.auto 0
		git add -Af .
		local kver
		kver=$(make -s kernelversion 2>/dev/null)
		git commit -q -m "Linux $kver (Debian $KSRC_PKG $(pkg_version))" \
			-m "Unpacked from $KSRC_TARBALL; the base the series applies to."
		git tag base
	)
	mv "$tmp" "$dir"
}

base_commit() { git -C "$TREE" rev-parse base^{commit}; }

# apply_series WORKTREE: reset WORKTREE to base and `git am` patches/ onto it.
apply_series() {
	local wt=$1 p
	am_git_env
	git -C "$wt" am --abort >/dev/null 2>&1 || true
	git -C "$wt" checkout -q -f --detach base
	git -C "$wt" clean -qfdx
	for p in $(series_patches); do
		git -C "$wt" am -q "$p" || { git -C "$wt" am --abort; die "git am failed on $(basename "$p")"; }
	done
}

series_stamp() { (cat $(series_patches) 2>/dev/null; base_commit) | sha1sum | cut -c1-16; }

# scratch_tree NAME: a worktree of the base repo at $BUILD/NAME (created if missing).
scratch_tree() {
	local wt=$BUILD/$1
	[ -d "$TREE/.git" ] || "$TOP/tools/series/tree.sh" >&2
	if [ ! -e "$wt/.git" ]; then
		git -C "$TREE" worktree prune
		git -C "$TREE" worktree add -q --detach "$wt" base
	fi
	echo "$wt"
}
