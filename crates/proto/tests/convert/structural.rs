//! Structural errors: what the conversion itself refuses, each at its exact request path.

use tanksim_proto::convert::{job_spec_from_request, sim_config_from_proto};
use tanksim_proto::v1::{self, axis, param_distribution as pd, submit_job_request::Job};
use tanksim_sim_core::job::JobSpec;
use tanksim_sim_core::sampling::Sampling;
use tanksim_sim_core::validate::Limits;

use super::{fields, mc_tau_config, mc_tau_request, param, reason};

fn with_config(edit: impl FnOnce(&mut v1::SimConfig)) -> v1::SubmitJobRequest {
    let mut request = mc_tau_request();
    edit(request.config.as_mut().expect("config"));
    request
}

fn with_job(job: Job) -> v1::SubmitJobRequest {
    v1::SubmitJobRequest { job: Some(job), ..mc_tau_request() }
}

fn normal() -> pd::Distribution {
    pd::Distribution::Normal(v1::Normal { mean: 1.0, sd: 0.1 })
}

#[test]
fn missing_config_and_job_are_both_reported() {
    let request = v1::SubmitJobRequest { name: "x".into(), config: None, job: None };
    assert_eq!(fields(&request), ["config", "job"]);
    assert_eq!(reason(&request, "config"), "required");
    assert_eq!(
        reason(&request, "job"),
        "required: one of monte_carlo, sweep, dataset, sensitivity, optimize"
    );
}

#[test]
fn missing_messages_and_unset_kinds() {
    let request = with_config(|c| {
        c.plant = None;
        c.controller = Some(v1::Controller::default());
        c.input.as_mut().expect("input").kind = 9;
    });
    assert_eq!(fields(&request), ["config.plant", "config.controller.kind", "config.input.kind"]);
    assert_eq!(reason(&request, "config.controller.kind"), "required: one of open_loop, pid");
    assert_eq!(reason(&request, "config.input.kind"), "unknown value 9; one of step, ramp, sine, schedule");
    let request = with_config(|c| c.plant.as_mut().expect("plant").kind = 0);
    assert_eq!(fields(&request), ["config.plant.kind"]);
    assert_eq!(reason(&request, "config.plant.kind"), "required: one of first_order, torricelli");
    let request = with_config(|c| {
        c.controller = None;
        c.input = None;
    });
    assert_eq!(fields(&request), ["config.controller", "config.input"]);
}

#[test]
fn enum_values_out_of_range() {
    let request = with_config(|c| {
        let pid = c.controller.as_mut().expect("controller");
        pid.derivative_on = 3;
        pid.anti_windup = -1;
    });
    assert_eq!(fields(&request), ["config.controller.derivative_on", "config.controller.anti_windup"]);
    assert_eq!(
        reason(&request, "config.controller.anti_windup"),
        "unknown value -1; one of none, conditional, back_calculation"
    );
}

#[test]
fn fields_the_kind_does_not_use_are_refused() {
    let request = with_config(|c| {
        c.plant.as_mut().expect("plant").substeps = 4;
        let pid = c.controller.as_mut().expect("controller");
        pid.back_calculation_gain = 1.0;
        c.input.as_mut().expect("input").points = vec![v1::SchedulePoint { at: 0.0, value: 1.0 }];
    });
    assert_eq!(
        fields(&request),
        ["config.plant.substeps", "config.controller.back_calculation_gain", "config.input.points"]
    );
    assert_eq!(reason(&request, "config.plant.substeps"), "not used by a first_order plant; leave it unset");
    let request = with_config(|c| {
        c.plant.as_mut().expect("plant").kind = v1::PlantKind::Torricelli as i32;
        c.controller =
            Some(v1::Controller { kind: v1::ControllerKind::OpenLoop as i32, kp: 1.0, ..Default::default() });
    });
    assert_eq!(fields(&request), ["config.plant.gain", "config.plant.tau", "config.controller.kp"]);
}

