/*
 * Hand-written C reference loops for the canonical MC-tau run, to put the Rust kernels'
 * throughput next to something known (see README.md in this directory).
 *
 * One source, two implementations:
 *   scalar  one run at a time, the canonical loop written out literally;
 *   vec     runs in blocks of LANES = 128 as structure of arrays, the inner loop over the lanes
 *           with branch-free selects, for gcc to auto-vectorise.
 * scripts/bench-sim-core.sh builds it twice: target/bench-ref/mc_tau_scalar (default --impl
 * scalar) and target/bench-ref/mc_tau_vec (default --impl vec, -mprefer-vector-width=512).
 *
 * Modes:
 *   --runs N [--seed S]   benchmark: sample N taus (xorshift64* + Box-Muller, tau ~ N(10, 2)
 *                         rejecting tau < 1), then time the simulation only; one JSON line.
 *   --emit-taus N         print N sampled taus, one per line, %.17g.
 *   --check               read taus from stdin (one per line), print per run
 *                         "overshoot_pct rise_time settling_time final_level iae" with %.17g
 *                         ("none" for an absent rise time).
 *   --impl scalar|vec     override the implementation.
 *
 * Must be compiled with -ffp-contract=off (no fused multiply-add) and without -ffast-math.
 *
 * a = exp(-dt/tau) uses ref_exp below, a port of the exp the Rust side calls (the libm crate's,
 * itself FreeBSD msun e_exp.c), so the check is bit for bit: glibc's exp is a different
 * algorithm and differs from it in the last bit for some arguments (--check counts them).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef DEFAULT_VEC
#define DEFAULT_VEC 0
#endif

#define LANES 128

/* The canonical MC-tau constants. Compiled in by default, so the compiler may fold them (kp = 2
 * turns kp*e into e+e, shortening the per-step dependency chain); with -DRUNTIME_PARAMS they
 * are read at run time, like the Rust kernels' parameters, for a like-for-like comparison. */
#ifdef RUNTIME_PARAMS
static volatile double V_K_GAIN = 2.0, V_R = 1.0, V_KP = 2.0, V_KI = 0.5, V_U_MIN = 0.0, V_U_MAX = 1.0;
static volatile double V_DT = 0.01;
#define LOAD_PARAMS                                                                             \
    const double K_GAIN = V_K_GAIN, R = V_R, KP = V_KP, KI = V_KI, U_MIN = V_U_MIN,          \
                 U_MAX = V_U_MAX, DT = V_DT;                                                   \
    (void)K_GAIN; (void)R; (void)KP; (void)KI; (void)U_MIN; (void)U_MAX; (void)DT;
#else
static const double K_GAIN = 2.0, R = 1.0, KP = 2.0, KI = 0.5, U_MIN = 0.0, U_MAX = 1.0;
static const double DT = 0.01;
#define LOAD_PARAMS
#endif
enum { N_STEPS = 6000 };
#define BAND (0.02 * R)
#define THR10 (0.1 * R)
#define THR90 (0.9 * R)

/* ---- exp: port of libm 0.2.16 src/math/exp.rs (FreeBSD e_exp.c) ------------------------- */

