#!/usr/bin/env bash
# The protobuf API (proto/): `buf lint`, and `buf breaking` against the last released state of
# proto/, so that a change which would break published clients (a field removed or renumbered,
# a type changed, a service method gone) fails the test command:
#   - the newest tag `v*`, once releases are tagged;
#   - before that, the state of proto/ before its newest change: HEAD when proto/ has
#     uncommitted changes, else the parent of the newest commit that touched proto/;
#   - and on a branch, also where it left origin/main.
# (Comparing with origin/main, as before, compares main with itself: it could never fail.)
# Then a self-test: a copy of proto/ with one field removed must fail the same check.
#
# Needs the repository's history (CI checks out with fetch-depth: 0).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/tools.sh
ensure_buf

echo "== buf lint"
(cd proto && "$TANKSIM_BUF" lint)

base=""
if tag="$(git describe --tags --abbrev=0 --match 'v*' 2>/dev/null)"; then
    base="$tag"
    why="the newest release tag"
elif ! git diff --quiet HEAD -- proto/ 2>/dev/null || [ -n "$(git ls-files --others --exclude-standard -- proto/)" ]; then
    base="HEAD"
    why="the last commit (proto/ has uncommitted changes)"
elif last="$(git log -1 --format=%H -- proto/ 2>/dev/null)" && [ -n "$last" ] && git cat-file -e "$last~1" 2>/dev/null; then
    base="$(git rev-parse --short "$last")~1"
    why="the state before $(git log -1 --format='%h (%s)' "$last" | cut -c1-80)"
fi
if [ -z "$base" ] || ! git cat-file -e "$base:proto/buf.yaml" 2>/dev/null; then
    echo "check-proto: no earlier state of proto/ in this clone's history to compare with" >&2
    echo "(a shallow clone? fetch the history: git fetch --unshallow)" >&2
    exit 1
fi
echo "== buf breaking against $base: $why"
(cd proto && "$TANKSIM_BUF" breaking --against "../.git#ref=$base,subdir=proto")
# On a branch, every change since it left main counts, not only its newest.
if fork="$(git merge-base HEAD origin/main 2>/dev/null)" && [ "$fork" != "$(git rev-parse HEAD)" ] &&
    git cat-file -e "$fork:proto/buf.yaml" 2>/dev/null; then
    echo "== buf breaking against $(git rev-parse --short "$fork"), where this branch left origin/main"
    (cd proto && "$TANKSIM_BUF" breaking --against "../.git#ref=$fork,subdir=proto")
fi

# The self-test: remove the first scalar field of the public API and expect the check to fail.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r proto "$work/proto"
victim="$(grep -nE '^\s+(string|uint64|uint32|double|bool) [a-z_]+ = [0-9]+;' "$work"/proto/tanksim/v1/*.proto)"
victim="${victim%%$'\n'*}"
file="${victim%%:*}"
line="$(cut -d: -f2 <<<"$victim")"
sed -i "${line}d" "$file"
if out="$("$TANKSIM_BUF" breaking "$work/proto" --against proto 2>&1)"; then
    echo "check-proto: removing '$(cut -d: -f3- <<<"$victim" | xargs)' from ${file#"$work"/} passed buf breaking" >&2
    exit 1
fi
if ! grep -q "deleted" <<<"$out"; then
    echo "check-proto: buf breaking failed on a removed field, but not for that reason:" >&2
    echo "$out" >&2
    exit 1
fi
echo "check-proto: lint clean; no breaking change since $base; a removed field is caught: ${out%%$'\n'*}"
