#!/usr/bin/env bash
# Installs, once, the tools the tests need, into .tools/ (gitignored) so reruns are fast.
# Sourced by scripts/test.sh.

TANKSIM_TOOLS="${TANKSIM_TOOLS:-$PWD/.tools}"
export TANKSIM_TOOLS

# A Python virtualenv with the independent reference implementations the tests compare
# against (python-control, numpy, scipy) and what the generated Python client needs
# (grpcio, protobuf, PyYAML; grpcio-tools pinned exactly: its version is written into the
# generated stubs, which a test compares with freshly generated ones), and
# kubernetes-validate and jsonschema for the manifests under deploy/ (scripts/check-deploy.sh),
# cryptography for sealing secrets offline (scripts/seal.py).
ensure_python_tools() {
    local venv="$TANKSIM_TOOLS/venv"
    local stamp="$venv/.installed-v5"
    if [ ! -f "$stamp" ]; then
        echo "== installing Python test tools into $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check \
            "control==0.10.2" "numpy>=2,<3" "scipy>=1.13,<2" \
            "grpcio>=1.85.1,<1.86" "grpcio-tools==1.85.1" "protobuf>=7.35.1,<8" "pyyaml>=6,<7" \
            "kubernetes-validate==1.37.0" "jsonschema>=4.23,<5" "cryptography>=44,<47" "yamllint==1.38.0"
        touch "$stamp"
    fi
    export TANKSIM_PYTHON="$venv/bin/python"
}

# redis-server for the tests that start their own (queue/store conformance, end-to-end).
ensure_redis() {
    if ! command -v redis-server >/dev/null 2>&1 && [ -z "${TANKSIM_REDIS_SERVER:-}" ]; then
        echo "== installing redis-server"
        if [ "$(id -u)" = 0 ]; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
        else
            sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
        fi
    fi
}

# buf (protobuf lint and breaking-change checks), from the npm registry.
ensure_buf() {
    local dir="$TANKSIM_TOOLS/node"
    if [ ! -x "$dir/node_modules/.bin/buf" ]; then
        echo "== installing buf into $dir"
        mkdir -p "$dir"
        (cd "$dir" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund @bufbuild/buf@1.75.0)
    fi
    export TANKSIM_BUF="$dir/node_modules/.bin/buf"
}

# The Kubernetes object models that validate custom resources (PrometheusRule, PodMonitor, the
# cert-manager Certificates and Issuers, ...) against their API's schemas, from the npm registry,
# beside buf (scripts/validate-crds.mjs). @kubernetes-models/cert-manager is generated from
# cert-manager's own Go API types (cert-manager.io/v1, the types its CRDs are generated from):
# no package on a registry reachable here ships the CRDs' OpenAPI schemas themselves.
ensure_manifest_validators() {
    local dir="$TANKSIM_TOOLS/node"
    local stamp="$dir/.installed-manifest-validators-v2"
    if [ ! -f "$stamp" ]; then
        echo "== installing Kubernetes object models into $dir"
        mkdir -p "$dir"
        (cd "$dir" && { [ -f package.json ] || npm init -y >/dev/null; } &&
            npm install --silent --no-audit --no-fund --save-exact \
                kubernetes-models@5.1.0 @kubernetes-models/prometheus-operator@6.0.0 \
                @kubernetes-models/cert-manager@6.0.0 yaml@2.9.1)
        touch "$stamp"
    fi
    export TANKSIM_NODE_MODULES="$dir/node_modules"
}

# Prometheus and promtool (Debian's `prometheus` package, 2.42), for the rules' unit tests
# (scripts/check-rules.sh) and the live scrape of an e2e deployment (e2e/tests/e2e/prometheus.rs).
# The package is unpacked into .tools/ rather than installed: installing it would start a
# system Prometheus, and neither binary needs more than libc.
ensure_prometheus() {
    local dir="$TANKSIM_TOOLS/prometheus"
    if [ ! -x "$dir/usr/bin/prometheus" ] || [ ! -x "$dir/usr/bin/promtool" ]; then
        echo "== unpacking Debian's prometheus package into $dir"
        local download
        download="$(mktemp -d)"
        if ! (cd "$download" && apt-get download prometheus >/dev/null 2>&1); then
            # A fresh machine may have no package lists yet.
            if [ "$(id -u)" = 0 ]; then apt-get update -qq; else sudo apt-get update -qq; fi
            (cd "$download" && apt-get download prometheus >/dev/null)
        fi
        mkdir -p "$dir"
        dpkg-deb -x "$download"/prometheus_*.deb "$dir"
        rm -rf "$download"
    fi
    export TANKSIM_PROMETHEUS="$dir/usr/bin/prometheus"
    export TANKSIM_PROMTOOL="$dir/usr/bin/promtool"
}

# The Streamlit frontend's browser test (clients/streamlit/tests/test_app.py): Debian's
# chromium, driven by Playwright for Python (no `playwright install`: it downloads a browser
# build), and a venv of its own with clients/streamlit/requirements.txt (exact pins; its
# stamp names the file's hash, so editing the pins reinstalls).
ensure_streamlit_tools() {
    if [ ! -x /usr/bin/chromium ]; then
        echo "== installing chromium"
        if [ "$(id -u)" = 0 ]; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
        else
            sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
        fi
    fi
    local venv="$TANKSIM_TOOLS/streamlit-venv"
    local requirements stamp
    requirements="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/clients/streamlit/requirements.txt"
    stamp="$venv/.installed-$(sha256sum "$requirements" | cut -c1-16)"
    if [ ! -f "$stamp" ]; then
        echo "== installing the Streamlit app's tools into $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
        rm -f "$venv"/.installed-*
        touch "$stamp"
    fi
    export TANKSIM_STREAMLIT_PYTHON="$venv/bin/python"
}

# The TypeScript client's packages (clients/typescript: protoc-gen-es, Connect, yaml, exact
# pins in its package-lock.json), reinstalled whenever package-lock.json is newer than
# node_modules, and buf, for its test (crates/cli/tests/typescript_client.rs: the example
# against `tanksim serve all`, and the generated code regenerated and compared); that test
# runs the Node named by TANKSIM_NODE, and is skipped without it.
ensure_typescript_client() {
    local dir
    dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/clients/typescript"
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        echo "ensure_typescript_client: node and npm (Node >= 20) are needed" >&2
        return 1
    fi
    if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
        echo "== installing the TypeScript client's packages into $dir/node_modules"
        (cd "$dir" && npm ci --no-audit --no-fund) || return 1
        touch "$dir/node_modules"
    fi
    ensure_buf
    TANKSIM_NODE="$(command -v node)"
    export TANKSIM_NODE
}
