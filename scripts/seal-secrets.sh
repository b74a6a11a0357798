#!/usr/bin/env bash
# (Re)makes an environment's sealed secrets, offline, with the environment's public sealing
# certificate (deploy/overlays/ENV/sealing.crt; scripts/seal.py does what kubeseal does).
# Five parts, each its own file, so one can be rotated without the others:
#
#   redis-users       deploy/overlays/ENV/sealed-redis-users.yaml: one Secret `redis-user-NAME`
#                     (kubernetes.io/basic-auth: `username` NAME, `password`) per Redis user of
#                     deploy/base/redis-users.acl (dispatcher, results, worker, gateway, keda,
#                     keys-admin, probe): Redis loads their hashes, each service and KEDA read
#                     their own. Each password is 32 random bytes in hex (URL-safe: it goes into
#                     the services' redis:// URL) unless REDIS_PASSWORD_<NAME> is set (upper
#                     case, `-` as `_`). Argo CD deploys it with the overlay.
#   api-keys          deploy/overlays/ENV/sealed-api-keys.yaml: Secret `api-keys` (key
#                     `api-keys.jsonl`), the gateway's bootstrap API keys file, mounted at
#                     /etc/tanksim/auth (docs/security.md). The JSON lines of API_KEYS_FILE
#                     when set (e.g. lines of `tanksim keys create --file-line`); otherwise one
#                     new admin key of tenant `ops`, whose line holds only its SHA-256: the
#                     key itself is printed once, on stderr, to be stored by whoever runs this.
#                     Argo CD deploys it with the overlay.
#   grafana-admin     argocd/sealed/grafana-admin-ENV.yaml: Secret `grafana-admin` in
#                     `monitoring` (keys admin-user `admin`, admin-password random unless
#                     GRAFANA_ADMIN_PASSWORD is set), Grafana's login
#                     (argocd/values/kube-prometheus-stack.yaml). Ansible applies it.
#   repo-credentials  argocd/sealed/repo-credentials-ENV.yaml, needs REPO_TOKEN (REPO_USER,
#                     default `git`): Argo CD's credentials for a private repository. Ansible
#                     applies it.
#   ghcr-pull         deploy/overlays/ENV/sealed-ghcr-pull.yaml, needs GHCR_USER and GHCR_TOKEN:
#                     `ghcr-pull` (kubernetes.io/dockerconfigjson), every pod's pull secret for
#                     private images. List the file in the overlay's kustomization `resources`
#                     (scripts/check-sealed.py fails until it is).
#
# Usage: scripts/seal-secrets.sh ENV [PART ...] [--cert CERT.pem]
#   No PART: redis-users, api-keys and grafana-admin, plus repo-credentials when REPO_TOKEN is
#   set and ghcr-pull when GHCR_USER and GHCR_TOKEN are (the overlay needs all of its files
#   sealed for the same controller). Every part named is re-sealed with new random passwords
#   and keys unless the variables above are set, so name the parts you mean to rotate
#   (`scripts/seal-secrets.sh prod grafana-admin`;
#   `API_KEYS_FILE=keys.jsonl scripts/seal-secrets.sh prod api-keys`). Rotating redis-users
#   takes effect when Redis and the services restart (docs/security.md, "Redis users").
#   --cert: seal for another controller (e.g. `kubeseal --fetch-cert > cert.pem` of a cluster
#   whose own key is in use; the e2e-cluster workflow passes a throwaway key's certificate).
# Nothing in plain text is written anywhere; the plaintext exists only in this process. The
# passwords are not printed either: the script says where to read them back once unsealed.
# The one exception is a generated bootstrap API key: only its hash is sealed, so it cannot be
# read back, and it is printed once (stderr).
set -euo pipefail
# --cert and API_KEYS_FILE are relative to where the script was called from, the rest to the
# repository root.
caller="$PWD"
cd "$(dirname "$0")/.."

