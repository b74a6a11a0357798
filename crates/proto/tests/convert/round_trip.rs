//! Domain -> proto -> wire bytes -> proto -> domain is the identity for every configuration and
//! job the proto can express (see `convert`'s `to_proto` for the normalised cases).

use proptest::prelude::*;
use prost::Message;
use tanksim_proto::v1;
use tanksim_sim_core::adaptive::{Statistic, Stop, Target};
use tanksim_sim_core::config::*;
use tanksim_sim_core::distribution::Distribution;
use tanksim_sim_core::job::{Goal, JobSpec, MonteCarlo, Objective, ParamDist, Sweep};
use tanksim_sim_core::sampling::Sampling;
use tanksim_sim_core::sweep::{Axis, AxisValues};
use tanksim_sim_core::{Metric, Param};

/// Any number but NaN (which `==` cannot compare), the infinities and zeros included.
fn num() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1e6..1e6f64,
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(0.0),
        1 => any::<f64>().prop_filter("comparable", |x| !x.is_nan()),
    ]
}

fn plant() -> impl Strategy<Value = Plant> {
    prop_oneof![
        (num(), num(), num()).prop_map(|(gain, tau, h0)| Plant::FirstOrder(FirstOrder { gain, tau, h0 })),
        (num(), num(), num(), num(), num(), 1u32..2000).prop_map(
            |(area, outlet, max_inflow, h_max, h0, substeps)| {
                Plant::Torricelli(Torricelli { area, outlet, max_inflow, h_max, h0, substeps })
            }
        ),
    ]
}

fn controller() -> impl Strategy<Value = Controller> {
    let anti_windup = prop_oneof![
        Just(AntiWindup::None),
        Just(AntiWindup::Conditional),
        num().prop_map(|gain| AntiWindup::BackCalculation { gain }),
    ];
    let on = prop_oneof![Just(DerivativeOn::Measurement), Just(DerivativeOn::Error)];
    let pid = ((num(), num(), num(), num(), num(), num()), on, anti_windup).prop_map(
        |((kp, ki, kd, u_min, u_max, derivative_filter), derivative_on, anti_windup)| {
            Controller::Pid(Pid { kp, ki, kd, u_min, u_max, derivative_filter, derivative_on, anti_windup })
        },
    );
    prop_oneof![Just(Controller::OpenLoop), pid]
}

fn profile() -> impl Strategy<Value = Profile> {
    prop_oneof![
        (num(), num(), num()).prop_map(|(initial, value, at)| Profile::Step { initial, value, at }),
        (num(), num(), num(), num()).prop_map(|(from, to, start, end)| Profile::Ramp {
            from,
            to,
            start,
            end
        }),
        (num(), num(), num(), num()).prop_map(|(offset, amplitude, period, phase)| Profile::Sine {
            offset,
            amplitude,
            period,
            phase
        }),
        prop::collection::vec((num(), num()).prop_map(|(at, value)| SchedulePoint { at, value }), 0..4)
            .prop_map(Profile::Schedule),
    ]
}

fn sim_config() -> BoxedStrategy<SimConfig> {
    let disturbance =
        (num(), num(), num()).prop_map(|(magnitude, start, end)| Disturbance { magnitude, start, end });
    let noise = (num(), any::<u64>()).prop_map(|(sd, seed)| MeasurementNoise { sd, seed });
    let record = prop_oneof![Just(Recording::None), (1u32..).prop_map(Recording::Every)];
    (plant(), controller(), profile(), prop::option::of(disturbance), prop::option::of(noise))
        .prop_flat_map(move |parts| (Just(parts), num(), num(), record.clone(), num()))
        .prop_map(|((plant, controller, input, disturbance, noise), dt, horizon, record, settling_band)| {
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
        })
        .boxed()
}

fn distribution() -> BoxedStrategy<Distribution> {
    let list = || prop::collection::vec(num(), 0..4);
    prop_oneof![
        num().prop_map(Distribution::Fixed),
        (num(), num()).prop_map(|(lo, hi)| Distribution::Uniform { lo, hi }),
        (num(), num()).prop_map(|(mean, sd)| Distribution::Normal { mean, sd }),
        (num(), num(), num(), num()).prop_map(|(mean, sd, lo, hi)| Distribution::TruncatedNormal {
            mean,
            sd,
            lo,
            hi
        }),
        (num(), num()).prop_map(|(mu, sigma)| Distribution::LogNormal { mu, sigma }),
        (num(), num(), num()).prop_map(|(lo, mode, hi)| Distribution::Triangular { lo, mode, hi }),
        (list(), list()).prop_map(|(values, weights)| Distribution::Choice { values, weights }),
    ]
    .boxed()
}

