//! Whole-validator properties: the error's shape, and that no input makes it panic or pass a
//! job with an invalid run.

use std::cell::Cell;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::*;
use crate::config::*;
use crate::distribution::Distribution;
use crate::job::*;
use crate::metric::Metric;
use crate::param::Param;
use crate::sampling::Sampling;
use crate::sweep::{Axis, AxisValues};

#[test]
fn error_lists_every_violation_in_order() {
    let mut c = SimConfig::mc_tau(-1.0);
    c.dt = f64::NAN;
    c.metrics.settling_band = 0.0;
    let err = validate_config(&c, &Limits::default()).unwrap_err();
    let fields: Vec<&str> = err.violations().iter().map(|v| v.field.as_str()).collect();
    assert_eq!(fields, ["plant.tau", "dt", "metrics.settling_band"]);
    assert_eq!(
        err.to_string(),
        "plant.tau: must be > 0, got -1.0; dt: must be a number, got NaN; \
         metrics.settling_band: must be in (0, 1), got 0.0"
    );
    assert_eq!(err.violations()[0].to_string(), "plant.tau: must be > 0, got -1.0");
}

#[test]
fn default_limits() {
    let l = Limits::default();
    assert_eq!((l.max_steps_per_run, l.max_runs, l.max_recorded_samples), (1_000_000, 100_000_000, 100_000));
    assert_eq!(l.max_job_output_bytes, 8 << 30);
    assert_eq!(l, Limits::DEFAULT);
}

/// Mostly a plausible value in `range`, sometimes anything at all.
fn num(range: std::ops::Range<f64>) -> BoxedStrategy<f64> {
    let wild = prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-0.0),
        Just(f64::MAX),
        Just(-f64::MAX),
        Just(f64::MIN_POSITIVE),
        Just(-1.0),
        any::<f64>(),
    ];
    prop_oneof![18 => range, 1 => wild].boxed()
}

fn plant() -> impl Strategy<Value = Plant> {
    prop_oneof![
        (num(-3.0..3.0), num(0.1..20.0), num(-1.0..1.0))
            .prop_map(|(gain, tau, h0)| Plant::FirstOrder(FirstOrder { gain, tau, h0 })),
        (
            num(0.1..5.0),
            num(0.0..2.0),
            num(0.0..2.0),
            num(2.0..10.0),
            num(0.0..2.0),
            prop_oneof![9 => 1u32..8, 1 => any::<u32>()]
        )
            .prop_map(|(area, outlet, max_inflow, h_max, h0, substeps)| {
                Plant::Torricelli(Torricelli { area, outlet, max_inflow, h_max, h0, substeps })
            }),
    ]
}

fn controller() -> impl Strategy<Value = Controller> {
    let anti_windup = prop_oneof![
        Just(AntiWindup::None),
        Just(AntiWindup::Conditional),
        num(0.0..2.0).prop_map(|gain| AntiWindup::BackCalculation { gain }),
    ];
    let derivative_on = prop_oneof![Just(DerivativeOn::Measurement), Just(DerivativeOn::Error)];
    let pid = (
        (num(-5.0..5.0), num(-5.0..5.0), num(0.0..2.0)),
        (num(-2.0..0.5), num(0.5..2.0), num(0.0..1.0)),
        derivative_on,
        anti_windup,
    )
        .prop_map(|((kp, ki, kd), (u_min, u_max, derivative_filter), derivative_on, anti_windup)| {
            Controller::Pid(Pid { kp, ki, kd, u_min, u_max, derivative_filter, derivative_on, anti_windup })
        });
    prop_oneof![1 => Just(Controller::OpenLoop), 3 => pid]
}

fn profile() -> impl Strategy<Value = Profile> {
    let point = (num(0.0..10.0), num(-2.0..2.0)).prop_map(|(at, value)| SchedulePoint { at, value });
    prop_oneof![
        (num(-2.0..2.0), num(-2.0..2.0), num(0.0..5.0)).prop_map(|(initial, value, at)| Profile::Step {
            initial,
            value,
            at
        }),
        (num(-2.0..2.0), num(-2.0..2.0), num(0.0..5.0), num(5.0..10.0))
            .prop_map(|(from, to, start, end)| Profile::Ramp { from, to, start, end }),
        (num(-2.0..2.0), num(-2.0..2.0), num(0.5..10.0), num(-3.0..3.0)).prop_map(
            |(offset, amplitude, period, phase)| Profile::Sine { offset, amplitude, period, phase }
        ),
        prop::collection::vec(point, 0..4).prop_map(|mut points| {
            // Mostly sorted, so schedules can be valid.
            points.sort_by(|a, b| a.at.total_cmp(&b.at));
            Profile::Schedule(points)
        }),
    ]
}

fn config() -> impl Strategy<Value = SimConfig> {
    let disturbance = prop::option::of(
        (num(-1.0..1.0), num(0.0..5.0), prop_oneof![num(5.0..10.0), Just(f64::INFINITY)])
            .prop_map(|(magnitude, start, end)| Disturbance { magnitude, start, end }),
    );
    let noise =
        prop::option::of((num(0.0..0.5), any::<u64>()).prop_map(|(sd, seed)| MeasurementNoise { sd, seed }));
    let record = prop_oneof![
        Just(Recording::None),
        Just(Recording::Full),
        prop_oneof![0u32..20, any::<u32>()].prop_map(Recording::Every),
    ];
    (
        (plant(), controller(), profile()),
        (disturbance, noise),
        (num(0.01..0.5), num(1.0..50.0), record, num(0.01..0.2)),
    )
        .prop_map(
            |((plant, controller, input), (disturbance, noise), (dt, horizon, record, settling_band))| {
                SimConfig {
                    plant,
                    controller,
                    input,
                    disturbance,
                    noise,
                    dt,
                    horizon,
                    record,
                    metrics: MetricsConfig { settling_band },
                }
            },
        )
}

