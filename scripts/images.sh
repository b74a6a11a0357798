#!/usr/bin/env bash
# Builds tanksim's container images on this machine with podman, from release binaries built
# here (the `*-prebuilt` targets of docker/Dockerfile), plus the Redis image the local smoke
# run of the manifests uses, then checks each image and prints a size table.
#
#   bash scripts/images.sh [--tag TAG] [--test-binaries] [--no-cargo] [--no-checks] [IMAGE...]
#
#   IMAGE            gateway dispatcher worker results cli redis (default: all six)
#   --tag TAG        tag of the tanksim images (default: $TAG, else `local`)
#   --test-binaries  the binaries `cargo test --workspace` builds instead of release ones:
#                    target/debug/e2e-<service> (the services' own main.rs, built for the
#                    end-to-end tests) and target/debug/tanksim, at opt-level 2 without LTO.
#                    The test command's smoke run uses them: they prove the manifests as well
#                    as release binaries do, without a second whole-workspace build.
#   --no-cargo       use the binaries as they are instead of running cargo first
#   --no-checks      build only
#
# Images: ghcr.io/tanksim/tanksim-{gateway,dispatcher,worker,results}:TAG,
# ghcr.io/tanksim/tanksim:TAG (the CLI) and localhost/tanksim-redis:smoke.
#
# Works on a fresh Debian 12 machine (root, or sudo for apt-get and debootstrap): installs
# podman, buildah, runc and debootstrap if missing; no image registry is reachable here, so
# the Debian base (docker.io/library/debian:bookworm-slim) is made with debootstrap, cached
# under .tools/images/, and imported into podman's store. What needs a container network uses
# --network=host (builds: apt inside the build) or --network=none (checks); podman's default
# bridge network is never used. GitHub Actions builds the from-source targets with docker
# buildx instead (docker/README.md).
#
# Checks on every tanksim image: config (user 65532:65532, STOPSIGNAL SIGTERM, entry point,
# OCI revision label), `--version` runs under `podman run --rm --network=none`, every shared
# library resolves inside the image, there is no /bin/sh (running it must fail); the gateway
# runs with a read-only root as uid 65532 and stops cleanly on SIGTERM; the CLI runs the
# MC-tau example end to end with a read-only root and writes its output to /data as 65532.
# The Redis image: runs as 65532 and answers PING. Exits non-zero on any failure.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

TOOLS="${TANKSIM_TOOLS:-$REPO_ROOT/.tools}"
TAG="${TAG:-local}"
REGISTRY="ghcr.io/tanksim"
DEBIAN_BASE="docker.io/library/debian:bookworm-slim"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
REDIS_IMAGE="localhost/tanksim-redis:smoke"
ALL_IMAGES=(gateway dispatcher worker results cli redis)
RUN_UID=65532

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

RUN_CARGO=1
RUN_CHECKS=1
TEST_BINARIES=0
SELECTED=()
while [ $# -gt 0 ]; do
    case "$1" in
        --tag) TAG="${2:?--tag needs a value}"; shift 2 ;;
        --tag=*) TAG="${1#--tag=}"; shift ;;
        --test-binaries) TEST_BINARIES=1; shift ;;
        --no-cargo) RUN_CARGO=0; shift ;;
        --no-checks) RUN_CHECKS=0; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "images.sh: unknown option $1" >&2; usage >&2; exit 64 ;;
        *)
            case " ${ALL_IMAGES[*]} " in
                *" $1 "*) SELECTED+=("$1") ;;
                *) echo "images.sh: unknown image '$1' (one of: ${ALL_IMAGES[*]})" >&2; exit 64 ;;
            esac
            shift ;;
    esac