static double from_bits(uint64_t u) {
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static uint64_t to_bits(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double ref_exp(double x) {
    static const double half[2] = {0.5, -0.5};
    static const double ln2hi = 6.93147180369123816490e-01;
    static const double ln2lo = 1.90821492927058770002e-10;
    static const double invln2 = 1.44269504088896338700e+00;
    static const double P1 = 1.66666666666666019037e-01;
    static const double P2 = -2.77777777770155933842e-03;
    static const double P3 = 6.61375632143793436117e-05;
    static const double P4 = -1.65339022054652515390e-06;
    static const double P5 = 4.13813679705723846039e-08;
    const double x1p1023 = from_bits(0x7fe0000000000000ULL);
    double hi, lo, c, xx, y;
    int k;
    uint32_t hx = (uint32_t)(to_bits(x) >> 32);
    int sign = (int)(hx >> 31);
    hx &= 0x7fffffff;
    if (hx >= 0x4086232b) {
        if (isnan(x)) return x;
        if (x > 709.782712893383973096) return x * x1p1023;
        if (x < -745.13321910194110842) return 0.0;
    }
    if (hx > 0x3fd62e42) {
        if (hx >= 0x3ff0a2b2)
            k = (int)(invln2 * x + half[sign]);
        else
            k = 1 - sign - sign;
        hi = x - (double)k * ln2hi;
        lo = (double)k * ln2lo;
        x = hi - lo;
    } else if (hx > 0x3e300000) {
        k = 0;
        hi = x;
        lo = 0.0;
    } else {
        return 1.0 + x;
    }
    xx = x * x;
    c = x - xx * (P1 + xx * (P2 + xx * (P3 + xx * (P4 + xx * P5))));
    y = 1.0 + (x * c / (2.0 - c) - lo + hi);
    return k == 0 ? y : scalbn(y, k);
}

/* ---- the runs ------------------------------------------------------------------------------ */

struct metrics {
    double overshoot_pct;
    double rise_time; /* NAN when absent (never reached 90 %) */
    double settling_time;
    double final_level;
    double iae;
};

/* Scalar: one run, the canonical definition written out (streaming, no stored trajectory). */
static void run_scalar(double tau, struct metrics *m) {
    LOAD_PARAMS
    const double a = ref_exp(-DT / tau);
    const double b = K_GAIN * (1.0 - a);
    double h = 0.0, integral = 0.0, iae = 0.0, peak = -INFINITY;
    long i10 = -1, i90 = -1, last_out = -1;
    for (long k = 0; k < N_STEPS; k++) {
        /* sample k */
        if (h > peak) peak = h;
        if (fabs(h - R) > BAND) last_out = k;
        if (i10 < 0 && h >= THR10) i10 = k;
        if (i90 < 0 && h >= THR90) i90 = k;
        /* step k */
        const double e = R - h;
        const double v = KP * e + KI * integral;
        const double u = v < U_MIN ? U_MIN : (v > U_MAX ? U_MAX : v);
        if (v == u || (v > U_MAX && e < 0.0) || (v < U_MIN && e > 0.0)) integral += e * DT;
        iae += fabs(e) * DT;
        h = a * h + b * u;
    }
    /* sample N */
    if (h > peak) peak = h;
    if (fabs(h - R) > BAND) last_out = N_STEPS;
    if (i10 < 0 && h >= THR10) i10 = N_STEPS;
    if (i90 < 0 && h >= THR90) i90 = N_STEPS;

    m->overshoot_pct = fmax(0.0, (peak - R) / R * 100.0);
    m->rise_time = (i10 >= 0 && i90 >= 0) ? (double)i90 * DT - (double)i10 * DT : NAN;
    m->settling_time = last_out >= 0 ? (double)last_out * DT + DT : 0.0;
    m->final_level = h;
    m->iae = iae;
}

/* Vector: LANES runs side by side; the lane loop has no branches, only selects, so gcc turns
 * it into vector compares and blends. Sample indices are kept as doubles (-1 = not yet) so
 * every array has the same element width. */
static void run_block(const double *tau, struct metrics *out) {
    LOAD_PARAMS
    double a[LANES], b[LANES], h[LANES], integ[LANES], iae[LANES], peak[LANES];
    double i10[LANES], i90[LANES], last_out[LANES];
    for (int j = 0; j < LANES; j++) {
        a[j] = ref_exp(-DT / tau[j]);
        b[j] = K_GAIN * (1.0 - a[j]);
        h[j] = 0.0;
        integ[j] = 0.0;
        iae[j] = 0.0;
        peak[j] = -INFINITY;
        i10[j] = i90[j] = last_out[j] = -1.0;
    }
    for (int k = 0; k < N_STEPS; k++) {
        const double kf = (double)k;
#pragma GCC ivdep
        for (int j = 0; j < LANES; j++) {
            const double hj = h[j];
            peak[j] = hj > peak[j] ? hj : peak[j];
            last_out[j] = fabs(hj - R) > BAND ? kf : last_out[j];
            i10[j] = ((i10[j] < 0.0) & (hj >= THR10)) ? kf : i10[j];
            i90[j] = ((i90[j] < 0.0) & (hj >= THR90)) ? kf : i90[j];
            const double e = R - hj;
            const double v = KP * e + KI * integ[j];
            const double w = v < U_MIN ? U_MIN : v;
            const double u = w > U_MAX ? U_MAX : w;
            const int integrate = (v == u) | ((v > U_MAX) & (e < 0.0)) | ((v < U_MIN) & (e > 0.0));
            const double stepped = integ[j] + e * DT;
            integ[j] = integrate ? stepped : integ[j];
            iae[j] += fabs(e) * DT;
            h[j] = a[j] * hj + b[j] * u;
        }
    }
    const double nf = (double)N_STEPS;
    for (int j = 0; j < LANES; j++) {
        const double hj = h[j];
        peak[j] = hj > peak[j] ? hj : peak[j];
        last_out[j] = fabs(hj - R) > BAND ? nf : last_out[j];
        i10[j] = ((i10[j] < 0.0) & (hj >= THR10)) ? nf : i10[j];
        i90[j] = ((i90[j] < 0.0) & (hj >= THR90)) ? nf : i90[j];
        out[j].overshoot_pct = fmax(0.0, (peak[j] - R) / R * 100.0);
        out[j].rise_time = (i10[j] >= 0.0 && i90[j] >= 0.0) ? i90[j] * DT - i10[j] * DT : NAN;
        out[j].settling_time = last_out[j] >= 0.0 ? last_out[j] * DT + DT : 0.0;
        out[j].final_level = hj;
        out[j].iae = iae[j];
    }
}

/* Simulates n runs; taus must have room for n rounded up to LANES (padding is simulated too). */
static void simulate_all(int vec, double *taus, size_t n, struct metrics *out) {
    if (!vec) {
        for (size_t i = 0; i < n; i++) run_scalar(taus[i], &out[i]);
        return;
    }
    size_t padded = (n + LANES - 1) / LANES * LANES;
    for (size_t i = n; i < padded; i++) taus[i] = 10.0;
    for (size_t i = 0; i < padded; i += LANES) run_block(taus + i, out + i);
}

/* ---- tau sampling: xorshift64*, Box-Muller, reject tau < 1 ---------------------------------- */

static uint64_t rng_state;

static double uniform01(void) { /* in (0, 1] */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    uint64_t x = rng_state * 0x2545F4914F6CDD1DULL;
    return (double)((x >> 11) + 1) * 0x1.0p-53;
}

static double sample_tau(void) {
    for (;;) {
        double u1 = uniform01(), u2 = uniform01();
        double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
        double tau = 10.0 + 2.0 * z;
        if (tau >= 1.0) return tau;
    }
}

/* ---- main ---------------------------------------------------------------------------------- */

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "mc_tau: out of memory\n");
        exit(70);
    }
    return p;
}