#[test]
fn job_params_need_a_known_path_and_a_distribution() {
    let params = vec![
        param("plant.taux", normal()),
        v1::ParamDistribution { param: "controller.kp".into(), distribution: None },
        param("", normal()),
    ];
    let request =
        with_job(Job::MonteCarlo(v1::MonteCarlo { runs: 10, seed: 1, params, ..Default::default() }));
    assert_eq!(
        fields(&request),
        ["monte_carlo.params[0].param", "monte_carlo.params[1].distribution", "monte_carlo.params[2].param"]
    );
    let unknown = reason(&request, "monte_carlo.params[0].param");
    assert!(unknown.starts_with("unknown parameter \"plant.taux\"; one of plant.gain, plant.tau, plant.h0,"));
    assert!(unknown.contains("controller.u_max") && unknown.contains("settling_band"), "{unknown}");
    assert!(reason(&request, "monte_carlo.params[2].param").starts_with("required: one of plant.gain"));
    assert_eq!(
        reason(&request, "monte_carlo.params[1].distribution"),
        "required: one of fixed, uniform, normal, truncated_normal, log_normal, triangular, choice"
    );
    let dataset = v1::Dataset { runs: 1, params: vec![param("noise.sdd", normal())], ..Default::default() };
    assert_eq!(fields(&with_job(Job::Dataset(dataset))), ["dataset.params[0].param"]);
}

#[test]
fn sampling_is_one_of_the_schemes_and_defaults_to_random() {
    let schemes = [Sampling::Random, Sampling::Random, Sampling::Sobol, Sampling::LatinHypercube];
    for (kind, want) in (0..).zip(schemes) {
        let mc = v1::MonteCarlo { runs: 10, seed: 1, sampling: kind, ..Default::default() };
        let job =
            job_spec_from_request(&with_job(Job::MonteCarlo(mc)), &Limits::default()).expect("accepted");
        let JobSpec::MonteCarlo(mc) = job.spec() else { panic!("{:?}", job.spec()) };
        assert_eq!(mc.sampling, want, "sampling {kind}");
    }
    let request = with_job(Job::MonteCarlo(v1::MonteCarlo { runs: 10, sampling: 9, ..Default::default() }));
    assert_eq!(fields(&request), ["monte_carlo.sampling"]);
    assert_eq!(
        reason(&request, "monte_carlo.sampling"),
        "unknown value 9; one of random, sobol, latin_hypercube"
    );
    let dataset = v1::Dataset { runs: 1, sampling: -1, ..Default::default() };
    assert_eq!(fields(&with_job(Job::Dataset(dataset))), ["dataset.sampling"]);
}

#[test]
fn sweep_axes_and_objective() {
    let axes = vec![
        v1::Axis { param: "controller.kp".into(), values: None },
        v1::Axis {
            param: "kp".into(),
            values: Some(axis::Values::List(v1::ValueList { values: vec![1.0] })),
        },
    ];
    let request = with_job(Job::Sweep(v1::Sweep { axes: axes.clone(), objective: None, seed: 0 }));
    assert_eq!(fields(&request), ["sweep.axes[0].values", "sweep.axes[1].param", "sweep.objective"]);
    assert_eq!(reason(&request, "sweep.axes[0].values"), "required: one of list, linspace, logspace");
    let objective = Some(v1::Objective { metric: 14, goal: 0 });
    let request = with_job(Job::Sweep(v1::Sweep { axes: axes[1..].to_vec(), objective, seed: 0 }));
    assert_eq!(fields(&request), ["sweep.axes[0].param", "sweep.objective.metric", "sweep.objective.goal"]);
    assert!(
        reason(&request, "sweep.objective.metric").starts_with("unknown value 14; one of overshoot_pct,")
    );
    assert_eq!(reason(&request, "sweep.objective.goal"), "required: one of minimize, maximize");
}

fn bound(param: &str, lo: f64, hi: f64) -> v1::Bound {
    v1::Bound { param: param.into(), lo, hi, start: None }
}

