#!/usr/bin/env bash
# The GitOps handoff of the release workflow: writes TAG (the images just pushed, built from
# commit SOURCE_SHA) into OVERLAY/kustomization.yaml with scripts/set-image-tag.sh, commits it
# and pushes the commit to BRANCH of `origin`, where Argo CD picks it up. Run from the root of
# a clone of BRANCH whose `origin` accepts the push (actions/checkout's persisted token).
#
#   .github/gitops/bump-overlay.sh OVERLAY TAG BRANCH SOURCE_SHA
#
# Guards (docs/ci.md, "The GitOps handoff"):
# - the commit message carries [skip ci], so the bump starts no ci/release run of its own (a
#   push made with GITHUB_TOKEN starts none anyway; the marker also covers a PAT or an app);
# - nothing is committed when the overlay already holds TAG;
# - nothing is written when the overlay already deploys a build of a commit that descends
#   from SOURCE_SHA (a later push whose release finished first): tags never go backwards;
# - a push rejected because the branch moved is retried from the new branch head.
# scripts/check-workflows.sh runs each case against a throwaway repository.
set -euo pipefail

[ $# -eq 4 ] || { echo "usage: bump-overlay.sh OVERLAY TAG BRANCH SOURCE_SHA" >&2; exit 64; }
overlay="$1" tag="$2" branch="$3" source_sha="$4"
file="$overlay/kustomization.yaml"
attempts="${BUMP_ATTEMPTS:-5}"

# Whether the overlay at REF deploys a build of a descendant of SOURCE_SHA (not SOURCE_SHA).
newer_deployed() {
    local current commit
    current="$(git show "$1:$file" | grep -E '^[[:space:]]*newTag:' | grep -oE 'sha-[0-9a-f]{12}' | sort -u || true)"
    [ "$(printf '%s\n' "$current" | grep -c .)" = 1 ] || return 1
    commit="$(git rev-parse --verify -q "${current#sha-}^{commit}")" || return 1
    [ "$commit" != "$source_sha" ] && git merge-base --is-ancestor "$source_sha" "$commit"
}

message="deploy(${branch}): ${overlay#deploy/overlays/} images ${tag} [skip ci]"
body="Images built from ${source_sha}"
if [ -n "${GITHUB_RUN_ID:-}" ]; then
    body="$body by ${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}"
fi

for attempt in $(seq 1 "$attempts"); do
    # Each attempt starts from the branch as it is now: another commit may have landed since
    # the checkout, and the bump (one line per image) is simply made again on top of it.
    git fetch -q origin "$branch"
    git reset -q --hard "origin/$branch"
    if newer_deployed HEAD; then
        echo "bump-overlay: $file already deploys a build newer than $tag; nothing written"
        exit 0
    fi
    scripts/set-image-tag.sh "$overlay" "$tag"
    if git diff --quiet -- "$file"; then
        echo "bump-overlay: $file is already at $tag; nothing to commit"
        exit 0
    fi
    git add -- "$file"
    git commit -q -m "$message" -m "$body."
    if git push -q origin "HEAD:refs/heads/$branch"; then
        echo "bump-overlay: pushed $(git rev-parse --short HEAD) to $branch: $file -> $tag"
        if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
            echo "- GitOps: \`$file\` → \`$tag\` ($(git rev-parse --short HEAD))" >>"$GITHUB_STEP_SUMMARY"
        fi
        exit 0
    fi
    echo "bump-overlay: push rejected (attempt $attempt of $attempts); retrying on the new branch head"
    sleep $((attempt * ${BUMP_BACKOFF_SECONDS:-3}))
done
echo "bump-overlay: could not push the tag bump to $branch" >&2
exit 1