static void print_g(double x) {
    if (isnan(x))
        fputs("none", stdout);
    else
        printf("%.17g", x);
}

static int check_mode(int vec) {
    LOAD_PARAMS
    size_t cap = 1024, n = 0;
    double *taus = xmalloc(cap * sizeof *taus);
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        char *end;
        double tau = strtod(line, &end);
        if (end == line) continue; /* blank line */
        if (!(tau > 0.0)) {
            fprintf(stderr, "mc_tau: bad tau %s", line);
            return 65;
        }
        if (n + LANES >= cap) {
            cap *= 2;
            double *grown = realloc(taus, cap * sizeof *taus);
            if (!grown) {
                fprintf(stderr, "mc_tau: out of memory\n");
                return 70;
            }
            taus = grown;
        }
        taus[n++] = tau;
    }
    size_t glibc_differs = 0;
    for (size_t i = 0; i < n; i++)
        if (to_bits(exp(-DT / taus[i])) != to_bits(ref_exp(-DT / taus[i]))) glibc_differs++;
    struct metrics *out = xmalloc((n + LANES) * sizeof *out);
    simulate_all(vec, taus, n, out);
    for (size_t i = 0; i < n; i++) {
        print_g(out[i].overshoot_pct);
        putchar(' ');
        print_g(out[i].rise_time);
        putchar(' ');
        print_g(out[i].settling_time);
        putchar(' ');
        print_g(out[i].final_level);
        putchar(' ');
        print_g(out[i].iae);
        putchar('\n');
    }
    fprintf(stderr, "mc_tau: %zu runs (%s); glibc exp(-dt/tau) differs from the libm port for %zu of them\n",
            n, vec ? "vec" : "scalar", glibc_differs);
    free(out);
    free(taus);
    return 0;
}

