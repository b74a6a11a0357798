#!/usr/bin/env bash
# (Re)makes an environment's sealed secrets, offline, with the environment's public sealing
# certificate (deploy/overlays/ENV/sealing.crt; scripts/seal.py does what kubeseal does).
#
#   deploy/overlays/ENV/sealed-secrets.yaml       Secret `redis` (key `password`): the Redis
#                                                 password every service and KEDA use; random
#                                                 unless REDIS_PASSWORD is set. Plus, when
#                                                 GHCR_USER and GHCR_TOKEN are set, `ghcr-pull`
#                                                 (kubernetes.io/dockerconfigjson) for private
#                                                 images.
#   argocd/sealed/repo-credentials-ENV.yaml       when REPO_TOKEN is set: Argo CD's credentials
#                                                 for a private repository (ansible applies it).
#
# Usage: scripts/seal-secrets.sh ENV [--cert CERT.pem]
#   --cert: seal for another controller (e.g. `kubeseal --fetch-cert > cert.pem` of a cluster
#   whose own key is in use; the e2e-cluster workflow passes a throwaway key's certificate).
# Nothing in plain text is written anywhere; the plaintext exists only in this process.
set -euo pipefail
cd "$(dirname "$0")/.."

env="${1:?usage: scripts/seal-secrets.sh ENV [--cert CERT.pem]}"
overlay="deploy/overlays/$env"
cert="$overlay/sealing.crt"
if [ "${2:-}" = "--cert" ]; then cert="${3:?--cert needs a file}"; fi
[ -d "$overlay" ] || { echo "seal-secrets: no overlay $overlay" >&2; exit 64; }
[ -f "$cert" ] || { echo "seal-secrets: no certificate $cert (scripts/seal.py --new-key DIR makes a key pair)" >&2; exit 64; }

source scripts/tools.sh
ensure_python_tools
seal() { "$TANKSIM_PYTHON" scripts/seal.py --cert "$cert" "$@"; }

password="${REDIS_PASSWORD:-$(openssl rand -hex 32)}"
{
    echo "# Sealed for the $env cluster by scripts/seal-secrets.sh: only its Sealed Secrets"
    echo "# controller can decrypt these. Re-run the script to rotate or re-seal."
    seal --namespace tanksim --name redis password="$password"
    if [ -n "${GHCR_USER:-}" ] && [ -n "${GHCR_TOKEN:-}" ]; then
        auth="$(printf '%s:%s' "$GHCR_USER" "$GHCR_TOKEN" | base64 -w0)"
        echo "---"
        seal --namespace tanksim --name ghcr-pull --type kubernetes.io/dockerconfigjson \
            ".dockerconfigjson={\"auths\":{\"ghcr.io\":{\"auth\":\"$auth\"}}}"
    fi
} >"$overlay/sealed-secrets.yaml.tmp"
mv "$overlay/sealed-secrets.yaml.tmp" "$overlay/sealed-secrets.yaml"
echo "seal-secrets: wrote $overlay/sealed-secrets.yaml"

if [ -n "${REPO_TOKEN:-}" ]; then
    mkdir -p argocd/sealed
    seal --namespace argocd --name tanksim-repo --label argocd.argoproj.io/secret-type=repository \
        type=git url=https://github.com/tanksim/tanksim.git username="${REPO_USER:-git}" password="$REPO_TOKEN" \
        >"argocd/sealed/repo-credentials-$env.yaml"
    echo "seal-secrets: wrote argocd/sealed/repo-credentials-$env.yaml"
fi