done
[ ${#SELECTED[@]} -gt 0 ] || SELECTED=("${ALL_IMAGES[@]}")
# A tag is what the kustomize overlays and the release workflow write: keep it a valid one.
[[ "$TAG" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || { echo "images.sh: invalid tag '$TAG'" >&2; exit 64; }

# --- names --------------------------------------------------------------------------------
image_ref() {
    case "$1" in
        cli) echo "$REGISTRY/tanksim:$TAG" ;;
        redis) echo "$REDIS_IMAGE" ;;
        *) echo "$REGISTRY/tanksim-$1:$TAG" ;;
    esac
}
binary_name() { if [ "$1" = cli ]; then echo tanksim; else echo "tanksim-$1"; fi; }
# The file holding an image's binary: the release build's, or the test build's (the services'
# binaries are built for the end-to-end tests as e2e-<service>, from the same main.rs).
binary_file() {
    if [ "$TEST_BINARIES" = 0 ]; then echo "target/release/$(binary_name "$1")"
    elif [ "$1" = cli ]; then echo target/debug/tanksim
    else echo "target/debug/e2e-$1"; fi
}
package_name() { echo "tanksim-$1"; }   # the CLI's package is tanksim-cli

log() { printf '== %s\n' "$*"; }
fail() { printf 'images.sh: FAIL: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- tools --------------------------------------------------------------------------------
ensure_packages() {
    local missing=() cmd
    for cmd in podman buildah runc debootstrap; do
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah runc debootstrap >/dev/null
    fi
}

# podman's defaults fail on this machine kind (shared/TOOLING.md): crun cannot set rlimits on
# hybrid cgroups, and the default ulimits exceed the hard limits a session has. runc, and
# ulimits no higher than this shell's hard limits.
configure_podman() {
    local dir="$TOOLS/containers" hard_nofile hard_nproc nofile=20000 nproc=4096
    mkdir -p "$dir"
    hard_nofile="$(ulimit -Hn)"
    hard_nproc="$(ulimit -Hu)"
    [ "$hard_nofile" = unlimited ] || [ "$hard_nofile" -ge "$nofile" ] || nofile="$hard_nofile"
    [ "$hard_nproc" = unlimited ] || [ "$hard_nproc" -ge "$nproc" ] || nproc="$hard_nproc"
    cat > "$dir/containers.conf" <<EOF
# Written by scripts/images.sh (used through CONTAINERS_CONF): runc instead of crun, and
# ulimits within this machine's hard limits.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
EOF
    export CONTAINERS_CONF="$dir/containers.conf"
}

# The base image every Debian stage starts from, made from Debian's archive (signatures
# checked by debootstrap against the host's debian-archive-keyring) when podman's store lacks
# it. Its apt sources equal the official image's (bookworm, -updates, -security), so the
# packages installed on top come with their security fixes.
ensure_debian_base() {
    if podman image exists "$DEBIAN_BASE"; then
        return
    fi
    local cache="$TOOLS/images" tarball rootfs started=$SECONDS
    tarball="$cache/debian-bookworm-slim.tar"
    mkdir -p "$cache"
    if [ ! -s "$tarball" ]; then
        log "making $DEBIAN_BASE with debootstrap (about a minute)"
        rootfs="$(mktemp -d "$cache/rootfs.XXXXXX")"
        # shellcheck disable=SC2064  # expand now: the path is fixed
        trap "as_root rm -rf '$rootfs'" EXIT
        as_root debootstrap --variant=minbase bookworm "$rootfs" "$DEBIAN_MIRROR" > "$cache/debootstrap.log" 2>&1 ||
            { tail -20 "$cache/debootstrap.log" >&2; fail "debootstrap failed (log: $cache/debootstrap.log)"; }
        as_root rm -f "$rootfs/etc/apt/sources.list"
        as_root tee "$rootfs/etc/apt/sources.list.d/debian.sources" >/dev/null <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        # The official image's "slim" dpkg filter (debuerreotype-slimify): no docs but the
        # copyright files, no man pages, locales or info, now and for every later install.
        as_root tee "$rootfs/etc/dpkg/dpkg.cfg.d/docker" >/dev/null <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
        # ... and its apt settings: no package caches or translations left in a layer by an
        # `apt-get update && apt-get install` in a Dockerfile.
        as_root tee "$rootfs/etc/apt/apt.conf.d/docker-clean" >/dev/null <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
        echo 'Acquire::Languages "none";' | as_root tee "$rootfs/etc/apt/apt.conf.d/docker-no-languages" >/dev/null
        echo 'Acquire::GzipIndexes "true";' | as_root tee "$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes" >/dev/null
        echo 'Apt::AutoRemove::SuggestsImportant "false";' |
            as_root tee "$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests" >/dev/null
        as_root find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
        as_root find "$rootfs/usr/share" -mindepth 1 -maxdepth 1 \
            \( -name groff -o -name info -o -name linda -o -name locale -o -name man \) \
            -exec find {} -mindepth 1 ! -type d -delete \;
        [ ! -d "$rootfs/usr/share/lintian/overrides" ] || as_root find "$rootfs/usr/share/lintian/overrides" -mindepth 1 -delete
        # What an image must not carry: package caches and lists, the device nodes
        # debootstrap made (the runtime mounts /dev), logs of the bootstrap itself.
        as_root find "$rootfs/var/cache/apt" "$rootfs/var/lib/apt/lists" "$rootfs/dev" "$rootfs/var/log" \
            -mindepth 1 \( -type f -o -type c -o -type b -o -type p -o -type l \) -delete
        as_root tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" .
        as_root chmod 0644 "$tarball.tmp"
        mv "$tarball.tmp" "$tarball"
        as_root rm -rf "$rootfs"
        trap - EXIT
    fi
    log "importing $tarball as $DEBIAN_BASE"
    podman import --change 'CMD ["bash"]' --message "debootstrap --variant=minbase bookworm" \
        "$tarball" "$DEBIAN_BASE" >/dev/null
    echo "   base ready in $((SECONDS - started)) s"
}

# --- build --------------------------------------------------------------------------------
declare -A BUILD_SECONDS=()

build_binaries() {
    local packages=() name
    for name in "${SELECTED[@]}"; do
        [ "$name" = redis ] || packages+=(-p "$(package_name "$name")")
    done
    [ ${#packages[@]} -gt 0 ] || return 0
    if [ "$RUN_CARGO" = 1 ]; then
        local started=$SECONDS
        if [ "$TEST_BINARIES" = 1 ]; then
            # The whole workspace, as the test command builds it: resolver 2 unifies features
            # over the packages built, so only this reuses that build (a no-op after it).
            log "cargo test --workspace --no-run --locked"
            cargo test --workspace --no-run --locked
        else
            # Incremental: a no-op when target/release is current.
            log "cargo build --release --locked ${packages[*]}"
            cargo build --release --locked "${packages[@]}"
        fi
        BUILD_SECONDS[cargo]=$((SECONDS - started))
    fi
    for name in "${SELECTED[@]}"; do
        [ "$name" = redis ] && continue
        [ -x "$(binary_file "$name")" ] || fail "$(binary_file "$name") is missing"
    done
}

# The build context of a `*-prebuilt` target: only its binary, at target/release/ under its
# image's name, where the Dockerfile copies it from (hard-linked, else copied).
stage_context() {
    local name="$1" dir bin
    bin="$(binary_name "$name")"
    dir="$(mktemp -d "$TOOLS/images/context.XXXXXX")"
    mkdir -p "$dir/target/release"
    ln "$(binary_file "$name")" "$dir/target/release/$bin" 2>/dev/null || cp "$(binary_file "$name")" "$dir/target/release/$bin"
    echo "$dir"
}

VERSION="$(sed -n '/^\[workspace\.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)"
REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
# The commit's time (or SOURCE_DATE_EPOCH), not the wall clock: rebuilding the same commit
# gives the same labels, so podman's layer cache answers and the image id stays the same.
CREATED_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
CREATED="$(date -u -d "@$CREATED_EPOCH" +%Y-%m-%dT%H:%M:%SZ)"

build_image() {
    local name="$1" ref logfile started=$SECONDS
    ref="$(image_ref "$name")"
    logfile="$TOOLS/images/build-$name.log"
    log "building $ref"
    local args=(--pull=never --network=host --layers -t "$ref") context=.
    if [ "$name" = redis ]; then
        args+=(-f docker/redis-smoke.Dockerfile)
    else
        context="$(stage_context "$name")"
        args+=(-f docker/Dockerfile --target "$name-prebuilt"
            --build-arg "VERSION=$VERSION" --build-arg "REVISION=$REVISION" --build-arg "CREATED=$CREATED")
    fi
    local rc=0
    podman build "${args[@]}" "$context" > "$logfile" 2>&1 || rc=$?
    [ "$context" = . ] || rm -rf "$context"
    [ $rc = 0 ] || { tail -30 "$logfile" >&2; fail "podman build of $ref failed (log: $logfile)"; }
    [ "$name" = redis ] || relabel_if_stale "$ref"
    BUILD_SECONDS[$name]=$((SECONDS - started))
}

# buildah 1.28 (Debian 12's podman) keys its layer cache on the unexpanded instruction, so
# after a new commit the runtime stage's `LABEL ...revision="${REVISION}"` layer comes from the
# cache with the previous commit's values (and --label is ignored when the last step is
# cached). Docker BuildKit has no such bug. Here the labels are corrected on the built image
# itself: a config-only commit (an empty layer) when they are stale.
relabel_if_stale() {
    local ref="$1" key want got ctr stale=0
    for key in version revision created; do
        case "$key" in version) want="$VERSION" ;; revision) want="$REVISION" ;; created) want="$CREATED" ;; esac
        got="$(inspect "$ref" "{{index .Config.Labels \"org.opencontainers.image.$key\"}}")"
        [ "$got" = "$want" ] || stale=1
    done
    [ "$stale" = 1 ] || return 0
    echo "   relabelling $ref for revision $REVISION (stale labels from buildah's layer cache)"
    ctr="$(buildah from --pull-never "$ref")"
    buildah config --created-by "scripts/images.sh: OCI labels of revision $REVISION" \
        --label "org.opencontainers.image.version=$VERSION" \
        --label "org.opencontainers.image.revision=$REVISION" \
        --label "org.opencontainers.image.created=$CREATED" "$ctr"
    # Stamped with the commit's time too, so relabelling the same build gives the same image id.
    buildah commit --quiet --timestamp "$CREATED_EPOCH" "$ctr" "$ref" >/dev/null
    buildah rm "$ctr" >/dev/null
}

# --- checks -------------------------------------------------------------------------------
inspect() { podman image inspect --format "$2" "$1"; }

expect_eq() { # what, got, want
    [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# Runs a detached container for a moment and returns the uid its main process runs as, seen
# from the host (rootful podman without a user namespace: the same number).
container_uid() { # container
    local pid
    pid="$(podman inspect --format '{{.State.Pid}}' "$1")"
    [ "$pid" -gt 0 ] 2>/dev/null || fail "container $1 is not running"
    awk '/^Uid:/ {print $2}' "/proc/$pid/status"
}

# A host directory owned by 65532 to mount at /data, as a Kubernetes volume with fsGroup
# would be (podman 4.3's --tmpfs takes no uid= option). Removed by the caller.
make_data_dir() {
    local dir
    dir="$(mktemp -d "$TOOLS/images/check-data.XXXXXX")"
    as_root chown "$RUN_UID:$RUN_UID" "$dir"
    echo "$dir"
}

check_no_shell() { # ref
    if podman run --rm --network=none --entrypoint /bin/sh "$1" -c true >/dev/null 2>&1; then
        fail "$1 has a working /bin/sh"
    fi
}

check_tanksim_image() {
    local name="$1" ref bin out loader
    ref="$(image_ref "$name")"
    bin="$(binary_name "$name")"
    log "checking $ref"
    expect_eq "$ref user" "$(inspect "$ref" '{{.Config.User}}')" "$RUN_UID:$RUN_UID"
    expect_eq "$ref stop signal" "$(inspect "$ref" '{{.Config.StopSignal}}')" SIGTERM
    expect_eq "$ref entrypoint" "$(inspect "$ref" '{{json .Config.Entrypoint}}')" "[\"/usr/local/bin/$bin\"]"
    expect_eq "$ref revision label" \
        "$(inspect "$ref" '{{index .Config.Labels "org.opencontainers.image.revision"}}')" "$REVISION"
    expect_eq "$ref version label" \
        "$(inspect "$ref" '{{index .Config.Labels "org.opencontainers.image.version"}}')" "$VERSION"

    out="$(podman run --rm --network=none "$ref" --version 2>&1)" || fail "$ref --version: $out"
    expect_eq "$ref --version" "$out" "$bin $VERSION"

    # The dynamic loader of the image lists what the binary needs: every line must resolve to
    # a file inside the image (a binary linked against a newer glibc than bookworm's fails here).
    loader="$(inspect "$ref" '{{.Architecture}}')"
    case "$loader" in
        amd64) loader=/lib64/ld-linux-x86-64.so.2 ;;
        arm64) loader=/lib/ld-linux-aarch64.so.1 ;;
        *) fail "$ref: unknown architecture $loader" ;;
    esac
    out="$(podman run --rm --network=none --entrypoint "$loader" "$ref" --list "/usr/local/bin/$bin" 2>&1)" ||
        fail "$ref: libraries do not resolve: $out"
    if grep -q 'not found' <<<"$out"; then fail "$ref: missing libraries: $out"; fi

    check_no_shell "$ref"

    case "$name" in
        gateway) check_gateway_runs "$ref" ;;
        cli) check_cli_runs "$ref" ;;
    esac
}

