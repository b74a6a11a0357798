//! Integration tests of `tanksim_proto::convert`: requests in (structural and value errors at
//! request paths), the way back (round trips), summaries and rows, and that no input panics.

#[path = "convert/fuzz.rs"]
mod fuzz;
#[path = "convert/round_trip.rs"]
mod round_trip;
#[path = "convert/structural.rs"]
mod structural;
#[path = "convert/summaries.rs"]
mod summaries;
#[path = "convert/values.rs"]
mod values;

use tanksim_proto::convert::{FieldViolation, job_spec_from_request};
use tanksim_proto::v1::{self, param_distribution as pd, submit_job_request::Job};
use tanksim_sim_core::canonical::mc_tau_job;
use tanksim_sim_core::validate::Limits;

/// The MC-tau base configuration as a user writes it (proto3 defaults left out).
fn mc_tau_config() -> v1::SimConfig {
    v1::SimConfig {
        plant: Some(v1::Plant {
            kind: v1::PlantKind::FirstOrder as i32,
            gain: 2.0,
            tau: 10.0,
            ..Default::default()
        }),
        controller: Some(v1::Controller {
            kind: v1::ControllerKind::Pid as i32,
            kp: 2.0,
            ki: 0.5,
            u_min: Some(0.0),
            u_max: Some(1.0),
            ..Default::default()
        }),
        input: Some(v1::Profile {
            kind: v1::ProfileKind::Step as i32,
            initial: 1.0,
            value: 1.0,
            ..Default::default()
        }),
        dt: 0.01,
        horizon: 60.0,
        ..Default::default()
    }
}

fn param(path: &str, dist: pd::Distribution) -> v1::ParamDistribution {
    v1::ParamDistribution { param: path.into(), distribution: Some(dist) }
}

/// The canonical MC-tau job: 10,000 runs, `tau ~ TruncatedNormal(10, 2)` on `[1, inf)`.
fn mc_tau_request() -> v1::SubmitJobRequest {
    let tau = pd::Distribution::TruncatedNormal(v1::TruncatedNormal {
        mean: 10.0,
        sd: 2.0,
        lo: Some(1.0),
        hi: None,
    });
    v1::SubmitJobRequest {
        name: "mc-tau".into(),
        config: Some(mc_tau_config()),
        job: Some(Job::MonteCarlo(v1::MonteCarlo {
            runs: 10_000,
            seed: 42,
            params: vec![param("plant.tau", tau)],
            ..Default::default()
        })),
    }
}

/// The violations of a request that must be rejected.
fn violations(request: &v1::SubmitJobRequest) -> Vec<FieldViolation> {
    match job_spec_from_request(request, &Limits::default()) {
        Ok(job) => panic!("accepted {:?}", job.spec()),
        Err(v) => {
            assert!(!v.is_empty());
            v
        }
    }
}

fn fields(request: &v1::SubmitJobRequest) -> Vec<String> {
    violations(request).into_iter().map(|v| v.field).collect()
}

/// The reason given for `field` (which must be among the violations).
fn reason(request: &v1::SubmitJobRequest, field: &str) -> String {
    let all = violations(request);
    let found = all.iter().find(|v| v.field == field);
    found.unwrap_or_else(|| panic!("no violation of {field} in {all:?}")).reason.clone()
}

#[test]
fn canonical_mc_tau_request_converts_and_validates() {
    let job = job_spec_from_request(&mc_tau_request(), &Limits::default()).expect("valid");
    assert_eq!(job.into_spec(), mc_tau_job(10_000, 42));
}

#[test]
fn canonical_mc_tau_spec_reads_from_proto3_json() {
    // The job-spec format: snake_case names as in error paths, defaults left out.
    let json = r#"{
        "name": "mc-tau",
        "config": {
            "plant": {"kind": "PLANT_KIND_FIRST_ORDER", "gain": 2, "tau": 10},
            "controller": {"kind": "CONTROLLER_KIND_PID", "kp": 2, "ki": 0.5, "u_min": 0, "u_max": 1},
            "input": {"kind": "PROFILE_KIND_STEP", "initial": 1, "value": 1},
            "dt": 0.01,
            "horizon": 60
        },
        "monte_carlo": {
            "runs": "10000",
            "seed": 42,
            "params": [{"param": "plant.tau", "truncated_normal": {"mean": 10, "sd": 2, "lo": 1}}]
        }
    }"#;
    let request: v1::SubmitJobRequest = serde_json::from_str(json).expect("proto3 JSON");
    assert_eq!(request, mc_tau_request());
    let job = job_spec_from_request(&request, &Limits::default()).expect("valid");
    assert_eq!(job.spec(), &mc_tau_job(10_000, 42));
}