fn param() -> impl Strategy<Value = Param> {
    prop::sample::select(Param::ALL.to_vec())
}

fn distribution() -> impl Strategy<Value = Distribution> {
    let weights = prop::collection::vec(num(0.0..2.0), 0..3);
    prop_oneof![
        num(0.1..0.9).prop_map(Distribution::Fixed),
        (num(0.1..0.5), num(0.05..0.4)).prop_map(|(lo, w)| Distribution::Uniform { lo, hi: lo + w }),
        (num(-2.0..2.0), num(0.0..1.0)).prop_map(|(mean, sd)| Distribution::Normal { mean, sd }),
        (num(0.1..1.0), num(0.0..1.0), num(0.05..0.3), prop_oneof![num(0.5..0.9), Just(f64::INFINITY)])
            .prop_map(|(mean, sd, lo, hi)| Distribution::TruncatedNormal { mean, sd, lo, hi }),
        (num(-3.0..0.0), num(0.0..1.0)).prop_map(|(mu, sigma)| Distribution::LogNormal { mu, sigma }),
        (num(0.1..0.3), num(0.3..0.5), num(0.5..0.9)).prop_map(|(lo, mode, hi)| Distribution::Triangular {
            lo,
            mode,
            hi
        }),
        (prop::collection::vec(num(0.1..0.9), 0..4), weights)
            .prop_map(|(values, weights)| Distribution::Choice { values, weights }),
    ]
}

fn axis_values() -> impl Strategy<Value = AxisValues> {
    let num_points = prop_oneof![9 => 0u32..6, 1 => any::<u32>()];
    prop_oneof![
        prop::collection::vec(num(0.1..0.9), 0..4).prop_map(AxisValues::List),
        (num(0.1..0.5), num(0.5..0.9), num_points.clone())
            .prop_map(|(start, stop, num)| AxisValues::Linspace { start, stop, num }),
        (num(0.1..0.5), num(0.5..0.9), num_points).prop_map(|(start, stop, num)| AxisValues::Logspace {
            start,
            stop,
            num
        }),
    ]
}

fn job() -> impl Strategy<Value = JobSpec> {
    let runs = prop_oneof![8 => 1u64..1000, 1 => Just(0u64), 1 => any::<u64>()];
    let params = prop::collection::vec(
        (param(), distribution()).prop_map(|(param, dist)| ParamDist { param, dist }),
        0..3,
    );
    let sampling = prop::sample::select(Sampling::ALL.to_vec());
    let mc = (config(), runs, any::<u64>(), params, sampling)
        .prop_map(|(base, runs, seed, params, sampling)| MonteCarlo {
            base,
            runs,
            seed,
            params,
            sampling,
            stop: None,
        })
        .boxed();
    let axes = prop::collection::vec(
        (param(), axis_values()).prop_map(|(param, values)| Axis { param, values }),
        0..3,
    );
    let objective =
        (prop::sample::select(Metric::ALL.to_vec()), prop_oneof![Just(Goal::Minimize), Just(Goal::Maximize)])
            .prop_map(|(metric, goal)| Objective { metric, goal });
    let sweep = (config(), axes, objective, any::<u64>()).prop_map(|(base, axes, objective, seed)| Sweep {
        base,
        axes,
        objective,
        seed,
    });
    prop_oneof![
        mc.clone().prop_map(JobSpec::MonteCarlo),
        mc.prop_map(JobSpec::Dataset),
        sweep.prop_map(JobSpec::Sweep)
    ]
}

/// The property behind validation: a job it passes has only valid runs. Checks the first,
/// the last and a middle run; returns whether the job was valid.
fn valid_job_has_valid_runs(job: &JobSpec) -> Result<bool, TestCaseError> {
    let limits = Limits::default();
    if validate_job(job, &limits).is_err() {
        return Ok(false);
    }
    let runs = job.runs();
    prop_assert!(runs >= 1 && runs <= limits.max_runs);
    for run in [0, runs / 2, runs - 1] {
        let config = job.run_config(run);
        prop_assert_eq!(validate_config(&config, &limits), Ok(()), "run {} of {:?}", run, job);
    }
    Ok(true)
}

#[test]
fn arbitrary_configs_never_panic() {
    let mut runner = TestRunner::new(Config::with_cases(512));
    runner
        .run(&config(), |c| {
            let _ = validate_config(&c, &Limits::default());
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_jobs_never_panic_and_valid_ones_have_valid_runs() {
    let mut runner = TestRunner::new(Config::with_cases(1024));
    // `TestRunner::run` takes an `Fn`: count through cells.
    let (valid, invalid) = (Cell::new(0u32), Cell::new(0u32));
    runner
        .run(&job(), |job| {
            let counter = if valid_job_has_valid_runs(&job)? { &valid } else { &invalid };
            counter.set(counter.get() + 1);
            Ok(())
        })
        .unwrap();
    let (valid, invalid) = (valid.get(), invalid.get());
    // The generator reaches both outcomes, so the property above is not vacuous.
    assert!(valid >= 20 && invalid >= 20, "valid {valid}, invalid {invalid}");
}