# The gateway needs no peer to start (its channels connect lazily): run it as Kubernetes does
# (read-only root filesystem), check its uid, stop it with SIGTERM and expect exit 0.
# TANKSIM_AUTH=disabled: the binary requires auth by default and exits 64 without a credential
# source (a keys file, a key Redis or an OIDC issuer); this check is about the image, and the
# smoke run (scripts/smoke.sh) runs the gateway with auth as the manifests configure it.
check_gateway_runs() {
    local ref="$1" name="tanksim-images-check-gateway" uid code
    podman rm -f "$name" >/dev/null 2>&1 || true
    podman run -d --name "$name" --network=none --read-only -e TANKSIM_AUTH=disabled "$ref" >/dev/null
    sleep 2
    uid="$(container_uid "$name")" || { podman logs "$name" >&2; podman rm -f "$name" >/dev/null; exit 1; }
    podman stop --time 20 "$name" >/dev/null
    code="$(podman inspect --format '{{.State.ExitCode}}' "$name")"
    if [ "$code" != 0 ]; then podman logs "$name" >&2; fi
    podman rm -f "$name" >/dev/null
    expect_eq "$ref process uid" "$uid" "$RUN_UID"
    expect_eq "$ref exit code after SIGTERM" "$code" 0
}

# The CLI's embedded mode is the whole pipeline in one process over loopback: run the MC-tau
# example in the image (read-only root, no network but loopback) with /data a host directory,
# and check the results it writes there belong to uid 65532.
check_cli_runs() {
    local ref="$1" out dir owner
    dir="$(make_data_dir)"
    out="$(podman run --rm --network=none --read-only -v "$REPO_ROOT/examples:/examples:ro" -v "$dir:/data" \
        "$ref" run /examples/mc-tau.yaml --no-plots --data-dir /data/rows 2>&1)" ||
        { as_root rm -rf "$dir"; fail "$ref run /examples/mc-tau.yaml: $out"; }
    owner="$(find "$dir" -name results.json -printf '%U\n' | head -1)"
    as_root rm -rf "$dir"
    [ -n "$owner" ] || fail "$ref run wrote no results.json under /data: $out"
    expect_eq "$ref output owner" "$owner" "$RUN_UID"
}

