//! The SubmitJob table (categories 1-3): numbers, limits, bombs, strings and enums, each a
//! mutation of a valid spec with the exact answer it must get.

use super::*;

/// One SubmitJob case: a mutation of a valid spec and its expected answer.
#[derive(Debug)]
pub(super) struct Case {
    pub(super) name: &'static str,
    pub(super) request: SubmitJobRequest,
    pub(super) expect: Expect,
}

pub(super) fn case(name: &'static str, expect: Expect, request: SubmitJobRequest) -> Case {
    Case { name, request, expect }
}

/// `spec` changed by `change`.
pub(super) fn with(
    mut spec: SubmitJobRequest,
    change: impl FnOnce(&mut SubmitJobRequest),
) -> SubmitJobRequest {
    change(&mut spec);
    spec
}

/// A valid Monte Carlo job whose whole base configuration is checked: `mc_tau(100)` varying
/// `plant.h0` (any finite value suits a first-order tank) instead of `plant.tau`, since a
/// varied parameter's base value is never checked (each run gets a sampled one).
pub(super) fn base() -> SubmitJobRequest {
    with(mc_tau(100), |s| {
        mc(s).params = vec![param("plant.h0", Dist::Uniform(v1::Uniform { lo: 0.0, hi: 0.5 }))]
    })
}

/// [`base`] with one run, for cases that must be accepted (and so run).
pub(super) fn one_run() -> SubmitJobRequest {
    with(base(), |s| mc(s).runs = 1)
}

/// [`base`] with `params[0]` (`plant.h0`) drawn from `dist`.
pub(super) fn drawn(dist: Dist) -> SubmitJobRequest {
    with(base(), |s| mc(s).params[0].distribution = Some(dist))
}

/// [`base`] varying the parameter at `path` (uniform on [0, 0.5]).
pub(super) fn varying(path: String) -> SubmitJobRequest {
    with(base(), |s| mc(s).params[0].param = path)
}

pub(super) fn sweep_spec() -> SubmitJobRequest {
    api::example("k-tau-sweep.yaml")
}

pub(super) fn dataset_spec() -> SubmitJobRequest {
    api::example("dataset-100k.yaml")
}

pub(super) fn param(path: &str, dist: Dist) -> v1::ParamDistribution {
    v1::ParamDistribution { param: path.to_owned(), distribution: Some(dist) }
}

pub(super) fn config(spec: &mut SubmitJobRequest) -> &mut v1::SimConfig {
    spec.config.as_mut().unwrap()
}

pub(super) fn plant(spec: &mut SubmitJobRequest) -> &mut v1::Plant {
    config(spec).plant.as_mut().unwrap()
}

pub(super) fn controller(spec: &mut SubmitJobRequest) -> &mut v1::Controller {
    config(spec).controller.as_mut().unwrap()
}

pub(super) fn input(spec: &mut SubmitJobRequest) -> &mut v1::Profile {
    config(spec).input.as_mut().unwrap()
}

pub(super) fn mc(spec: &mut SubmitJobRequest) -> &mut v1::MonteCarlo {
    match &mut spec.job {
        Some(submit_job_request::Job::MonteCarlo(mc)) => mc,
        other => panic!("not a Monte Carlo job: {other:?}"),
    }
}

pub(super) fn sweep(spec: &mut SubmitJobRequest) -> &mut v1::Sweep {
    match &mut spec.job {
        Some(submit_job_request::Job::Sweep(sweep)) => sweep,
        other => panic!("not a sweep: {other:?}"),
    }
}

pub(super) fn objective(spec: &mut SubmitJobRequest) -> &mut v1::Objective {
    sweep(spec).objective.as_mut().unwrap()
}

pub(super) fn dataset(spec: &mut SubmitJobRequest) -> &mut v1::Dataset {
    match &mut spec.job {
        Some(submit_job_request::Job::Dataset(ds)) => ds,
        other => panic!("not a dataset: {other:?}"),
    }
}

pub(super) fn lin(start: f64, stop: f64, num: u32) -> Option<AxisValues> {
    Some(AxisValues::Linspace(v1::Linspace { start, stop, num }))
}

