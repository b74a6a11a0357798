#!/usr/bin/env bash
# Measures the figures docs/capacity.md's arithmetic starts from, on this machine, with the
# release binaries: one worker pod's runs/s (one CPU, one thread, as deploy/base/worker.yaml)
# against the sim-core kernel on the same CPU, per-chunk CPU of results, dispatcher and Redis,
# the task stream's enqueue and read+ack rates and memory per entry, and the bytes of job
# state in Redis. The measuring itself is e2e/src/bin/measure-capacity (real code paths:
# the e2e harness's processes, the broker's RedisQueue and RedisStore); this script builds it,
# checks what it needs, runs it, and keeps its output.
#
#   scripts/measure-capacity.sh [--podman] [-- MEASURE-CAPACITY-OPTIONS...]
#
#   --podman   the worker is the released image ghcr.io/tanksim/tanksim-worker:$TAG (default
#              tag `local`, built by scripts/images.sh) under `podman run --network host
#              --cpus 1`, instead of the release binary pinned to CPU 0 with taskset
#   options    passed on, e.g. `--parts pod --rounds 3` (measure-capacity's header lists them)
#
# Output: progress and per-round lines on stderr; the JSON with every median on stdout and in
# target/capacity/measure-capacity-<UTC time>.json (with the stderr log beside it).
# Not part of the test command: it takes a few minutes and its numbers are the point, not a
# pass/fail. It exits non-zero if anything fails to build, start or finish.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

PODMAN=0
PASS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --podman) PODMAN=1 ;;
    --) shift; PASS+=("$@"); break ;;
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "measure-capacity: unknown option $1 (see --help)" >&2; exit 64 ;;
  esac
  shift
done

# Two CPUs at least: the worker gets one, everything else the other.
CPUS=$(nproc)
[ "$CPUS" -ge 2 ] || { echo "measure-capacity: needs 2 CPUs, this machine has $CPUS" >&2; exit 69; }
command -v taskset >/dev/null || { echo "measure-capacity: taskset (util-linux) is required" >&2; exit 69; }

# redis-server, as the test command installs it (scripts/tools.sh).
if ! command -v redis-server >/dev/null 2>&1 && [ -z "${TANKSIM_REDIS_SERVER:-}" ]; then
  echo "== installing redis-server" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi

if [ "$PODMAN" = 1 ]; then
  command -v podman >/dev/null || { echo "measure-capacity: podman missing (scripts/images.sh installs it)" >&2; exit 69; }
  # podman's defaults fail on this machine kind (runc, ulimits): the config images.sh writes.
  export CONTAINERS_CONF="${CONTAINERS_CONF:-$ROOT/.tools/containers/containers.conf}"
  [ -f "$CONTAINERS_CONF" ] || { echo "measure-capacity: $CONTAINERS_CONF missing: run scripts/images.sh worker first" >&2; exit 69; }
  IMAGE="ghcr.io/tanksim/tanksim-worker:${TAG:-local}"
  podman image exists "$IMAGE" || { echo "measure-capacity: no image $IMAGE: run scripts/images.sh worker first" >&2; exit 69; }
  PASS=(--worker podman --image "$IMAGE" "${PASS[@]}")
fi

echo "== build (release)" >&2
cargo build --release --quiet -p tanksim-e2e --bins

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
[[ "$TARGET" = /* ]] || TARGET=$ROOT/$TARGET
OUT="$TARGET/capacity"
mkdir -p "$OUT"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
JSON="$OUT/measure-capacity-$STAMP.json"
LOG="$OUT/measure-capacity-$STAMP.log"

echo "== measure (load average $(cut -d' ' -f1-3 /proc/loadavg)); log: $LOG" >&2
"$TARGET/release/measure-capacity" "${PASS[@]}" 2> >(tee "$LOG" >&2) | tee "$JSON"
# A run that died before printing leaves an empty file: fail loudly.
[ -s "$JSON" ] || { echo "measure-capacity: no result" >&2; exit 1; }
echo "== saved $JSON" >&2
