//! No request panics the conversion: arbitrary requests built from random fields (NaN,
//! infinities, huge numbers, unknown enum values, unset oneofs), and every rejection names
//! request paths and becomes a status.

use proptest::prelude::*;
use tanksim_proto::convert::{MAX_VIOLATIONS, bad_request_status, job_spec_from_request};
use tanksim_proto::v1::{self, axis, param_distribution as pd, submit_job_request::Job};
use tanksim_sim_core::validate::Limits;
use tonic::Code;

fn num() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => -20.0..20.0f64,
        1 => prop::sample::select(vec![
            0.0, -0.0, 1.0, 0.01, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MAX, -f64::MAX,
            f64::MIN_POSITIVE, 5e-324, 1e300, 1e-300,
        ]),
        1 => any::<f64>(),
    ]
}

fn kind() -> impl Strategy<Value = i32> {
    prop_oneof![4 => 0..5i32, 1 => any::<i32>()]
}

fn opt_num() -> impl Strategy<Value = Option<f64>> {
    prop::option::of(num())
}

fn config() -> BoxedStrategy<v1::SimConfig> {
    let plant =
        (kind(), [num(), num(), num(), num(), num(), num(), num()], prop_oneof![0u32..3, any::<u32>()])
            .prop_map(|(kind, [gain, tau, h0, area, outlet, max_inflow, h_max], substeps)| v1::Plant {
                kind,
                gain,
                tau,
                h0,
                area,
                outlet,
                max_inflow,
                h_max,
                substeps,
            });
    let controller = ((kind(), kind(), kind()), [num(), num(), num(), num(), num()], opt_num(), opt_num())
        .prop_map(
            |(
                (kind, derivative_on, anti_windup),
                [kp, ki, kd, derivative_filter, back_calculation_gain],
                u_min,
                u_max,
            )| {
                v1::Controller {
                    kind,
                    kp,
                    ki,
                    kd,
                    u_min,
                    u_max,
                    derivative_filter,
                    derivative_on,
                    anti_windup,
                    back_calculation_gain,
                }
            },
        );
    let points =
        prop::collection::vec((num(), num()).prop_map(|(at, value)| v1::SchedulePoint { at, value }), 0..3);
    let input = (kind(), [num(), num(), num(), num(), num(), num(), num()], points).prop_map(
        |(kind, [value, initial, at, end, amplitude, period, phase], points)| v1::Profile {
            kind,
            value,
            initial,
            at,
            end,
            amplitude,
            period,
            phase,
            points,
        },
    );
    let disturbance = (num(), num(), opt_num()).prop_map(|(magnitude, start, end)| v1::Disturbance {
        magnitude,
        start,
        end,
    });
    let noise = (num(), any::<u64>()).prop_map(|(sd, seed)| v1::MeasurementNoise { sd, seed });
    let record = prop_oneof![0u32..3, any::<u32>()].prop_map(|every| v1::Recording { every });
    let messages = (prop::option::of(plant), prop::option::of(controller), prop::option::of(input));
    let extras = (prop::option::of(disturbance), prop::option::of(noise), prop::option::of(record));
    (messages, extras, num(), num(), opt_num())
        .prop_map(|((plant, controller, input), (disturbance, noise, record), dt, horizon, settling_band)| {
            v1::SimConfig { plant, controller, input, disturbance, noise, dt, horizon, record, settling_band }
        })
        .boxed()
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(tanksim_sim_core::Param::ALL.map(|p| p.path()).to_vec()).prop_map(String::from),
        1 => Just("settling_band".to_owned()),
        1 => ".{0,12}",
    ]
}

fn distribution() -> impl Strategy<Value = Option<pd::Distribution>> {
    let list = || prop::collection::vec(num(), 0..3);
    prop::option::of(prop_oneof![
        num().prop_map(pd::Distribution::Fixed),
        (num(), num()).prop_map(|(lo, hi)| pd::Distribution::Uniform(v1::Uniform { lo, hi })),
        (num(), num()).prop_map(|(mean, sd)| pd::Distribution::Normal(v1::Normal { mean, sd })),
        (num(), num(), opt_num(), opt_num()).prop_map(|(mean, sd, lo, hi)| {
            pd::Distribution::TruncatedNormal(v1::TruncatedNormal { mean, sd, lo, hi })
        }),
        (num(), num()).prop_map(|(mu, sigma)| pd::Distribution::LogNormal(v1::LogNormal { mu, sigma })),
        (num(), num(), num()).prop_map(|(lo, mode, hi)| pd::Distribution::Triangular(v1::Triangular {
            lo,
            mode,
            hi
        })),
        (list(), list())
            .prop_map(|(values, weights)| pd::Distribution::Choice(v1::Choice { values, weights })),
    ])
}

fn axis_values() -> impl Strategy<Value = Option<axis::Values>> {
    let num_points = || prop_oneof![0u32..4, any::<u32>()];
    prop::option::of(prop_oneof![
        prop::collection::vec(num(), 0..3).prop_map(|values| axis::Values::List(v1::ValueList { values })),
        (num(), num(), num_points()).prop_map(|(start, stop, num)| axis::Values::Linspace(v1::Linspace {
            start,
            stop,
            num
        })),
        (num(), num(), num_points()).prop_map(|(start, stop, num)| axis::Values::Logspace(v1::Logspace {
            start,
            stop,
            num
        })),
    ])
}