usage="usage: scripts/seal-secrets.sh ENV [redis-users|api-keys|grafana-admin|repo-credentials|ghcr-pull ...] [--cert CERT.pem]"
env="${1:?$usage}"
shift
overlay="deploy/overlays/$env"
cert="$overlay/sealing.crt"
parts=()
while [ $# -gt 0 ]; do
    case "$1" in
        --cert) cert="${2:?--cert needs a file}"; [[ "$cert" == /* ]] || cert="$caller/$cert"; shift 2 ;;
        redis-users | api-keys | grafana-admin | repo-credentials | ghcr-pull) parts+=("$1"); shift ;;
        *) echo "seal-secrets: unknown argument '$1'; $usage" >&2; exit 64 ;;
    esac
done
if [ ${#parts[@]} -eq 0 ]; then
    parts=(redis-users api-keys grafana-admin)
    if [ -n "${REPO_TOKEN:-}" ]; then parts+=(repo-credentials); fi
    if [ -n "${GHCR_USER:-}" ] && [ -n "${GHCR_TOKEN:-}" ]; then parts+=(ghcr-pull); fi
fi
wants() { [[ " ${parts[*]} " == *" $1 "* ]]; }
[ -d "$overlay" ] || { echo "seal-secrets: no overlay $overlay" >&2; exit 64; }
[ -f "$cert" ] || { echo "seal-secrets: no certificate $cert (scripts/seal.py --new-key DIR makes a key pair)" >&2; exit 64; }
if [ -n "${API_KEYS_FILE:-}" ]; then
    [[ "$API_KEYS_FILE" == /* ]] || API_KEYS_FILE="$caller/$API_KEYS_FILE"
    if wants api-keys && [ ! -s "$API_KEYS_FILE" ]; then
        echo "seal-secrets: API_KEYS_FILE $API_KEYS_FILE is missing or empty" >&2
        exit 64
    fi
fi
if wants ghcr-pull && { [ -z "${GHCR_USER:-}" ] || [ -z "${GHCR_TOKEN:-}" ]; }; then
    echo "seal-secrets: ghcr-pull needs GHCR_USER and GHCR_TOKEN (a token that reads the images)" >&2
    exit 64
fi
if wants repo-credentials && [ -z "${REPO_TOKEN:-}" ]; then
    echo "seal-secrets: repo-credentials needs REPO_TOKEN (a read-only token for the repository)" >&2
    exit 64
fi

source scripts/tools.sh
ensure_python_tools
seal() { "$TANKSIM_PYTHON" scripts/seal.py --cert "$cert" "$@"; }
# The header every sealed file starts with, after an optional line saying what it holds.
header() {
    if [ $# -gt 0 ]; then echo "# $1"; fi
    echo "# Sealed for the $env cluster by scripts/seal-secrets.sh: only its Sealed Secrets"
    echo "# controller can decrypt these. Re-run the script to rotate or re-seal."
}

if wants redis-users; then
    # The users are those of the rules Redis loads (every `user` line but `default`).
    users="$(sed -n 's/^user \([a-z0-9-]*\) .*/\1/p' deploy/base/redis-users.acl | grep -vx default)"
    [ -n "$users" ] || { echo "seal-secrets: no users in deploy/base/redis-users.acl" >&2; exit 1; }
    file="$overlay/sealed-redis-users.yaml"
    {
        header "tanksim's Redis users (deploy/base/redis-users.acl, docs/security.md), deployed with the overlay."
        first=1
        for user in $users; do
            var="REDIS_PASSWORD_$(printf '%s' "$user" | tr 'a-z-' 'A-Z_')"
            # Values reach seal.py through its environment (KEY=env:VAR), never its command line.
            SEAL_REDIS_PASSWORD="${!var:-$(openssl rand -hex 32)}"
            export SEAL_REDIS_PASSWORD
            [ "$first" = 1 ] || echo "---"
            first=0
            seal --namespace tanksim --name "redis-user-$user" --type kubernetes.io/basic-auth \
                username="$user" password=env:SEAL_REDIS_PASSWORD
        done
    } >"$file.tmp"
    mv "$file.tmp" "$file"
    echo "seal-secrets: wrote $file ($(echo "$users" | wc -l) users); once the $env cluster has"
    echo "  unsealed them, a password is: kubectl -n tanksim get secret redis-user-NAME -o jsonpath='{.data.password}' | base64 -d"
fi

if wants ghcr-pull; then
    file="$overlay/sealed-ghcr-pull.yaml"
    auth="$(printf '%s:%s' "$GHCR_USER" "$GHCR_TOKEN" | base64 -w0)"
    SEAL_DOCKERCONFIG="{\"auths\":{\"ghcr.io\":{\"auth\":\"$auth\"}}}"
    export SEAL_DOCKERCONFIG
    {
        header "Every pod's pull secret for private images (deploy/base/pod-defaults.yaml)."
        seal --namespace tanksim --name ghcr-pull --type kubernetes.io/dockerconfigjson \
            .dockerconfigjson=env:SEAL_DOCKERCONFIG
    } >"$file.tmp"
    mv "$file.tmp" "$file"
    echo "seal-secrets: wrote $file; list it in $overlay/kustomization.yaml resources if it is not"
fi

if wants api-keys; then
    file="$overlay/sealed-api-keys.yaml"
    if [ -n "${API_KEYS_FILE:-}" ]; then
        # The shape only, so a file of keys rather than hashes is never sealed; the gateway
        # checks the rest when it starts (and refuses to, on a bad line).
        "$TANKSIM_PYTHON" - "$API_KEYS_FILE" <<'PY'
import json, re, sys

for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    try:
        entry = json.loads(line)
    except ValueError as e:
        sys.exit(f"seal-secrets: {sys.argv[1]}: line {n}: not JSON: {e}")
    if not isinstance(entry, dict) or not re.fullmatch(r"[0-9a-f]{64}", str(entry.get("sha256", ""))):
        sys.exit(f"seal-secrets: {sys.argv[1]}: line {n}: not a keys file line (sha256: 64 lower-case hex)")
    if "tsk_" in line:
        sys.exit(f"seal-secrets: {sys.argv[1]}: line {n} holds a key itself: a keys file lists SHA-256s only")
PY
        keys="api-keys.jsonl=@$API_KEYS_FILE"
    else
        # A new key (what `tanksim keys create` makes: tsk_ and 256 random bits, base64url), and
        # its line: the gateway keeps, and the Secret holds, only the key's SHA-256.
        SEAL_API_KEYS="$("$TANKSIM_PYTHON" - "$env" <<'PY'
import base64, hashlib, json, secrets, sys

key = "tsk_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
line = {"tenant": "ops", "name": "bootstrap-admin", "scopes": ["admin"],
        "sha256": hashlib.sha256(key.encode()).hexdigest()}
print(json.dumps(line, separators=(",", ":")))
print(f"seal-secrets: the {sys.argv[1]} cluster's bootstrap API key (tenant ops, scope admin); it is"
      " shown only now and only its SHA-256 is sealed, so store it in your secrets manager:\n"
      f"{key}", file=sys.stderr)
PY
)"
        export SEAL_API_KEYS
        keys="api-keys.jsonl=env:SEAL_API_KEYS"
    fi
    {
        header "The gateway's bootstrap API keys (hashes only; docs/security.md), deployed with the overlay."
        seal --namespace tanksim --name api-keys "$keys"
    } >"$file.tmp"
    mv "$file.tmp" "$file"
    echo "seal-secrets: wrote $file"
fi

# argocd/sealed/ holds what exists before Argo CD syncs anything: the Ansible argocd role
# applies every argocd/sealed/*-ENV.yaml at bootstrap, creating the namespaces first.
if wants grafana-admin; then
    mkdir -p argocd/sealed
    file="argocd/sealed/grafana-admin-$env.yaml"
    {
        header "Grafana's admin login (argocd/values/kube-prometheus-stack.yaml), applied by Ansible."
        SEAL_GRAFANA_PASSWORD="${GRAFANA_ADMIN_PASSWORD:-$(openssl rand -base64 24)}"
        export SEAL_GRAFANA_PASSWORD
        seal --namespace monitoring --name grafana-admin \
            admin-user=admin admin-password=env:SEAL_GRAFANA_PASSWORD
    } >"$file.tmp"
    mv "$file.tmp" "$file"
    echo "seal-secrets: wrote $file; once the $env cluster has unsealed it, the password is"
    echo "  kubectl -n monitoring get secret grafana-admin -o jsonpath='{.data.admin-password}' | base64 -d"
fi

if wants repo-credentials; then
    mkdir -p argocd/sealed
    file="argocd/sealed/repo-credentials-$env.yaml"
    {
        header "Argo CD's credentials for this repository, applied by Ansible."
        seal --namespace argocd --name tanksim-repo --label argocd.argoproj.io/secret-type=repository \
            type=git url=https://github.com/tanksim/tanksim.git username="${REPO_USER:-git}" password=env:REPO_TOKEN
    } >"$file.tmp"
    mv "$file.tmp" "$file"
    echo "seal-secrets: wrote $file"
fi
