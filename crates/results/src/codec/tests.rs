//! Stored and reported bytes, fuzzed. `decode_summary` answers any bytes (random ones, or a
//! real summary's encoding damaged) without panicking, and refuses with the corrupt error
//! (DATA_LOSS); `summary_from_report` answers any reported proto (NaN, infinities, huge
//! counts, wrong numbers of metrics, missing sketches, sketch levels that do not add up) without panicking, and
//! every summary it accepts is stored and read back to the same bytes. (A stored spec's
//! decoding is fuzzed with the conversions, in `crates/proto/tests/convert/fuzz.rs`.)

use proptest::prelude::*;
use proptest::sample::Index;
use tanksim_sim_core::RunMetrics;
use tonic::{Code, Status};

use super::*;

const WHAT: &str = "summary of job j chunk 0";

/// `e` is the corrupt error naming `WHAT`, and a DATA_LOSS status.
fn check_corrupt(e: Error) -> Result<(), TestCaseError> {
    prop_assert!(matches!(&e, Error::Corrupt { what, .. } if what.as_str() == WHAT), "{:?}", e);
    let status = Status::from(e);
    prop_assert_eq!(status.code(), Code::DataLoss);
    prop_assert!(status.message().starts_with(&format!("corrupt {WHAT}: ")), "{}", status.message());
    Ok(())
}

/// A summary stored and read back is the same summary, stored as the same bytes.
fn stores_exactly(summary: &RunSummary) -> Result<(), TestCaseError> {
    let bytes = encode_summary(summary);
    let back = decode_summary(&bytes, WHAT)
        .map_err(|e| TestCaseError::fail(format!("a stored summary is refused: {e}")))?;
    prop_assert_eq!(encode_summary(&back), bytes);
    prop_assert_eq!(&back, summary);
    Ok(())
}

/// `bytes` as stored: a summary that stores back exactly, or the corrupt error.
fn decode_checked(bytes: &[u8]) -> Result<(), TestCaseError> {
    match decode_summary(bytes, WHAT) {
        Ok(summary) => stores_exactly(&summary),
        Err(e) => check_corrupt(e),
    }
}

/// `bytes` with each edit applied (overwrite a byte, flip one bit, insert a byte, remove
/// one), then maybe cut short.
fn damage(mut bytes: Vec<u8>, edits: &[(u8, Index, u8)], cut: Option<Index>) -> Vec<u8> {
    for &(op, at, b) in edits {
        if bytes.is_empty() {
            bytes.push(b);
            continue;
        }
        let i = at.index(bytes.len());
        match op {
            0 => bytes[i] = b,
            1 => bytes[i] ^= 1 << (b % 8),
            2 => bytes.insert(i, b),
            _ => {
                bytes.remove(i);
            }
        }
    }
    if let Some(cut) = cut {
        bytes.truncate(cut.index(bytes.len() + 1));
    }
    bytes
}

fn any_edits() -> impl Strategy<Value = Vec<(u8, Index, u8)>> {
    prop::collection::vec((0u8..4, any::<Index>(), any::<u8>()), 1..5)
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => -1e3..1e3f64,
        1 => prop::sample::select(vec![
            0.0, -0.0, 1.0, f64::NAN, -f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MAX, -f64::MAX,
            f64::MIN_POSITIVE, 5e-324, 1e300,
        ]),
        1 => any::<f64>(),
    ]
}

fn count() -> impl Strategy<Value = u64> {
    prop_oneof![3 => 0u64..5, 1 => u64::MAX - 3..=u64::MAX, 1 => any::<u64>()]
}

/// Sketch level sizes: small, and any.
fn level_size() -> impl Strategy<Value = u32> {
    prop_oneof![3 => 0u32..5, 1 => any::<u32>()]
}

fn parts() -> impl Strategy<Value = internal::MetricSummaryParts> {
    let sketch =
        (
            prop::collection::vec(float(), 0..8),
            prop::collection::vec(level_size(), 0..4),
            float(),
            count(),
            0u32..6,
        )
            .prop_map(|(values, level_sizes, error_variance, coins, scale)| {
                internal::RankSketchParts { values, level_sizes, error_variance, coins, scale }
            });
    ((count(), count(), count()), (float(), float(), float(), float()), prop::option::of(sketch)).prop_map(
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

/// A metric's value in one run: mostly ordinary, some far out (squares still finite),
/// tiny, zero of either sign, and non-finite (counted apart).
fn metric_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1e3..1e3f64,
        1 => -1e150..1e150f64,
        1 => prop::sample::select(vec![
            0.0, -0.0, 5e-324, f64::MIN_POSITIVE, 1e-300, f64::NAN, f64::INFINITY, f64::NEG_INFINITY,
        ]),
    ]
}

