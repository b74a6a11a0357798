//! Summaries: the internal form round-trips bit for bit and refuses corrupt input without
//! panicking; the public view; rows.

use proptest::prelude::*;
use prost::Message;
use tanksim_proto::convert::{SummaryError, metric_summaries, metric_to_i32};
use tanksim_proto::internal::v1 as internal;
use tanksim_sim_core::summary::{PartsError, RunSummary};
use tanksim_sim_core::{Metric, RunMetrics};

fn run(i: u32) -> RunMetrics {
    let x = f64::from(i);
    RunMetrics {
        overshoot_pct: (!i.is_multiple_of(3)).then_some(x * 0.37),
        rise_time: (!i.is_multiple_of(5)).then_some(1.0 / (1.0 + x)),
        settling_time: Some(if i == 4 { f64::NAN } else { 2.0 * x }),
        peak: -x * 1e-300,
        peak_time: x * 1e300,
        steady_state_error: if i.is_multiple_of(2) { -0.0 } else { x - 50.0 },
        iae: x * x,
        ise: if i == 7 { f64::INFINITY } else { x.sqrt() },
        itae: -x,
        control_effort: x.ln(),
        saturated_fraction: x / 100.0,
        final_level: 1.0,
        overflow: 0.0,
    }
}

fn summary(runs: u32) -> RunSummary {
    let mut s = RunSummary::new();
    (0..runs).for_each(|i| s.add(&run(i)));
    s
}

/// Every float of every metric's parts, as bits.
fn bits(s: &RunSummary) -> Vec<[u64; 4]> {
    s.metrics()
        .iter()
        .map(|m| {
            let p = m.to_parts();
            [p.mean.to_bits(), p.m2.to_bits(), p.min.to_bits(), p.max.to_bits()]
        })
        .collect()
}

#[test]
fn internal_summaries_round_trip_bit_for_bit() {
    for runs in [0, 1, 2, 100] {
        let s = summary(runs);
        let bytes = internal::RunSummary::from(&s).encode_to_vec();
        let proto = internal::RunSummary::decode(bytes.as_slice()).expect("decodes");
        assert_eq!(proto.metrics.len(), 13);
        let back = RunSummary::try_from(&proto).expect("valid");
        assert_eq!(back, s);
        assert_eq!(bits(&back), bits(&s));
    }
}

#[test]
fn corrupt_summaries_are_errors() {
    let mut proto = internal::RunSummary::from(&summary(20));
    proto.metrics.pop();
    assert_eq!(RunSummary::try_from(&proto), Err(SummaryError::MetricCount { got: 12 }));
    let mut proto = internal::RunSummary::from(&summary(20));
    proto.metrics[6].count += 1;
    let err = RunSummary::try_from(&proto).unwrap_err();
    assert!(matches!(err, SummaryError::Metric { metric: Metric::Iae, .. }), "{err:?}");
    assert!(err.to_string().starts_with("summary of iae: "), "{err}");
    let mut proto = internal::RunSummary::from(&summary(20));
    proto.metrics[3].absent += 1;
    assert_eq!(
        RunSummary::try_from(&proto),
        Err(SummaryError::Runs(PartsError::RunsMismatch { first: 20, other: 21 }))
    );
}

#[test]
fn public_view_in_metric_order_with_nan_for_undetermined_statistics() {
    let empty = metric_summaries(&RunSummary::new(), 20);
    assert_eq!(empty.len(), 13);
    for (m, s) in Metric::ALL.into_iter().zip(&empty) {
        assert_eq!(s.metric, metric_to_i32(m));
        assert_eq!((s.count, s.absent, s.non_finite), (0, 0, 0));
        for x in [s.mean, s.std, s.min, s.max, s.p5, s.p50, s.p95] {
            assert!(x.is_nan(), "{m:?}");
        }
        assert!(s.histogram.is_empty());
    }
    let one = metric_summaries(&summary(2), 4);
    let iae = &one[Metric::Iae.index()];
    assert_eq!((iae.count, iae.mean, iae.min, iae.max), (2, 0.5, 0.0, 1.0));
    let view = metric_summaries(&summary(100), 10);
    let overshoot = &view[Metric::OvershootPct.index()];
    assert_eq!((overshoot.count, overshoot.absent), (66, 34));
    assert_eq!(view[Metric::SettlingTime.index()].non_finite, 1);
    let itae = &view[Metric::Itae.index()];
    assert_eq!((itae.min, itae.max), (-99.0, 0.0));
    // Ranks floor(q * 99) of -99..=0: -95, -50, -5, exactly (100 values).
    assert_eq!((itae.p5, itae.p50, itae.p95, itae.quantile_rank_error), (-95.0, -50.0, -5.0, 0.0));
    assert_eq!(itae.histogram.len(), 10);
    assert_eq!(itae.histogram.iter().map(|b| b.count).sum::<u64>(), 100);
    assert!(view[Metric::FinalLevel.index()].std == 0.0);
}

fn parts() -> impl Strategy<Value = internal::MetricSummaryParts> {
    let small = || prop_oneof![0u64..5, Just(u64::MAX), any::<u64>()];
    let float = || prop_oneof![-10.0..10.0f64, Just(f64::NAN), Just(f64::INFINITY), any::<f64>()];
    let sketch =
        (
            prop::collection::vec(float(), 0..6),
            prop::collection::vec(prop_oneof![0u32..4, any::<u32>()], 0..4),
            float(),
            any::<u64>(),
            prop_oneof![0u32..6, any::<u32>()],
        )
            .prop_map(|(values, level_sizes, error_variance, coins, scale)| {
                internal::RankSketchParts { values, level_sizes, error_variance, coins, scale }
            });
    ((small(), small(), small()), (float(), float(), float(), float()), prop::option::of(sketch)).prop_map(
        |((count, absent, non_finite), (mean, m2, min, max), sketch)| internal::MetricSummaryParts {
            count,
            absent,
            non_finite,
            mean,
            m2,
            min,
            max,
            ranks: sketch,
            ..Default::default()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary (mostly corrupt) summaries convert or fail; whatever converts serves the
    /// public view too.
    #[test]
    fn arbitrary_summaries_never_panic(metrics in prop::collection::vec(parts(), 12..=14), same in any::<bool>()) {
        let mut metrics = metrics;
        if same {
            // Mostly valid shapes: every metric a copy of the first.
            let first = metrics[0].clone();
            metrics.iter_mut().for_each(|m| *m = first.clone());
        }
        if let Ok(s) = RunSummary::try_from(&internal::RunSummary { metrics }) {
            prop_assert_eq!(metric_summaries(&s, 8).len(), 13);
        }
    }
}
