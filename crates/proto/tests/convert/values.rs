//! Value errors: sim-core's validator's findings, reported at request paths; and the status
//! they become.

use tanksim_proto::convert::{FieldViolation, bad_request_status, job_spec_from_request, simulate_config};
use tanksim_proto::v1::{self, axis, param_distribution as pd, submit_job_request::Job};
use tanksim_sim_core::config::Recording;
use tanksim_sim_core::validate::Limits;
use tonic::Code;
use tonic_types::StatusExt;

use super::{fields, mc_tau_config, mc_tau_request, param, reason, violations};

fn mc(params: Vec<v1::ParamDistribution>) -> v1::SubmitJobRequest {
    v1::SubmitJobRequest {
        job: Some(Job::MonteCarlo(v1::MonteCarlo { runs: 100, seed: 1, params, ..Default::default() })),
        ..mc_tau_request()
    }
}

fn sweep(axes: Vec<v1::Axis>) -> v1::SubmitJobRequest {
    let objective = Some(v1::Objective { metric: v1::Metric::Iae as i32, goal: v1::Goal::Minimize as i32 });
    v1::SubmitJobRequest { job: Some(Job::Sweep(v1::Sweep { axes, objective, seed: 0 })), ..mc_tau_request() }
}

fn axis(path: &str, values: axis::Values) -> v1::Axis {
    v1::Axis { param: path.into(), values: Some(values) }
}

fn lin(start: f64, stop: f64, num: u32) -> axis::Values {
    axis::Values::Linspace(v1::Linspace { start, stop, num })
}

#[test]
fn a_normal_tau_is_refused_at_the_entry() {
    let request = mc(vec![param("plant.tau", pd::Distribution::Normal(v1::Normal { mean: 10.0, sd: 2.0 }))]);
    assert_eq!(fields(&request), ["monte_carlo.params[0]"]);
    let why = reason(&request, "monte_carlo.params[0]");
    assert!(why.starts_with("plant.tau must be > 0 but a normal distribution can sample"), "{why}");
}

#[test]
fn distribution_fields_gain_their_oneof_member() {
    let truncated = v1::TruncatedNormal { mean: 10.0, sd: -1.0, lo: None, hi: None };
    let request = mc(vec![
        param("plant.tau", pd::Distribution::TruncatedNormal(truncated)),
        param("controller.kp", pd::Distribution::Fixed(f64::NAN)),
        param("controller.ki", pd::Distribution::Uniform(v1::Uniform { lo: 1.0, hi: 1.0 })),
        param("controller.kp", pd::Distribution::Fixed(1.0)),
    ]);
    assert_eq!(
        fields(&request),
        [
            "monte_carlo.params[0].truncated_normal.sd",
            "monte_carlo.params[1].fixed",
            "monte_carlo.params[2].uniform.hi",
            "monte_carlo.params[3].param",
        ]
    );
}

#[test]
fn config_values_gain_the_config_prefix() {
    let mut request = mc_tau_request();
    let config = request.config.as_mut().expect("config");
    config.dt = -0.01;
    config.settling_band = Some(1.0);
    config.controller.as_mut().expect("pid").u_max = Some(0.0);
    config.input = Some(v1::Profile {
        kind: v1::ProfileKind::Schedule as i32,
        points: vec![v1::SchedulePoint { at: 1.0, value: 0.0 }, v1::SchedulePoint { at: 1.0, value: 1.0 }],
        ..Default::default()
    });
    assert_eq!(
        fields(&request),
        ["config.controller.u_max", "config.input.points[1].at", "config.dt", "config.settling_band"]
    );
    assert_eq!(reason(&request, "config.dt"), "must be > 0, got -0.01");
}

#[test]
fn sweep_axis_fields_gain_their_oneof_member() {
    let list = axis::Values::List(v1::ValueList { values: vec![1.0, 2.0, -1.0] });
    let logspace = axis::Values::Logspace(v1::Logspace { start: 1.0, stop: 10.0, num: 0 });
    let request = sweep(vec![
        axis("controller.kp", lin(0.0, f64::NAN, 5)),
        axis("plant.tau", list),
        axis("controller.ki", logspace),
    ]);
    assert_eq!(
        fields(&request),
        ["sweep.axes[0].linspace.stop", "sweep.axes[1].list.values[2]", "sweep.axes[2].logspace.num"]
    );
    let empty = sweep(vec![axis("controller.kp", axis::Values::List(v1::ValueList::default()))]);
    assert_eq!(fields(&empty), ["sweep.axes[0].list.values"]);
    assert_eq!(fields(&sweep(vec![])), ["sweep.axes"]);
}

#[test]
fn run_counts_and_dataset_recording() {
    let mut request = mc(vec![]);
    if let Some(Job::MonteCarlo(m)) = &mut request.job {
        m.runs = 0;
    }
    assert_eq!(fields(&request), ["monte_carlo.runs"]);
    // 6000 steps recorded every 10th: 601 samples, over a limit of 600.
    let dataset = v1::Dataset { runs: 10, seed: 0, params: vec![], record_every: 10, ..Default::default() };
    let request = v1::SubmitJobRequest { job: Some(Job::Dataset(dataset)), ..mc_tau_request() };
    let limits = Limits { max_recorded_samples: 600, ..Limits::default() };
    let v = job_spec_from_request(&request, &limits).unwrap_err();
    assert_eq!(v.iter().map(|v| v.field.as_str()).collect::<Vec<_>>(), ["dataset.record_every"]);
    let limits = Limits { max_recorded_samples: 601, ..limits };
    let job = job_spec_from_request(&request, &limits).expect("fits");
    assert_eq!(job.spec().base().record, Recording::Every(10));
}