static int parse_count(const char *flag, const char *s, unsigned long long *out) {
    char *end;
    if (!s) {
        fprintf(stderr, "mc_tau: %s needs a value\n", flag);
        return 0;
    }
    *out = strtoull(s, &end, 10);
    if (*end || end == s) {
        fprintf(stderr, "mc_tau: %s: not a number: %s\n", flag, s);
        return 0;
    }
    return 1;
}

int main(int argc, char **argv) {
    unsigned long long runs = DEFAULT_VEC ? 100000 : 20000, seed = 42, emit = 0;
    int vec = DEFAULT_VEC, check = 0;
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(f, "--runs")) {
            if (!parse_count(f, val, &runs)) return 64;
            i++;
        } else if (!strcmp(f, "--seed")) {
            if (!parse_count(f, val, &seed)) return 64;
            i++;
        } else if (!strcmp(f, "--emit-taus")) {
            if (!parse_count(f, val, &emit)) return 64;
            i++;
        } else if (!strcmp(f, "--impl")) {
            if (!val || (strcmp(val, "scalar") && strcmp(val, "vec"))) {
                fprintf(stderr, "mc_tau: --impl: expected scalar or vec\n");
                return 64;
            }
            vec = !strcmp(val, "vec");
            i++;
        } else if (!strcmp(f, "--check")) {
            check = 1;
        } else {
            fprintf(stderr, "mc_tau: unknown option %s\n", f);
            return 64;
        }
    }
    rng_state = seed * 0x9E3779B97F4A7C15ULL + 0x6A09E667F3BCC909ULL;
    if (rng_state == 0) rng_state = 1;
    if (check) return check_mode(vec);
    if (emit) {
        for (unsigned long long i = 0; i < emit; i++) printf("%.17g\n", sample_tau());
        return 0;
    }
    if (runs == 0) {
        fprintf(stderr, "mc_tau: --runs must be at least 1\n");
        return 64;
    }

    size_t n = (size_t)runs, padded = (n + LANES - 1) / LANES * LANES;
    double *taus = xmalloc(padded * sizeof *taus);
    struct metrics *out = xmalloc(padded * sizeof *out);
    for (size_t i = 0; i < n; i++) taus[i] = sample_tau();

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    simulate_all(vec, taus, n, out);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;

    /* Use every metric, so none of the work can be optimised away. */
    double overshoot = 0.0, other = 0.0;
    for (size_t i = 0; i < n; i++) {
        overshoot += out[i].overshoot_pct;
        other += (isnan(out[i].rise_time) ? 0.0 : out[i].rise_time) + out[i].settling_time +
                 out[i].final_level + out[i].iae;
    }
    printf("{\"impl\":\"%s\",\"runs\":%llu,\"seconds\":%.6f,\"runs_per_sec\":%.1f,"
           "\"mean_overshoot_pct\":%.17g,\"checksum\":%.17g}\n",
           vec ? "c-vec" : "c-scalar", runs, seconds, (double)n / seconds, overshoot / (double)n, other);
    free(out);
    free(taus);
    return 0;
}