pub(super) fn log(start: f64, stop: f64, num: u32) -> Option<AxisValues> {
    Some(AxisValues::Logspace(v1::Logspace { start, stop, num }))
}

/// Every SubmitJob case. The paths are the request's (`config.plant.tau`,
/// `monte_carlo.params[0].truncated_normal.sd`, `sweep.axes[1].list.values[1]`), as
/// `tanksim_proto::convert` rewrites sim-core's; the notes say why a case blames the field it
/// does when that is not the field changed.
pub(super) fn spec_cases() -> Vec<Case> {
    use Expect::{Code as Refused, Invalid, Served, Summarised};
    let (nan, inf) = (f64::NAN, f64::INFINITY);
    let tn = |mean, sd, lo, hi| Dist::TruncatedNormal(v1::TruncatedNormal { mean, sd, lo, hi });
    let choice = |values: Vec<f64>, weights: Vec<f64>| Dist::Choice(v1::Choice { values, weights });
    vec![
        // ---- 1. Numbers in the configuration: the time grid.
        case("config.dt = NaN", Invalid(&["config.dt"]), with(base(), |s| config(s).dt = nan)),
        case("config.dt = +inf", Invalid(&["config.dt"]), with(base(), |s| config(s).dt = inf)),
        case("config.dt = -inf", Invalid(&["config.dt"]), with(base(), |s| config(s).dt = -inf)),
        // A subnormal dt is positive, but horizon / dt overflows to inf steps: the horizon is
        // blamed, as for any step count past the limit.
        case("config.dt = 1e-308", Invalid(&["config.horizon"]), with(base(), |s| config(s).dt = 1e-308)),
        // A dt past the horizon: "horizon must be >= dt".
        case("config.dt = 1e308", Invalid(&["config.horizon"]), with(base(), |s| config(s).dt = 1e308)),
        case("config.horizon = NaN", Invalid(&["config.horizon"]), with(base(), |s| config(s).horizon = nan)),
        case(
            "config.horizon = 1e308",
            Invalid(&["config.horizon"]),
            with(base(), |s| config(s).horizon = 1e308),
        ),
        case("config.horizon = -1", Invalid(&["config.horizon"]), with(base(), |s| config(s).horizon = -1.0)),
        // ---- 2. Step counts: one past the default limit of 1,000,000, and exactly at it.
        case(
            "1,000,001 steps",
            Invalid(&["config.horizon"]),
            with(base(), |s| config(s).horizon = 10_000.01),
        ),
        case("exactly 1,000,000 steps", Served, with(one_run(), |s| config(s).horizon = 10_000.0)),
        // ---- 1. The plant.
        case(
            "config.plant.gain = NaN",
            Invalid(&["config.plant.gain"]),
            with(base(), |s| plant(s).gain = nan),
        ),
        case(
            "config.plant.gain = -inf",
            Invalid(&["config.plant.gain"]),
            with(base(), |s| plant(s).gain = -inf),
        ),
        case(
            "config.plant.tau = -inf",
            Invalid(&["config.plant.tau"]),
            with(base(), |s| plant(s).tau = -inf),
        ),
        case(
            "config.plant.tau = -1e308",
            Invalid(&["config.plant.tau"]),
            with(base(), |s| plant(s).tau = -1e308),
        ),
        case(
            "config.plant.kind = 999",
            Invalid(&["config.plant.kind"]),
            with(base(), |s| plant(s).kind = 999),
        ),
        // A field the plant's kind ignores is refused, not silently dropped.
        case(
            "config.plant.substeps on a first-order plant",
            Invalid(&["config.plant.substeps"]),
            with(base(), |s| plant(s).substeps = u32::MAX),
        ),
        case(
            "a Torricelli tank with 5,000 RK4 substeps a step",
            Invalid(&["config.plant.substeps"]),
            with(base(), |s| {
                *plant(s) = v1::Plant {
                    kind: v1::PlantKind::Torricelli as i32,
                    area: 1.0,
                    outlet: 0.5,
                    max_inflow: 1.0,
                    h_max: 4.0,
                    substeps: 5_000,
                    ..v1::Plant::default()
                }
            }),
        ),
        // ---- 1. The controller.
        case(
            "config.controller.kp = NaN",
            Invalid(&["config.controller.kp"]),
            with(base(), |s| controller(s).kp = nan),
        ),
        case(
            "config.controller.ki = +inf",
            Invalid(&["config.controller.ki"]),
            with(base(), |s| controller(s).ki = inf),
        ),
        case(
            "config.controller.kd = -1",
            Invalid(&["config.controller.kd"]),
            with(base(), |s| controller(s).kd = -1.0),
        ),
        case(
            "config.controller.u_min = NaN",
            Invalid(&["config.controller.u_min"]),
            with(base(), |s| controller(s).u_min = Some(nan)),
        ),
        case(
            "config.controller.u_max = -inf",
            Invalid(&["config.controller.u_max"]),
            with(base(), |s| controller(s).u_max = Some(-inf)),
        ),
        // Both finite, in the wrong order: the upper limit is blamed.
        case(
            "config.controller.u_min = 1e308 > u_max = -1e308",
            Invalid(&["config.controller.u_max"]),
            with(base(), |s| {
                controller(s).u_min = Some(1e308);
                controller(s).u_max = Some(-1e308);
            }),
        ),
        case(
            "config.controller.derivative_filter = -inf",
            Invalid(&["config.controller.derivative_filter"]),
            with(base(), |s| controller(s).derivative_filter = -inf),
        ),
        case(
            "config.controller.back_calculation_gain = -inf",
            Invalid(&["config.controller.back_calculation_gain"]),
            with(base(), |s| {
                controller(s).anti_windup = v1::AntiWindup::BackCalculation as i32;
                controller(s).back_calculation_gain = -inf;
            }),
        ),
        case(
            "config.controller.kind = 999",
            Invalid(&["config.controller.kind"]),
            with(base(), |s| controller(s).kind = 999),
        ),
        case(
            "config.controller.anti_windup = 999",
            Invalid(&["config.controller.anti_windup"]),
            with(base(), |s| controller(s).anti_windup = 999),
        ),
        case(
            "config.controller.derivative_on = 999",
            Invalid(&["config.controller.derivative_on"]),
            with(base(), |s| controller(s).derivative_on = 999),
        ),
        // ---- 1. The setpoint.
        case(
            "config.input.value = NaN",
            Invalid(&["config.input.value"]),
            with(base(), |s| input(s).value = nan),
        ),
        case(
            "config.input.initial = -inf",
            Invalid(&["config.input.initial"]),
            with(base(), |s| input(s).initial = -inf),
        ),
        case("config.input.at = -1", Invalid(&["config.input.at"]), with(base(), |s| input(s).at = -1.0)),
        case(
            "config.input.kind = 999",
            Invalid(&["config.input.kind"]),
            with(base(), |s| input(s).kind = 999),
        ),
        case(
            "a sine setpoint of period NaN",
            Invalid(&["config.input.period"]),
            with(base(), |s| {
                // A sine has no `initial`: it must be unset, or it is refused as unused too.
                *input(s) = v1::Profile {
                    kind: v1::ProfileKind::Sine as i32,
                    value: 1.0,
                    period: nan,
                    ..v1::Profile::default()
                }
            }),
        ),
        // A ramp ending before it starts: the end is blamed.
        case(
            "a ramp from t = 10 to t = 5",
            Invalid(&["config.input.end"]),
            with(base(), |s| {
                let ramp = input(s);
                ramp.kind = v1::ProfileKind::Ramp as i32;
                ramp.at = 10.0;
                ramp.end = 5.0;
            }),
        ),
        case(
            "a schedule without points",
            Invalid(&["config.input.points"]),
            with(base(), |s| {
                *input(s) = v1::Profile { kind: v1::ProfileKind::Schedule as i32, ..v1::Profile::default() }
            }),
        ),
        case(
            "a schedule point at NaN, another of value +inf",
            Invalid(&["config.input.points[0].at", "config.input.points[1].value"]),
            with(base(), |s| {
                let points = vec![
                    v1::SchedulePoint { at: nan, value: 1.0 },
                    v1::SchedulePoint { at: 1.0, value: inf },
                ];
                *input(s) =
                    v1::Profile { kind: v1::ProfileKind::Schedule as i32, points, ..v1::Profile::default() }
            }),
        ),
        // ---- 1. Disturbance, noise, settling band.
        case(
            "config.disturbance.magnitude = NaN",
            Invalid(&["config.disturbance.magnitude"]),
            with(base(), |s| {
                config(s).disturbance = Some(v1::Disturbance { magnitude: nan, start: 0.0, end: None })
            }),
        ),
        case(
            "config.disturbance.start = -inf",
            Invalid(&["config.disturbance.start"]),
            with(base(), |s| {
                config(s).disturbance = Some(v1::Disturbance { magnitude: 1.0, start: -inf, end: None })
            }),
        ),
        case(
            "config.disturbance.end = -inf",
            Invalid(&["config.disturbance.end"]),
            with(base(), |s| {
                config(s).disturbance = Some(v1::Disturbance { magnitude: 1.0, start: 5.0, end: Some(-inf) })
            }),
        ),
        case(
            "a disturbance ending before it starts",
            Invalid(&["config.disturbance.end"]),
            with(base(), |s| {
                config(s).disturbance = Some(v1::Disturbance { magnitude: 1.0, start: 10.0, end: Some(5.0) })
            }),
        ),
        case(
            "config.noise.sd = -1",
            Invalid(&["config.noise.sd"]),
            with(base(), |s| config(s).noise = Some(v1::MeasurementNoise { sd: -1.0, seed: 1 })),
        ),
        case(
            "config.noise.sd = +inf",
            Invalid(&["config.noise.sd"]),
            with(base(), |s| config(s).noise = Some(v1::MeasurementNoise { sd: inf, seed: u64::MAX })),
        ),
        case(
            "config.settling_band = NaN",
            Invalid(&["config.settling_band"]),
            with(base(), |s| config(s).settling_band = Some(nan)),
        ),
        case(
            "config.settling_band = 1e308",
            Invalid(&["config.settling_band"]),
            with(base(), |s| config(s).settling_band = Some(1e308)),
        ),
        case("no config", Invalid(&["config"]), with(base(), |s| s.config = None)),
        // Huge but finite gains are valid: the run overflows to non-finite metrics, which the
        // results count, and nothing crashes.
        case(
            "gain, kp and ki of 1e308 (finite, accepted)",
            Served,
            with(one_run(), |s| {
                plant(s).gain = 1e308;
                controller(s).kp = 1e308;
                controller(s).ki = 1e308;
            }),
        ),
        // ---- 1. Monte Carlo distributions (`params[0]` varies plant.h0).
        case(
            "uniform lo = NaN",
            Invalid(&["monte_carlo.params[0].uniform.lo"]),
            drawn(Dist::Uniform(v1::Uniform { lo: nan, hi: 1.0 })),
        ),
        case(
            "uniform lo > hi",
            Invalid(&["monte_carlo.params[0].uniform.hi"]),
            drawn(Dist::Uniform(v1::Uniform { lo: 2.0, hi: 1.0 })),
        ),
        // Both ends finite, their difference not.
        case(
            "uniform on [-1e308, 1e308]",
            Invalid(&["monte_carlo.params[0].uniform.hi"]),
            drawn(Dist::Uniform(v1::Uniform { lo: -1e308, hi: 1e308 })),
        ),
        case(
            "normal sd = -1",
            Invalid(&["monte_carlo.params[0].normal.sd"]),
            drawn(Dist::Normal(v1::Normal { mean: 0.0, sd: -1.0 })),
        ),
        case(
            "normal mean = NaN",
            Invalid(&["monte_carlo.params[0].normal.mean"]),
            drawn(Dist::Normal(v1::Normal { mean: nan, sd: 1.0 })),
        ),
        // |mean| + 40 sd overflows: samples could be infinite.
        case(
            "normal mean 1e308, sd 1e307",
            Invalid(&["monte_carlo.params[0].normal.sd"]),
            drawn(Dist::Normal(v1::Normal { mean: 1e308, sd: 1e307 })),
        ),
        // A normal tau can sample tau <= 0: the entry as a whole is blamed.
        case(
            "an untruncated normal over plant.tau",
            Invalid(&["monte_carlo.params[0]"]),
            with(base(), |s| {
                mc(s).params = vec![param("plant.tau", Dist::Normal(v1::Normal { mean: 10.0, sd: 2.0 }))]
            }),
        ),
        case(
            "log_normal sigma = -1",
            Invalid(&["monte_carlo.params[0].log_normal.sigma"]),
            drawn(Dist::LogNormal(v1::LogNormal { mu: 0.0, sigma: -1.0 })),
        ),
        // exp(mu + 40 sigma) overflows f64.
        case(
            "log_normal mu 700, sigma 1",
            Invalid(&["monte_carlo.params[0].log_normal.sigma"]),
            drawn(Dist::LogNormal(v1::LogNormal { mu: 700.0, sigma: 1.0 })),
        ),
        case(
            "log_normal mu = +inf",
            Invalid(&["monte_carlo.params[0].log_normal.mu"]),
            drawn(Dist::LogNormal(v1::LogNormal { mu: inf, sigma: 0.0 })),
        ),
        case(
            "truncated_normal sd = 0",
            Invalid(&["monte_carlo.params[0].truncated_normal.sd"]),
            drawn(tn(0.0, 0.0, None, None)),
        ),
        // No probability mass left in f64: the bound nearer the mean is blamed.
        case(
            "truncated_normal N(0, 1) above 1e6",
            Invalid(&["monte_carlo.params[0].truncated_normal.lo"]),
            drawn(tn(0.0, 1.0, Some(1e6), None)),
        ),
        case(
            "truncated_normal lo = +inf",
            Invalid(&["monte_carlo.params[0].truncated_normal.lo"]),
            drawn(tn(0.0, 1.0, Some(inf), None)),
        ),
        case(
            "triangular mode outside [lo, hi]",
            Invalid(&["monte_carlo.params[0].triangular.mode"]),
            drawn(Dist::Triangular(v1::Triangular { lo: 0.0, mode: 5.0, hi: 1.0 })),
        ),
        case(
            "choice of no values",
            Invalid(&["monte_carlo.params[0].choice.values"]),
            drawn(choice(vec![], vec![])),
        ),
        case(
            "choice of NaN",
            Invalid(&["monte_carlo.params[0].choice.values"]),
            drawn(choice(vec![1.0, nan], vec![])),
        ),
        case(
            "choice weight NaN",
            Invalid(&["monte_carlo.params[0].choice.weights"]),
            drawn(choice(vec![1.0, 2.0], vec![nan, 1.0])),
        ),
        case(
            "choice weights all 0",
            Invalid(&["monte_carlo.params[0].choice.weights"]),
            drawn(choice(vec![1.0, 2.0], vec![0.0, 0.0])),
        ),
        case(
            "choice weights summing to +inf",
            Invalid(&["monte_carlo.params[0].choice.weights"]),
            drawn(choice(vec![1.0, 2.0], vec![1e308, 1e308])),
        ),
        case(
            "choice of 2 values with 1 weight",
            Invalid(&["monte_carlo.params[0].choice.weights"]),
            drawn(choice(vec![1.0, 2.0], vec![1.0])),
        ),
        case("fixed NaN", Invalid(&["monte_carlo.params[0].fixed"]), drawn(Dist::Fixed(nan))),
        case(
            "a parameter without a distribution",
            Invalid(&["monte_carlo.params[0].distribution"]),
            with(base(), |s| mc(s).params[0].distribution = None),
        ),
        case(
            "plant.h0 varied twice",
            Invalid(&["monte_carlo.params[1].param"]),
            with(base(), |s| mc(s).params.push(param("plant.h0", Dist::Fixed(0.1)))),
        ),
        case(
            "plant.h_max varied on a first-order tank",
            Invalid(&["monte_carlo.params[0].param"]),
            with(base(), |s| mc(s).params = vec![param("plant.h_max", Dist::Fixed(1.0))]),
        ),
        // ---- 2. Run counts.
        case(
            "monte_carlo.runs = u64::MAX",
            Invalid(&["monte_carlo.runs"]),
            with(base(), |s| mc(s).runs = u64::MAX),
        ),
        case(
            "monte_carlo.runs = 100,000,001",
            Invalid(&["monte_carlo.runs"]),
            with(base(), |s| mc(s).runs = 100_000_001),
        ),
        // ---- 3. Parameter paths.
        case(
            "a 10,000-character parameter path",
            Invalid(&["monte_carlo.params[0].param"]),
            varying("x".repeat(10_000)),
        ),
        case(
            "a parameter path with a NUL",
            Invalid(&["monte_carlo.params[0].param"]),
            varying("plant.tau\0".into()),
        ),
        case("a parameter path glob", Invalid(&["monte_carlo.params[0].param"]), varying("plant.*".into())),
        case(
            "a parameter path of SQL",
            Invalid(&["monte_carlo.params[0].param"]),
            varying("' OR 1=1 --".into()),
        ),
        case("an empty parameter path", Invalid(&["monte_carlo.params[0].param"]), varying(String::new())),
        // ---- 3. Names: 200 bytes (of 3-byte characters) pass, 201 do not; any character
        // passes, and comes back as sent.
        case(
            "a 201-byte name",
            Invalid(&["name"]),
            with(one_run(), |s| s.name = format!("{}abc", "\u{65e5}".repeat(66))),
        ),
        case("a 200-byte name", Served, with(one_run(), |s| s.name = format!("{}ab", "\u{65e5}".repeat(66)))),
        case(
            "a name with NUL, bidi override and BOM",
            Served,
            with(one_run(), |s| s.name = "nul\u{0}bidi\u{202e}bom\u{feff}\u{fffd}end".into()),
        ),
        // Over the 16 MiB message limit.
        case(
            "a 17 MiB name",
            Refused(Code::ResourceExhausted),
            with(one_run(), |s| s.name = "n".repeat(17 << 20)),
        ),
        // ---- 3. Violation bombs: a small request, hundreds of thousands of violations, one
        // small error.
        case(
            "200,000 unknown parameters without distributions",
            Summarised { first: "monte_carlo.params[0].param", total: 400_000 },
            with(base(), |s| {
                mc(s).params = vec![v1::ParamDistribution { param: "x".into(), distribution: None }; 200_000]
            }),
        ),
        case(
            "100,000 schedule points at the same time",
            Summarised { first: "config.input.points[1].at", total: 99_999 },
            with(base(), |s| {
                let points = vec![v1::SchedulePoint::default(); 100_000];
                *input(s) =
                    v1::Profile { kind: v1::ProfileKind::Schedule as i32, points, ..v1::Profile::default() }
            }),
        ),
        // ---- 1-3. Sweeps (axes: plant.gain linspace 36, plant.tau logspace 40).
        case(
            "a list axis holding NaN",
            Invalid(&["sweep.axes[1].list.values[1]"]),
            with(sweep_spec(), |s| {
                sweep(s).axes[1].values =
                    Some(AxisValues::List(v1::ValueList { values: vec![1.0, nan, 3.0] }))
            }),
        ),
        case(
            "a linspace of 0 values",
            Invalid(&["sweep.axes[0].linspace.num"]),
            with(sweep_spec(), |s| sweep(s).axes[0].values = lin(0.5, 4.0, 0)),
        ),
        case(
            "a linspace to +inf",
            Invalid(&["sweep.axes[0].linspace.stop"]),
            with(sweep_spec(), |s| sweep(s).axes[0].values = lin(0.5, inf, 36)),
        ),
        case(
            "a logspace from -1",
            Invalid(&["sweep.axes[1].logspace.start"]),
            with(sweep_spec(), |s| sweep(s).axes[1].values = log(-1.0, 50.0, 40)),
        ),
        case(
            "a tau axis reaching -1",
            Invalid(&["sweep.axes[1].linspace.stop"]),
            with(sweep_spec(), |s| sweep(s).axes[1].values = lin(5.0, -1.0, 3)),
        ),
        case(
            "a 100,000 x 1,001 grid (over 10^8 runs)",
            Invalid(&["sweep.axes"]),
            with(sweep_spec(), |s| {
                sweep(s).axes[0].values = lin(0.5, 4.0, 100_000);
                sweep(s).axes[1].values = log(1.0, 50.0, 1_001);
            }),
        ),
        // (2^32 - 1)^2 still fits in a u64; a third such axis does not.
        case(
            "a grid of (2^32 - 1)^3 points",
            Invalid(&["sweep.axes"]),
            with(sweep_spec(), |s| {
                sweep(s).axes[0].values = lin(0.5, 4.0, u32::MAX);
                sweep(s).axes[1].values = log(1.0, 50.0, u32::MAX);
                sweep(s)
                    .axes
                    .push(v1::Axis { param: "controller.kp".into(), values: lin(1.0, 2.0, u32::MAX) });
            }),
        ),
        // Exactly 10^8 runs (the limit), but ~13 GB of rows: the output limit refuses it.
        case(
            "a 10,000 x 10,000 grid (13 GB of rows)",
            Invalid(&["sweep.axes"]),
            with(sweep_spec(), |s| {
                sweep(s).axes[0].values = lin(0.5, 4.0, 10_000);
                sweep(s).axes[1].values = log(1.0, 50.0, 10_000);
            }),
        ),
        case("a sweep without axes", Invalid(&["sweep.axes"]), with(sweep_spec(), |s| sweep(s).axes.clear())),
        case(
            "an axis without values",
            Invalid(&["sweep.axes[0].values"]),
            with(sweep_spec(), |s| sweep(s).axes[0].values = None),
        ),
        case(
            "an axis over a path-like parameter",
            Invalid(&["sweep.axes[0].param"]),
            with(sweep_spec(), |s| sweep(s).axes[0].param = "plant.gain/../tau".into()),
        ),
        case(
            "objective metric 999",
            Invalid(&["sweep.objective.metric"]),
            with(sweep_spec(), |s| objective(s).metric = 999),
        ),
        case(
            "objective goal -1",
            Invalid(&["sweep.objective.goal"]),
            with(sweep_spec(), |s| objective(s).goal = -1),
        ),
        case(
            "no objective",
            Invalid(&["sweep.objective"]),
            with(sweep_spec(), |s| sweep(s).objective = None),
        ),
        // The same for every point of a first-order tank: no best point to find.
        case(
            "objective overflow on a first-order tank",
            Invalid(&["sweep.objective"]),
            with(sweep_spec(), |s| objective(s).metric = v1::Metric::Overflow as i32),
        ),
        // ---- 1-2. Datasets (params: tau, gain, kp log-normal, ki; record_every 50).
        case("dataset.runs = 0", Invalid(&["dataset.runs"]), with(dataset_spec(), |s| dataset(s).runs = 0)),
        case(
            "dataset.runs = u64::MAX",
            Invalid(&["dataset.runs"]),
            with(dataset_spec(), |s| dataset(s).runs = u64::MAX),
        ),
        // One run, but 1,000,001 trajectory samples (limit 100,000).
        case(
            "record_every 1 over 1,000,000 steps",
            Invalid(&["dataset.record_every"]),
            with(dataset_spec(), |s| {
                dataset(s).runs = 1;
                dataset(s).record_every = 1;
                config(s).dt = 0.001;
                config(s).horizon = 1_000.0;
            }),
        ),
        // Disk bombs: rows without trajectories too many (the runs are blamed), or
        // trajectories the bulk (the recording is).
        case(
            "10^8 dataset rows (15 GB, no trajectories)",
            Invalid(&["dataset.runs"]),
            with(dataset_spec(), |s| {
                dataset(s).runs = 100_000_000;
                dataset(s).record_every = 0;
            }),
        ),
        case(
            "10^6 dataset runs recording every 2nd sample (90 GB)",
            Invalid(&["dataset.record_every"]),
            with(dataset_spec(), |s| {
                dataset(s).runs = 1_000_000;
                dataset(s).record_every = 2;
            }),
        ),
        case(
            "dataset log_normal sigma = -1",
            Invalid(&["dataset.params[2].log_normal.sigma"]),
            with(dataset_spec(), |s| {
                dataset(s).params[2].distribution =
                    Some(Dist::LogNormal(v1::LogNormal { mu: 0.5, sigma: -1.0 }))
            }),
        ),
    ]
}