fn job() -> BoxedStrategy<Option<Job>> {
    let runs = || prop_oneof![0u64..20, any::<u64>()];
    let params = || {
        prop::collection::vec(
            (path(), distribution())
                .prop_map(|(param, distribution)| v1::ParamDistribution { param, distribution }),
            0..4,
        )
    };
    let axes = prop::collection::vec(
        (path(), axis_values()).prop_map(|(param, values)| v1::Axis { param, values }),
        0..3,
    );
    let objective =
        prop::option::of((kind(), kind()).prop_map(|(metric, goal)| v1::Objective { metric, goal }));
    prop::option::of(prop_oneof![
        (runs(), any::<u64>(), params(), kind()).prop_map(|(runs, seed, params, sampling)| Job::MonteCarlo(
            v1::MonteCarlo { runs, seed, params, sampling, stop: None }
        )),
        (axes, objective, any::<u64>()).prop_map(|(axes, objective, seed)| Job::Sweep(v1::Sweep {
            axes,
            objective,
            seed
        })),
        (runs(), any::<u64>(), params(), prop_oneof![0u32..3, any::<u32>()], kind()).prop_map(
            |(runs, seed, params, record_every, sampling)| {
                Job::Dataset(v1::Dataset { runs, seed, params, record_every, sampling })
            }
        ),
        (runs(), params(), prop::collection::vec(kind(), 0..4), prop_oneof![0u32..3, any::<u32>()], num(),)
            .prop_map(|(samples, params, metrics, bootstrap_resamples, confidence_level)| {
                Job::Sensitivity(v1::Sensitivity {
                    samples,
                    seed: 3,
                    params,
                    metrics,
                    bootstrap_resamples,
                    confidence_level,
                })
            }),
        (
            prop::collection::vec(
                (path(), num(), num(), prop::option::of(num()))
                    .prop_map(|(param, lo, hi, start)| v1::Bound { param, lo, hi, start }),
                0..4,
            ),
            prop::option::of((kind(), kind()).prop_map(|(metric, goal)| v1::Objective { metric, goal })),
            (prop_oneof![0u32..20, any::<u32>()], prop_oneof![0u32..20, any::<u32>()], num(), num()),
            prop::option::of(
                (params(), prop_oneof![0u32..50, any::<u32>()], prop::option::of(num()), kind()).prop_map(
                    |(params, runs, quantile, sampling)| v1::OptimizeRobust {
                        params,
                        runs,
                        quantile,
                        sampling
                    }
                )
            ),
        )
            .prop_map(
                |(params, objective, (population, max_generations, x_tolerance, initial_step), robust)| {
                    Job::Optimize(v1::Optimize {
                        params,
                        objective,
                        population,
                        max_generations,
                        seed: 5,
                        x_tolerance,
                        initial_step,
                        robust,
                    })
                }
            ),
    ])
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_requests_never_panic(config in prop::option::of(config()), job in job()) {
        let kind = match &job {
            Some(Job::MonteCarlo(_)) => "monte_carlo",
            Some(Job::Sweep(_)) => "sweep",
            Some(Job::Dataset(_)) => "dataset",
            Some(Job::Sensitivity(_)) => "sensitivity",
            Some(Job::Optimize(_)) => "optimize",
            None => "job",
        };
        let request = v1::SubmitJobRequest { name: String::new(), config, job };
        let Err(violations) = job_spec_from_request(&request, &Limits::default()) else {
            return Ok(());
        };
        prop_assert!(!violations.is_empty() && violations.len() <= MAX_VIOLATIONS + 1);
        for v in &violations {
            // A request path: under the config or the job kind that is set, never sim-core's
            // own spelling.
            let top = v.field.split(['.', '[']).next().unwrap_or_default();
            prop_assert!(top == "config" || top == kind, "{} in {:?}", v.field, violations);
            prop_assert!(!v.field.contains("metrics."), "{}", v.field);
        }
        prop_assert_eq!(bad_request_status(&violations).code(), Code::InvalidArgument);
    }
}

/// A valid request's encoding (the stored spec the dispatcher and the results service read
/// back from Redis).
fn stored_spec() -> Vec<u8> {
    use prost::Message;
    let request = v1::SubmitJobRequest {
        name: "stored".into(),
        config: Some(v1::SimConfig {
            plant: Some(v1::Plant { kind: 1, gain: 1.0, tau: 10.0, ..Default::default() }),
            controller: Some(v1::Controller { kind: 2, kp: 2.0, ki: 0.5, ..Default::default() }),
            input: Some(v1::Profile { kind: 1, value: 1.0, ..Default::default() }),
            dt: 0.1,
            horizon: 60.0,
            ..Default::default()
        }),
        job: Some(Job::MonteCarlo(v1::MonteCarlo {
            runs: 100,
            seed: 7,
            params: Vec::new(),
            ..Default::default()
        })),
    };
    request.encode_to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Stored specs are decoded from bytes another process wrote: arbitrary bytes, and a valid
    /// encoding with bytes flipped, truncated or appended, decode to an error or to a request
    /// whose conversion answers (never a panic).
    #[test]
    fn arbitrary_stored_spec_bytes_never_panic(
        random in prop::collection::vec(any::<u8>(), 0..512),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        cut in any::<prop::sample::Index>(),
        tail in prop::collection::vec(any::<u8>(), 0..16),
    ) {
        use prost::Message;
        let mut mutated = stored_spec();
        for (at, byte) in flips {
            let i = at.index(mutated.len());
            mutated[i] ^= byte;
        }
        mutated.truncate(cut.index(mutated.len() + 1));
        mutated.extend(tail);
        for bytes in [random, mutated] {
            if let Ok(request) = v1::SubmitJobRequest::decode(bytes.as_slice()) {
                let _ = job_spec_from_request(&request, &Limits::default());
            }
        }
    }
}

#[test]
fn the_stored_spec_fixture_is_valid() {
    use prost::Message;
    let request = v1::SubmitJobRequest::decode(stored_spec().as_slice()).unwrap();
    assert!(job_spec_from_request(&request, &Limits::default()).is_ok());
}
