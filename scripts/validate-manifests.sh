#!/usr/bin/env bash
# Static checks of the Kubernetes manifests under deploy/ (there is no cluster to dry-run
# against): each kustomization must render, its core objects must pass kubernetes-validate
# --strict (unknown fields rejected), and its custom resources the prometheus-operator models
# plus scripts/validate-crds.mjs's field and convention checks. The PromQL inside the
# dashboards and rules is checked by `cargo test -p tanksim-telemetry --test promql`.
#
# Usage: scripts/validate-manifests.sh [KUSTOMIZATION_DIR...]   (default: deploy/observability)
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/tools.sh
ensure_python_tools
ensure_manifest_validators

if ! command -v kubectl >/dev/null 2>&1; then
    echo "validate-manifests: kubectl not found; it renders the kustomizations (kubectl kustomize)." >&2
    echo "Install kubectl 1.27 or newer: https://kubernetes.io/docs/tasks/tools/#kubectl" >&2
    exit 1
fi

dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=(deploy/observability)

rendered="$(mktemp)"
trap 'rm -f "$rendered"' EXIT
for dir in "${dirs[@]}"; do
    echo "== $dir: kubectl kustomize"
    kubectl kustomize "$dir" >"$rendered"
    echo "== $dir: kubernetes-validate --strict"
    # Custom resources only warn here ("couldn't find schema"); validate-crds.mjs checks them.
    "$TANKSIM_TOOLS/venv/bin/kubernetes-validate" --strict --quiet --no-warn - <"$rendered"
    echo "== $dir: custom resources (validate-crds.mjs)"
    node scripts/validate-crds.mjs <"$rendered"
done
echo "OK: manifests valid"