# The smoke run's Redis: as the manifests start it (`redis-server ARGS`), as uid 65532, and it
# answers on loopback inside its own network namespace.
check_redis_image() {
    local ref="$REDIS_IMAGE" name="tanksim-images-check-redis" uid pong dir tries=0
    log "checking $ref"
    expect_eq "$ref user" "$(inspect "$ref" '{{.Config.User}}')" "$RUN_UID:$RUN_UID"
    podman rm -f "$name" >/dev/null 2>&1 || true
    dir="$(make_data_dir)"
    podman run -d --name "$name" --network=none --read-only -v "$dir:/data" \
        "$ref" redis-server --port 6390 --appendonly yes >/dev/null
    until pong="$(podman exec "$name" redis-cli -p 6390 ping 2>/dev/null)" && [ "$pong" = PONG ]; do
        tries=$((tries + 1))
        if [ "$tries" -ge 20 ]; then
            podman logs "$name" >&2; podman rm -f "$name" >/dev/null; as_root rm -rf "$dir"; fail "$ref: no PONG"
        fi
        sleep 0.5
    done
    uid="$(container_uid "$name")"
    podman stop --time 10 "$name" >/dev/null
    podman rm -f "$name" >/dev/null
    # The append-only file proves it wrote into the volume as 65532.
    local owner
    owner="$(find "$dir" -name '*.aof*' -printf '%U\n' | head -1)"
    as_root rm -rf "$dir"
    expect_eq "$ref process uid" "$uid" "$RUN_UID"
    expect_eq "$ref append-only file owner" "$owner" "$RUN_UID"
}

