#!/usr/bin/env bash
# make series-bisect: build the x86_64 kernel (test config) at every patch of the series, so
# that each patch is known to build on its own.
set -euo pipefail
. "$(dirname "$0")/common.sh"
wt=$(scratch_tree bisect-tree)
apply_series "$wt"
commits=$(git -C "$wt" rev-list --reverse base..HEAD)
i=0
for c in $commits; do
	i=$((i + 1))
	git -C "$wt" checkout -q --detach "$c"
	note "[$i/$(wc -w <<<"$commits")] $(git -C "$wt" log -1 --format=%s "$c")"
	"$TOP/tools/vm/kbuild.sh" x86_64 "$wt" "$BUILD/kbuild/bisect-x86_64" >/dev/null ||
		die "build failed at: $(git -C "$wt" log -1 --format='%h %s' "$c")"
done
echo "series-bisect: PASS: $i patch(es) each build"
