#!/usr/bin/env bash
# Checks ansible/ (the cluster bootstrap) with everything that runs without a cluster:
#   1. the Helm releases the roles install match the Applications in argocd/ that adopt them
#      (ansible/tests/check-pins.py);
#   2. yamllint --strict with the repository's .yamllint;
#   3. ansible-playbook --syntax-check with the example and the check inventories;
#   4. ansible-lint --offline, production profile, strict (ansible/.ansible-lint);
#   5. site.yml in check mode against this machine (ansible/tests/check-inventory.yml): every
#      task but the systemd and cluster ones runs, which is what catches misspelled module
#      arguments (lint and --syntax-check do not). Fixtures (a local mirror of a K3s release,
#      node file trees, a vault-encrypted sealing key, sealed repository credentials) live in a
#      temporary directory; the run must change nothing there and report the expected status
#      for the tasks that matter (ansible/tests/check-results.py);
#   6. the same run with a sealing key that does not belong to the certificate must fail, and
#      so must one with a sealed file that is not a namespaced SealedSecret and one without the
#      sealed grafana-admin Secret;
#   7. (as root) a real run of the already-installed host, whose paths all lie in the temporary
#      directory (step 5 checked every file-writing task aims there), then a second one that
#      must change nothing (idempotence), and the files written are checked
#      (ansible/tests/check-rendered.py).
# Nothing outside the temporary directory is written: Ansible's own temporary and cache
# directories point into it too.
#
# Installs its tools on first use: a virtualenv in .tools/ansible-venv with ansible 12.3.0
# (ansible-core 2.19, kubernetes.core 6.2.0, community.crypto 3.0.5) and ansible-lint. It
# weighs ~570 MB, so it is kept and only rebuilt when the pinned versions change.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

ANSIBLE_VERSION=12.3.0
ANSIBLE_LINT_VERSION=26.10.1
tools="${TANKSIM_TOOLS:-$repo/.tools}"
venv="$tools/ansible-venv"
stamp="$venv/.installed-ansible-$ANSIBLE_VERSION-lint-$ANSIBLE_LINT_VERSION"
if [ ! -f "$stamp" ]; then
    echo "== installing ansible $ANSIBLE_VERSION and ansible-lint $ANSIBLE_LINT_VERSION into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "ansible==$ANSIBLE_VERSION" "ansible-lint==$ANSIBLE_LINT_VERSION"
    touch "$stamp"
fi
# ansible-lint runs ansible-playbook and ansible-galaxy from PATH.
export PATH="$venv/bin:$PATH"

tmp="$(mktemp -d)"
# TANKSIM_CHECK_KEEP=1 keeps the directory (fixtures, logs, what the real run rendered).
if [ "${TANKSIM_CHECK_KEEP:-}" = 1 ]; then
    trap 'echo "kept $tmp"' EXIT
else
    trap 'rm -rf "$tmp"' EXIT
fi
export ANSIBLE_CONFIG="$repo/ansible/ansible.cfg"
export ANSIBLE_HOME="$tmp/ansible-home" ANSIBLE_LOCAL_TEMP="$tmp/ansible-local" ANSIBLE_REMOTE_TEMP="$tmp/ansible-remote"
export XDG_CACHE_HOME="$tmp/cache"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 NO_COLOR=1

echo "== ansible: Helm releases match the Applications in argocd/ that adopt them"
python ansible/tests/check-pins.py "$repo"

echo "== ansible: yamllint --strict"
yamllint --strict -c .yamllint ansible/

echo "== ansible: ansible-playbook --syntax-check"
for inventory in ansible/inventory/example.yml ansible/tests/check-inventory.yml; do
    TANKSIM_CHECK_ROOT="$tmp" ansible-playbook -i "$inventory" ansible/site.yml --syntax-check
done

echo "== ansible: ansible-lint --offline (production profile)"
(cd ansible && ansible-lint --offline)

echo "== ansible: check mode against this machine"
# The release layout K3s publishes (<version>/<asset> and <version>/sha256sum-<arch>.txt),
# served from file://, with a stand-in binary: the download step plans against it as it would
# against GitHub, checksum file included.
version="$(sed -n 's/^k3s_version: *//p' ansible/roles/k3s/defaults/main.yml)"
case "$(uname -m)" in
    x86_64) asset=k3s checksums=sha256sum-amd64.txt ;;
    aarch64) asset=k3s-arm64 checksums=sha256sum-arm64.txt ;;
    armv7l) asset=k3s-armhf checksums=sha256sum-arm.txt ;;
    *) echo "check-ansible: no K3s release for $(uname -m)" >&2; exit 1 ;;
esac
mkdir -p "$tmp/mirror/$version"
printf '#!/bin/sh\necho "stand-in for the k3s %s binary"\n' "$version" >"$tmp/mirror/$version/$asset"
(cd "$tmp/mirror/$version" && sha256sum "$asset" >"$checksums")

# A node without K3s: what a fresh Debian has.
mkdir -p "$tmp/fresh/usr/local/bin" "$tmp/fresh/etc/systemd/system"
# A node already at the pinned version: a stand-in binary that answers the two questions the
# role asks (version, node Ready) and the admin kubeconfig K3s writes.
mkdir -p "$tmp/installed/usr/local/bin" "$tmp/installed/etc/systemd/system" "$tmp/installed/etc/rancher/k3s"
cat >"$tmp/installed/usr/local/bin/k3s" <<EOF
#!/bin/sh
case "\$1" in
    --version) echo "k3s version $version (0123abcd)"; echo "go version go1.25.11" ;;
    kubectl) echo True ;;
    *) exit 1 ;;