fn param() -> impl Strategy<Value = Param> {
    prop::sample::select(Param::ALL.to_vec())
}

fn axis_values() -> impl Strategy<Value = AxisValues> {
    prop_oneof![
        prop::collection::vec(num(), 0..4).prop_map(AxisValues::List),
        (num(), num(), any::<u32>()).prop_map(|(start, stop, num)| AxisValues::Linspace { start, stop, num }),
        (num(), num(), any::<u32>()).prop_map(|(start, stop, num)| AxisValues::Logspace { start, stop, num }),
    ]
}

fn job() -> BoxedStrategy<JobSpec> {
    let params = || {
        prop::collection::vec(
            (param(), distribution()).prop_map(|(param, dist)| ParamDist { param, dist }),
            0..4,
        )
    };
    let mc = || {
        (sim_config(), any::<u64>(), any::<u64>(), params(), prop::sample::select(Sampling::ALL.to_vec()))
            .prop_map(|(mut base, runs, seed, params, sampling)| {
                base.record = Recording::None;
                MonteCarlo { base, runs, seed, params, sampling, stop: None }
            })
            .boxed()
    };
    let axes = prop::collection::vec(
        (param(), axis_values()).prop_map(|(param, values)| Axis { param, values }),
        0..4,
    );
    let objective =
        (prop::sample::select(Metric::ALL.to_vec()), prop::bool::ANY).prop_map(|(metric, max)| Objective {
            metric,
            goal: if max { Goal::Maximize } else { Goal::Minimize },
        });
    let sweep =
        (sim_config(), axes, objective, any::<u64>()).prop_map(|(mut base, axes, objective, seed)| {
            base.record = Recording::None;
            JobSpec::Sweep(Sweep { base, axes, objective, seed })
        });
    let dataset = (mc(), prop_oneof![Just(Recording::None), (1u32..).prop_map(Recording::Every)]).prop_map(
        |(mut ds, record)| {
            ds.base.record = record;
            JobSpec::Dataset(ds)
        },
    );
    let statistic = prop_oneof![Just(Statistic::Mean), (1e-6..1.0f64).prop_map(Statistic::Quantile)];
    let stop = (
        prop::sample::select(Metric::ALL.to_vec()),
        statistic,
        prop::bool::ANY,
        num(),
        0.01..0.99f64,
        1u64..,
    )
        .prop_map(|(metric, statistic, relative, target, confidence, batch)| Stop {
            metric,
            statistic,
            target: if relative { Target::Relative(target) } else { Target::Absolute(target) },
            confidence,
            batch,
        });
    let monte_carlo =
        (mc(), prop::option::of(stop)).prop_map(|(mc, stop)| JobSpec::MonteCarlo(MonteCarlo { stop, ..mc }));
    prop_oneof![monte_carlo.boxed(), sweep.boxed(), dataset.boxed()].boxed()
}

/// Through the wire, so optional fields and oneofs survive encoding too.
fn over_the_wire<M: Message + Default>(message: &M) -> M {
    M::decode(message.encode_to_vec().as_slice()).expect("decodes")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn configs_round_trip(config in sim_config()) {
        let proto = over_the_wire(&v1::SimConfig::from(&config));
        prop_assert_eq!(SimConfig::try_from(&proto), Ok(config));
    }

    #[test]
    fn jobs_round_trip(job in job()) {
        let proto = over_the_wire(&v1::SubmitJobRequest::from(&job));
        prop_assert_eq!(JobSpec::try_from(&proto), Ok(job));
    }
}

#[test]
fn normalised_cases() {
    let mut config = SimConfig::mc_tau(10.0);
    config.record = Recording::Full;
    let back = SimConfig::try_from(&v1::SimConfig::from(&config)).expect("converts");
    assert_eq!(back.record, Recording::Every(1));
    let proto = v1::SimConfig::from(&SimConfig::mc_tau(10.0));
    let pid = proto.controller.expect("controller");
    assert_eq!(
        (pid.u_min, pid.u_max, pid.anti_windup),
        (Some(0.0), Some(1.0), v1::AntiWindup::Conditional as i32)
    );
    assert_eq!(proto.settling_band, Some(0.02));
    assert_eq!(proto.record, None);
}