#[test]
fn optimisations_name_their_fields_and_fill_their_defaults() {
    let objective = Some(v1::Objective { metric: v1::Metric::Ise as i32, goal: v1::Goal::Minimize as i32 });
    let opt = v1::Optimize {
        params: vec![bound("controller.kp", 0.1, 10.0), bound("controller.ki", 0.01, 2.0)],
        objective,
        ..Default::default()
    };
    let valid =
        job_spec_from_request(&with_job(Job::Optimize(opt.clone())), &Limits::default()).expect("valid");
    let JobSpec::Optimize(spec) = valid.spec() else { panic!("an optimisation") };
    assert_eq!((spec.population, spec.generations, spec.x_tolerance, spec.initial_step), (6, 100, 1e-3, 0.3));
    assert_eq!((spec.params[0].start, spec.params[1].start), (5.05, 1.005), "a bound starts in its middle");
    // Round trip: the stored spec converts back to the same job.
    let stored = v1::SubmitJobRequest::from(valid.spec());
    assert_eq!(job_spec_from_request(&stored, &Limits::default()).expect("valid").spec(), valid.spec());

    let bad = v1::Optimize {
        params: vec![bound("kp", 0.0, 1.0), bound("controller.ki", 2.0, 1.0)],
        objective: None,
        population: 1,
        ..opt.clone()
    };
    let request = with_job(Job::Optimize(bad));
    assert_eq!(fields(&request), ["optimize.params[0].param", "optimize.objective"]);
    let bad = v1::Optimize { params: vec![bound("controller.ki", 2.0, 1.0)], population: 1, ..opt.clone() };
    assert_eq!(fields(&with_job(Job::Optimize(bad))), ["optimize.params[0].hi", "optimize.population"]);
    // An uncertain parameter's fields gain their distribution's member, as in a Monte Carlo job.
    let tau = v1::ParamDistribution { param: "plant.tau".into(), distribution: Some(normal()) };
    let robust = v1::OptimizeRobust { params: vec![tau], runs: 10, quantile: Some(2.0), sampling: 0 };
    let request = with_job(Job::Optimize(v1::Optimize { robust: Some(robust), ..opt }));
    assert_eq!(fields(&request), ["optimize.robust.quantile", "optimize.robust.params[0]"]);
}

#[test]
fn structural_and_config_errors_are_reported_together() {
    let mut request = with_config(|c| c.plant = None);
    request.job = Some(Job::MonteCarlo(v1::MonteCarlo {
        runs: 0,
        seed: 0,
        params: vec![param("x", normal())],
        ..Default::default()
    }));
    // Value errors (runs = 0) wait until the structure converts.
    assert_eq!(fields(&request), ["config.plant", "monte_carlo.params[0].param"]);
}

#[test]
fn bare_configs_use_the_given_prefix() {
    let mut config = mc_tau_config();
    config.plant = None;
    let unprefixed = sim_config_from_proto(&config, "").unwrap_err();
    assert_eq!(unprefixed[0].field, "plant");
    let prefixed = sim_config_from_proto(&config, "config.").unwrap_err();
    assert_eq!(prefixed[0].field, "config.plant");
}

#[test]
fn strings_are_bounded() {
    use tanksim_proto::convert::{MAX_NAME_BYTES, MAX_PARAM_PATH_BYTES};
    let mut request = mc_tau_request();
    request.name = "n".repeat(MAX_NAME_BYTES);
    assert!(tanksim_proto::convert::job_spec_from_request(&request, &Default::default()).is_ok());
    request.name = "n".repeat(3_900_000);
    assert_eq!(fields(&request), ["name"]);
    assert_eq!(reason(&request, "name"), "at most 200 bytes, got 3900000");
    // A parameter path longer than any real one is refused without being echoed.
    let long = "plant.".repeat(1_000_000);
    let request = with_job(Job::MonteCarlo(v1::MonteCarlo {
        runs: 1,
        seed: 0,
        params: vec![param(&long, normal())],
        ..Default::default()
    }));
    assert_eq!(fields(&request), ["monte_carlo.params[0].param"]);
    let why = reason(&request, "monte_carlo.params[0].param");
    assert!(why.starts_with(&format!("at most {MAX_PARAM_PATH_BYTES} bytes, got 6000000; one of ")), "{why}");
    let axis =
        v1::Axis { param: long, values: Some(axis::Values::List(v1::ValueList { values: vec![1.0] })) };
    let request = with_job(Job::Sweep(v1::Sweep { axes: vec![axis], objective: None, seed: 0 }));
    assert!(fields(&request).contains(&"sweep.axes[0].param".to_owned()));
    assert!(reason(&request, "sweep.axes[0].param").len() < 1_000);
}