#[test]
fn jobs_ignore_the_configs_own_recording() {
    let mut request = mc_tau_request();
    request.config.as_mut().expect("config").record = Some(v1::Recording { every: 1 });
    let job = job_spec_from_request(&request, &Limits { max_recorded_samples: 1, ..Limits::default() });
    assert_eq!(job.expect("valid").spec().base().record, Recording::None);
}

#[test]
fn simulate_requests_validate_under_config() {
    let limits = Limits { max_recorded_samples: 100, ..Limits::default() };
    let mut config = mc_tau_config();
    config.dt = f64::NAN;
    let request = v1::SimulateRequest { config: Some(config) };
    assert_eq!(simulate_config(&request, &limits).unwrap_err()[0].field, "config.dt");
    let mut config = mc_tau_config();
    config.record = Some(v1::Recording { every: 10 });
    let v = simulate_config(&v1::SimulateRequest { config: Some(config.clone()) }, &limits).unwrap_err();
    assert_eq!(v[0].field, "config.record.every");
    config.record = Some(v1::Recording { every: 100 });
    let ok = simulate_config(&v1::SimulateRequest { config: Some(config) }, &limits).expect("61 samples");
    assert_eq!(ok.record, Recording::Every(100));
    assert_eq!(
        simulate_config(&v1::SimulateRequest { config: None }, &limits).unwrap_err()[0].field,
        "config"
    );
}

#[test]
fn bad_request_status_carries_every_violation() {
    let request =
        sweep(vec![axis("controller.kp", lin(0.0, f64::NAN, 0)), axis("plant.tau", lin(-1.0, 1.0, 3))]);
    let found = violations(&request);
    assert!(found.len() >= 3, "{found:?}");
    let status = bad_request_status(&found);
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().starts_with(&format!("invalid request: {}", found[0])), "{}", status.message());
    // Through the wire form: the detail decodes back with the same fields, in order.
    let mut headers = tonic::metadata::MetadataMap::new().into_headers();
    status.add_header(&mut headers).expect("fits in headers");
    let status = tonic::Status::from_header_map(&headers).expect("status");
    let detail = status.get_details_bad_request().expect("BadRequest detail");
    let decoded: Vec<FieldViolation> = detail
        .field_violations
        .into_iter()
        .map(|v| FieldViolation { field: v.field, reason: v.description })
        .collect();
    assert_eq!(decoded, found);
}

#[test]
fn a_dataset_over_the_output_limit_names_its_recording_and_the_estimate() {
    // The campaign's case: 10^7 runs recording every step, ~1.9 TB of rows.
    let dataset =
        v1::Dataset { runs: 10_000_000, seed: 0, params: vec![], record_every: 1, ..Default::default() };
    let request = v1::SubmitJobRequest { job: Some(Job::Dataset(dataset)), ..mc_tau_request() };
    let v = job_spec_from_request(&request, &Limits::default()).unwrap_err();
    assert_eq!(v.iter().map(|v| v.field.as_str()).collect::<Vec<_>>(), ["dataset.record_every"]);
    assert!(
        v[0].reason.contains("about 1.7 TiB") && v[0].reason.contains("limit of 8.0 GiB"),
        "{}",
        v[0].reason
    );
    // Without trajectories the rows are ~1.2 GiB: within the default.
    let dataset =
        v1::Dataset { runs: 10_000_000, seed: 0, params: vec![], record_every: 0, ..Default::default() };
    let request = v1::SubmitJobRequest { job: Some(Job::Dataset(dataset)), ..mc_tau_request() };
    assert!(job_spec_from_request(&request, &Limits::default()).is_ok());
    let small = Limits { max_job_output_bytes: 1 << 30, ..Limits::default() };
    let v = job_spec_from_request(&request, &small).unwrap_err();
    assert_eq!(v.iter().map(|v| v.field.as_str()).collect::<Vec<_>>(), ["dataset.runs"]);
}

#[test]
fn a_spec_with_a_hundred_thousand_violations_gets_a_small_error_counting_them() {
    use tanksim_proto::convert::MAX_VIOLATIONS;
    let values = vec![f64::NAN; 100_000];
    let request = sweep(vec![axis("plant.tau", axis::Values::List(v1::ValueList { values }))]);
    let v = job_spec_from_request(&request, &Limits::default()).unwrap_err();
    assert_eq!(v.len(), MAX_VIOLATIONS + 1, "kept, plus one counting the rest");
    let status = bad_request_status(&v);
    let detail = status.get_details_bad_request().expect("a BadRequest detail");
    let listed = detail.field_violations.len();
    assert!((2..=MAX_VIOLATIONS + 1).contains(&listed), "{listed}");
    let last = detail.field_violations.last().expect("a summary");
    assert_eq!(last.field, format!("sweep.axes[0].list.values[{}]", listed - 1));
    assert_eq!(last.description, format!("... and {} more violations, not listed", 100_000 - (listed - 1)));
    // The status travels as headers: far under the 8 KiB a client such as grpcio accepts.
    let mut headers = tonic::codegen::http::HeaderMap::new();
    status.add_header(&mut headers).expect("encodes");
    let bytes: usize = headers.iter().map(|(k, v)| k.as_str().len() + v.len()).sum();
    assert!(bytes < 6 * 1024, "{bytes} bytes of headers");
}
