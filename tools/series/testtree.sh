#!/usr/bin/env bash
# testtree.sh [NAME]: print the path of a scratch tree ($BUILD/NAME, default test-tree) holding
# base + patches/ applied with git am. Reapplied only when patches/ changed, and then with a
# checkout that rewrites only the files that differ, so kernel builds stay incremental.
set -euo pipefail
. "$(dirname "$0")/common.sh"
name=${1:-test-tree}
wt=$(scratch_tree "$name")
stamp=$(series_stamp)
sfile=$BUILD/$name.stamp
if [ "$(cat "$sfile" 2>/dev/null)" != "$stamp" ] || [ -n "$(git -C "$wt" status --porcelain)" ]; then
	apply_series "$wt" >&2
	echo "$stamp" >"$sfile"
fi
echo "$wt"