esac
EOF
chmod 0755 "$tmp/installed/usr/local/bin/k3s"
ln -s k3s "$tmp/installed/usr/local/bin/kubectl"
fake_b64="$(printf 'not a real credential' | base64 -w0)"
cat >"$tmp/installed/etc/rancher/k3s/k3s.yaml" <<EOF
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: $fake_b64
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: $fake_b64
    client-key-data: $fake_b64
EOF

# A throwaway sealing key pair made the way operators make theirs (scripts/seal.py --new-key),
# the key encrypted with ansible-vault, and repository credentials sealed with its certificate.
python scripts/seal.py --new-key "$tmp/keys"
python scripts/seal.py --new-key "$tmp/other-keys"
head -c 32 /dev/urandom | base64 >"$tmp/vault-password"
for dir in keys other-keys; do
    ansible-vault encrypt --vault-password-file "$tmp/vault-password" \
        --output "$tmp/$dir/sealing.key.vault" "$tmp/$dir/sealing.key"
    rm "$tmp/$dir/sealing.key"
done
python scripts/seal.py --cert "$tmp/keys/sealing.crt" --namespace argocd --name tanksim-repo \
    --label argocd.argoproj.io/secret-type=repository \
    type=git url=https://github.com/tanksim/tanksim.git username=git password=check-run-placeholder \
    >"$tmp/repo-credentials-prod.yaml"

snapshot() { (cd "$tmp" && find fresh installed mirror keys -printf '%p %y %m %s\n' | sort && \
    find fresh installed mirror keys -type f -exec sha256sum {} + | sort); }
snapshot >"$tmp/before.txt"

play() {
    TANKSIM_CHECK_ROOT="$tmp" ANSIBLE_STDOUT_CALLBACK=ansible.builtin.json \
        ansible-playbook -i ansible/tests/check-inventory.yml ansible/site.yml --check \
        --skip-tags service,cluster --vault-password-file "$tmp/vault-password" "$@"
}
rc=0
play >"$tmp/check-run.json" || rc=$?
python ansible/tests/check-results.py --root "$tmp" "$tmp/check-run.json" "$rc"

snapshot >"$tmp/after.txt"
if ! diff -u "$tmp/before.txt" "$tmp/after.txt"; then
    echo "check-ansible: check mode changed files (above)" >&2
    exit 1
fi
if [ -e "$tmp/kubeconfig" ]; then
    echo "check-ansible: check mode wrote a kubeconfig on the controller" >&2
    exit 1
fi
echo "check mode changed nothing on disk"

echo "== ansible: a sealing key that is not the certificate's is refused"
rc=0
play --limit check-installed-prod \
    -e "sealed_secrets_sealing_key_file=$tmp/other-keys/sealing.key.vault" >"$tmp/wrong-key.json" || rc=$?
python ansible/tests/check-results.py --root "$tmp" --expect-failure \
    "Check the key is the private half of the committed certificate" "$tmp/wrong-key.json" "$rc"

echo "== ansible: a sealed file without a namespace is refused, and so is a cluster without grafana-admin"
# argocd_sealed_secrets_dir pointed at fixtures instead of the checkout's argocd/sealed/.
mkdir -p "$tmp/sealed-broken" "$tmp/sealed-none"
python scripts/seal.py --cert "$tmp/keys/sealing.crt" --namespace monitoring --name grafana-admin \
    admin-user=admin admin-password=check-run-placeholder \
    | sed '/^  namespace: monitoring$/d' >"$tmp/sealed-broken/grafana-admin-prod.yaml"
rc=0
play --limit check-installed-prod -e "argocd_sealed_secrets_dir=$tmp/sealed-broken" >"$tmp/sealed-broken.json" || rc=$?
python ansible/tests/check-results.py --root "$tmp" --expect-failure \
    "Check each sealed file holds SealedSecrets with a namespace and a name" "$tmp/sealed-broken.json" "$rc" | tail -3
rc=0
play --limit check-installed-prod -e "argocd_sealed_secrets_dir=$tmp/sealed-none" >"$tmp/sealed-none.json" || rc=$?
python ansible/tests/check-results.py --root "$tmp" --expect-failure \
    "Check the required sealed secrets are there, each sealed once" "$tmp/sealed-none.json" "$rc" | tail -3

echo "== ansible: a real run inside the temporary directory, then a re-run that changes nothing"
if [ "$(id -u)" = 0 ]; then
    apply() {
        TANKSIM_CHECK_ROOT="$tmp" ANSIBLE_STDOUT_CALLBACK=ansible.builtin.json \
            ansible-playbook -i ansible/tests/check-inventory.yml ansible/site.yml --limit check-installed-prod \
            --skip-tags service,cluster --vault-password-file "$tmp/vault-password"
    }
    rc=0
    apply >"$tmp/apply-1.json" || rc=$?
    python ansible/tests/check-results.py --root "$tmp" --expect-success "$tmp/apply-1.json" "$rc" | tail -3
    rc=0
    apply >"$tmp/apply-2.json" || rc=$?
    python ansible/tests/check-results.py --root "$tmp" --expect-unchanged "$tmp/apply-2.json" "$rc" | tail -3
    python ansible/tests/check-rendered.py "$tmp"
else
    # The role sets root ownership on what it writes, which only root can do.
    echo "skipped: needs root (the check-mode steps above ran)"
fi

echo "OK: ansible checks passed"
