#!/usr/bin/env bash
# Checks argocd/ — the root Applications, the AppProjects, the platform and tanksim
# Applications, their Helm values — as far as it can be without a cluster (argocd/README.md,
# "Checks"):
#   1. yamllint --strict on argocd/ (repository config: .yamllint);
#   2. scripts/check-argocd-apps.py: every Application/AppProject against Argo CD's CRD schemas
#      (strict, JSON Schema Draft 7, from ../shared/crd-schemas), and the project's rules —
#      paths exist and render, charts pinned, values files present, projects permit sources
#      and destinations, sync waves order operators before tanksim, replicas left to KEDA and
#      Argo Rollouts;
#   3. scripts/validate-crs.py on argocd/sealed/*.yaml: the SealedSecrets Ansible applies at
#      bootstrap against the Sealed Secrets CRD schema, strict.
# Works on a fresh machine: installs yamllint and jsonschema into a virtualenv under .tools/
# (gitignored) on first use; needs python3 and kubectl (for `kubectl kustomize`).
#
# Usage: scripts/check-argocd.sh
# Environment: TANKSIM_TOOLS (tool cache, default .tools), TANKSIM_CRD_SCHEMAS (schema dir).
set -euo pipefail
cd "$(dirname "$0")/.."

TANKSIM_TOOLS="${TANKSIM_TOOLS:-$PWD/.tools}"
venv="$TANKSIM_TOOLS/argocd-venv"
# Bump the stamp's version when the pins change, so every machine reinstalls.
stamp="$venv/.installed-v1"
if [ ! -f "$stamp" ]; then
    echo "== installing yamllint and jsonschema into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "yamllint==1.38.0" "jsonschema==4.26.0" "pyyaml>=6,<7"
    touch "$stamp"
fi

if ! command -v kubectl >/dev/null 2>&1; then
    echo "check-argocd: kubectl not found; it renders the kustomizations (kubectl kustomize)." >&2
    echo "Install kubectl 1.27 or newer: https://kubernetes.io/docs/tasks/tools/#kubectl" >&2
    exit 1
fi

echo "== yamllint --strict argocd/"
"$venv/bin/yamllint" --strict -c .yamllint argocd/

echo "== Argo CD Applications and AppProjects (schemas, paths, charts, values, projects, waves)"
"$venv/bin/python" scripts/check-argocd-apps.py

echo "== SealedSecrets in argocd/sealed/ (strict CRD schema)"
shopt -s nullglob
sealed=(argocd/sealed/*.yaml)
if [ ${#sealed[@]} -gt 0 ]; then
    "$venv/bin/python" scripts/validate-crs.py "${sealed[@]}"
else
    echo "none"
fi

echo "OK: argocd/ valid"