# --- main ---------------------------------------------------------------------------------
ensure_packages
configure_podman
mkdir -p "$TOOLS/images"
# One run at a time on a machine: two builds would race on the debootstrap cache and tags.
exec 9>"$TOOLS/images/.lock"
if ! flock -n 9; then
    log "waiting for another scripts/images.sh to finish"
    flock 9
fi

ensure_debian_base
build_binaries
for name in "${SELECTED[@]}"; do build_image "$name"; done

if [ "$RUN_CHECKS" = 1 ]; then
    for name in "${SELECTED[@]}"; do
        if [ "$name" = redis ]; then check_redis_image; else check_tanksim_image "$name"; fi
    done
    log "all image checks passed"
fi

echo
printf '%-44s %10s %10s\n' IMAGE SIZE BUILD
for name in "${SELECTED[@]}"; do
    ref="$(image_ref "$name")"
    bytes="$(inspect "$ref" '{{.Size}}')"
    printf '%-44s %7.1f MB %8s s\n' "$ref" "$(awk -v b="$bytes" 'BEGIN {print b / 1000000}')" "${BUILD_SECONDS[$name]}"
done
[ -z "${BUILD_SECONDS[cargo]:-}" ] || printf '%-44s %10s %8s s\n' "(cargo)" "" "${BUILD_SECONDS[cargo]}"