fn run() -> impl Strategy<Value = RunMetrics> {
    let optional = prop::array::uniform3(prop::option::of(metric_value()));
    (optional, prop::array::uniform10(metric_value())).prop_map(
        |(
            [overshoot_pct, rise_time, settling_time],
            [
                peak,
                peak_time,
                steady_state_error,
                iae,
                ise,
                itae,
                control_effort,
                saturated_fraction,
                final_level,
                overflow,
            ],
        )| RunMetrics {
            overshoot_pct,
            rise_time,
            settling_time,
            peak,
            peak_time,
            steady_state_error,
            iae,
            ise,
            itae,
            control_effort,
            saturated_fraction,
            final_level,
            overflow,
        },
    )
}

/// A real chunk's summary, of 0 to 23 runs.
fn chunk_summary() -> impl Strategy<Value = RunSummary> {
    prop::collection::vec(run(), 0..24).prop_map(|runs| {
        let mut s = RunSummary::new();
        runs.iter().for_each(|r| s.add(r));
        s
    })
}

/// One change to a real summary's proto; kind 0 changes nothing.
#[derive(Debug, Clone)]
struct Change {
    kind: u8,
    at: Index,
    n: u64,
    x: f64,
    index: u32,
}

fn one_change() -> impl Strategy<Value = Change> {
    let kind = prop_oneof![1 => Just(0u8), 3 => 1u8..15];
    (kind, any::<Index>(), count(), float(), level_size()).prop_map(|(kind, at, n, x, index)| Change {
        kind,
        at,
        n,
        x,
        index,
    })
}

fn apply(proto: &mut internal::RunSummary, c: &Change) {
    let len = proto.metrics.len();
    if len == 0 {
        return;
    }
    let i = c.at.index(len);
    match c.kind {
        0 => {}
        1 => proto.metrics[i].count = c.n,
        2 => proto.metrics[i].absent = c.n,
        3 => proto.metrics[i].non_finite = c.n,
        4 => proto.metrics[i].mean = c.x,
        5 => proto.metrics[i].m2 = c.x,
        6 => proto.metrics[i].min = c.x,
        7 => proto.metrics[i].max = c.x,
        8 => proto.metrics[i].ranks = None,
        9 => proto.metrics[i].ranks.get_or_insert_with(Default::default).values.push(c.x),
        10 => proto.metrics[i].ranks.get_or_insert_with(Default::default).level_sizes.push(c.index),
        11 => proto.metrics[i].ranks.get_or_insert_with(Default::default).values.insert(0, c.x),
        12 => proto.metrics.truncate(i),
        13 => {
            let copy = proto.metrics[i].clone();
            proto.metrics.push(copy);
        }
        _ => proto.metrics.swap(i, (i + 1) % len),
    }
}

/// A report as `ReportChunk` checks it: accepted summaries store exactly, refusals say why.
fn report_checked(proto: &internal::RunSummary) -> Result<Option<RunSummary>, TestCaseError> {
    match summary_from_report(proto) {
        Ok(summary) => {
            stores_exactly(&summary)?;
            Ok(Some(summary))
        }
        Err(reason) => {
            prop_assert!(!reason.is_empty());
            Ok(None)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any stored bytes are a summary that stores back exactly, or corrupt (DATA_LOSS).
    #[test]
    fn stored_bytes_are_a_summary_or_corrupt(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        decode_checked(&bytes)?;
    }

    /// A real summary's stored bytes, damaged, are a summary that stores back exactly, or
    /// corrupt (DATA_LOSS).
    #[test]
    fn damaged_stored_summaries_are_a_summary_or_corrupt(
        summary in chunk_summary(),
        edits in any_edits(),
        cut in prop::option::of(any::<Index>()),
    ) {
        decode_checked(&damage(encode_summary(&summary), &edits, cut))?;
    }

    /// Any reported proto (any number of metrics, any counts and floats, any buckets) is
    /// accepted and stores exactly, or refused with a reason.
    #[test]
    fn arbitrary_reports_are_accepted_exactly_or_refused(
        metrics in prop::collection::vec(parts(), 0..=16),
        same in any::<bool>(),
    ) {
        let mut metrics = metrics;
        if same && !metrics.is_empty() {
            // The shape of a real summary more often: every metric a copy of the first.
            let first = metrics[0].clone();
            metrics.iter_mut().for_each(|m| *m = first.clone());
        }
        report_checked(&internal::RunSummary { metrics })?;
    }

    /// A real chunk's report, maybe changed in one field: accepted and stored exactly, or
    /// refused with a reason. Unchanged, it is accepted as the very summary sent.
    #[test]
    fn real_reports_changed_or_not_are_accepted_exactly_or_refused(
        summary in chunk_summary(),
        change in one_change(),
    ) {
        let mut proto = internal::RunSummary::from(&summary);
        apply(&mut proto, &change);
        let accepted = report_checked(&proto)?;
        if change.kind == 0 {
            let accepted = accepted.ok_or_else(|| TestCaseError::fail("a real summary is refused"))?;
            prop_assert_eq!(&accepted, &summary);
            // Stored as the very bytes the worker sent.
            prop_assert_eq!(encode_summary(&accepted), proto.encode_to_vec());
        }
    }

}
