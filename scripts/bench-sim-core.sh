#!/usr/bin/env bash
# Side-by-side throughput of the sim-core MC-tau kernels and hand-written C reference loops
# (crates/sim-core/benches/reference/), measured interleaved in one invocation: the machine is
# shared and noisy, so only ratios measured together mean anything.
#
#   scripts/bench-sim-core.sh [all|check|bench]     (default: all = check, then bench)
#
#   check  bit-for-bit cross-check: the C loops (scalar and vec) against the Rust one-run
#          kernel (example mc_tau_check) on CHECK_TAUS sampled taus plus a few edge cases.
#   bench  ROUNDS rounds; each round runs every configuration once, the order rotated per
#          round; prints medians, ratios and a final JSON line with them.
#
# Environment: ROUNDS (default 5), CHECK_TAUS (default 1000), CC (default gcc),
# CARGO_TARGET_DIR (default <repo>/target). C binaries go to <target>/bench-ref/.
# Not part of the test command (it takes about a minute).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

MODE=${1:-all}
case "$MODE" in
  all | check | bench) ;;
  -h | --help)
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "bench-sim-core: unknown mode '$MODE' (all, check or bench)" >&2
    exit 64
    ;;
esac

ROUNDS=${ROUNDS:-5}
CHECK_TAUS=${CHECK_TAUS:-1000}
CC=${CC:-gcc}
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "bench-sim-core: ROUNDS must be a positive integer" >&2; exit 64; }
[[ "$CHECK_TAUS" =~ ^[0-9]+$ ]] || { echo "bench-sim-core: CHECK_TAUS must be an integer" >&2; exit 64; }
command -v python3 >/dev/null || { echo "bench-sim-core: python3 is required" >&2; exit 69; }
command -v "$CC" >/dev/null || { echo "bench-sim-core: $CC not found" >&2; exit 69; }

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
[[ "$TARGET" = /* ]] || TARGET=$ROOT/$TARGET
EXAMPLES=$TARGET/release/examples
REF_SRC=$ROOT/crates/sim-core/benches/reference/mc_tau.c
REF_OUT=$TARGET/bench-ref
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-sim-core.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ---- build ---------------------------------------------------------------------------------
echo "== build" >&2
cargo build --release --quiet -p tanksim-sim-core --example mc_tau --example mc_tau_check
mkdir -p "$REF_OUT"
CFLAGS=(-std=c11 -O3 -march=native -ffp-contract=off -Wall -Wextra -Werror)
"$CC" "${CFLAGS[@]}" -DDEFAULT_VEC=0 -o "$REF_OUT/mc_tau_scalar" "$REF_SRC" -lm
"$CC" "${CFLAGS[@]}" -DDEFAULT_VEC=1 -mprefer-vector-width=512 -o "$REF_OUT/mc_tau_vec" "$REF_SRC" -lm
# The same loops with the parameters read at run time, as the Rust kernels take them.
"$CC" "${CFLAGS[@]}" -DRUNTIME_PARAMS -DDEFAULT_VEC=0 -o "$REF_OUT/mc_tau_scalar_rt" "$REF_SRC" -lm
"$CC" "${CFLAGS[@]}" -DRUNTIME_PARAMS -DDEFAULT_VEC=1 -mprefer-vector-width=512 -o "$REF_OUT/mc_tau_vec_rt" "$REF_SRC" -lm

# ---- bit-for-bit cross-check ------------------------------------------------------------------
cross_check() {
  echo "== cross-check: C reference loops vs Rust one-run kernel" >&2
  # Edge cases (smallest tau, tau slightly above 1, slow plants that never reach 90 %) and
  # sampled taus, all printed with %.17g.
  {
    printf '%s\n' 1 1.0000000000000002 3.7 10 14.2 25 100 1000 1e6
    "$REF_OUT/mc_tau_scalar" --emit-taus "$CHECK_TAUS" --seed 7
  } >"$WORK/taus"
  "$EXAMPLES/mc_tau_check" <"$WORK/taus" >"$WORK/rust.txt"
  "$REF_OUT/mc_tau_scalar" --check <"$WORK/taus" >"$WORK/c-scalar.txt"
  "$REF_OUT/mc_tau_vec" --check <"$WORK/taus" >"$WORK/c-vec.txt"
  "$REF_OUT/mc_tau_scalar_rt" --check <"$WORK/taus" >"$WORK/c-scalar-rt.txt"
  "$REF_OUT/mc_tau_vec_rt" --check <"$WORK/taus" >"$WORK/c-vec-rt.txt"
  python3 - "$WORK" <<'EOF'
import struct, sys
work = sys.argv[1]
fields = ["overshoot_pct", "rise_time", "settling_time", "final_level", "iae"]
def key(tok):  # bit pattern of the parsed double ("none" stays a string)
    return tok if tok == "none" else struct.pack("<d", float(tok))
def load(name):
    with open(f"{work}/{name}") as f:
        return [[key(t) for t in line.split()] for line in f]
taus = [l.strip() for l in open(f"{work}/taus") if l.strip()]
rust = load("rust.txt")
bad = 0
for impl in ["c-scalar", "c-vec", "c-scalar-rt", "c-vec-rt"]:
    c = load(f"{impl}.txt")
    if len(c) != len(rust) or len(c) != len(taus):
        print(f"cross-check {impl}: {len(c)} lines, rust {len(rust)}, taus {len(taus)}")
        bad += 1
        continue
    mism = [(i, j) for i in range(len(c)) for j in range(5) if c[i][j] != rust[i][j]]
    if mism:
        bad += 1
        print(f"cross-check {impl}: {len(mism)} mismatching values, e.g.:")
        for i, j in mism[:5]:
            print(f"  tau {taus[i]} {fields[j]}: c {c[i][j]!r} rust {rust[i][j]!r}")
    else:
        print(f"cross-check {impl}: {len(c)} runs x 5 metrics "
              f"({', '.join(fields)}) bit-identical to the Rust one-run kernel")
sys.exit(1 if bad else 0)
EOF
}

# ---- interleaved benchmark --------------------------------------------------------------------
bench() {
  local labels=(rust-batch-1t rust-single rust-batch-2t rust-batch-avx2 rust-batch-portable c-scalar c-vec
    c-scalar-rt c-vec-rt)
  local -A cmd=(
    [rust-batch-1t]="$EXAMPLES/mc_tau --runs 100000 --threads 1"
    [rust-single]="$EXAMPLES/mc_tau --kernel single --runs 20000 --threads 1"
    [rust-batch-2t]="$EXAMPLES/mc_tau --runs 200000 --threads 2"
    [rust-batch-avx2]="$EXAMPLES/mc_tau --runs 100000 --threads 1 --isa avx2"
    [rust-batch-portable]="$EXAMPLES/mc_tau --runs 100000 --threads 1 --isa portable"
    [c-scalar]="$REF_OUT/mc_tau_scalar --runs 20000"
    [c-vec]="$REF_OUT/mc_tau_vec --runs 100000"
    [c-scalar-rt]="$REF_OUT/mc_tau_scalar_rt --runs 20000"
    [c-vec-rt]="$REF_OUT/mc_tau_vec_rt --runs 100000"
  )
  local n=${#labels[@]} load_before
  load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
  echo "== bench: $ROUNDS rounds x $n configurations, interleaved (load avg before: $load_before)" >&2
  : >"$WORK/results.tsv"
  for ((round = 0; round < ROUNDS; round++)); do
    for ((i = 0; i < n; i++)); do
      local label=${labels[$(((i + round) % n))]} line
      # shellcheck disable=SC2086 # the command strings are word-split on purpose
      line=$(${cmd[$label]})
      printf '%s\t%s\t%s\n' "$round" "$label" "$line" >>"$WORK/results.tsv"
      echo "  round $((round + 1)) $label: $line" >&2
    done
  done
  local load_after
  load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
  python3 - "$WORK/results.tsv" "$ROUNDS" "$load_before" "$load_after" "$(nproc)" <<'EOF'
import json, statistics, sys
path, rounds, load_before, load_after, cpus = sys.argv[1], int(sys.argv[2]), *sys.argv[3:]
order = ["rust-batch-1t", "rust-single", "rust-batch-2t", "rust-batch-avx2",
         "rust-batch-portable", "c-scalar", "c-vec", "c-scalar-rt", "c-vec-rt"]
per = {}  # label -> {round: runs_per_sec}
for line in open(path):
    r, label, js = line.rstrip("\n").split("\t", 2)
    per.setdefault(label, {})[int(r)] = float(json.loads(js)["runs_per_sec"])
med = {l: statistics.median(per[l].values()) for l in order}
print(f"\nMC-tau throughput, runs/s ({rounds} interleaved rounds; {cpus} CPUs; "
      f"load avg {load_before} -> {load_after})")
print(f"{'configuration':<22}{'median':>12}{'min':>12}{'max':>12}")
for l in order:
    v = per[l].values()
    print(f"{l:<22}{med[l]:>12.0f}{min(v):>12.0f}{max(v):>12.0f}")
ratio_defs = [
    ("rust-batch-1t / c-vec", "rust-batch-1t", "c-vec"),
    ("rust-single / c-scalar", "rust-single", "c-scalar"),
    ("rust-batch-1t / c-vec-rt", "rust-batch-1t", "c-vec-rt"),
    ("rust-single / c-scalar-rt", "rust-single", "c-scalar-rt"),
    ("rust-batch-2t / rust-batch-1t", "rust-batch-2t", "rust-batch-1t"),
    ("rust-batch-avx2 / c-vec", "rust-batch-avx2", "c-vec"),
    ("rust-batch-portable / c-vec", "rust-batch-portable", "c-vec"),
]
print(f"\n{'ratio':<32}{'of medians':>12}{'median per round':>18}")
ratios = {}
for name, a, b in ratio_defs:
    of_medians = med[a] / med[b]
    per_round = statistics.median(per[a][r] / per[b][r] for r in per[a] if r in per[b])
    ratios[name] = {"of_medians": round(of_medians, 3), "median_per_round": round(per_round, 3)}
    print(f"{name:<32}{of_medians:>12.3f}{per_round:>18.3f}")
print(json.dumps({"bench": "sim-core-mc-tau", "rounds": rounds,
                  "median_runs_per_sec": {l: round(med[l], 1) for l in order},
                  "ratios": ratios}, separators=(",", ":")))
EOF
}

case "$MODE" in
  check) cross_check ;;
  bench) bench ;;
  all)
    cross_check
    bench
    ;;
esac
