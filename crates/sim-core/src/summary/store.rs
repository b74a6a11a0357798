//! Dense, bounded bucket counts for one sign of the quantile sketch.
//!
//! Counts live in a `Vec<u64>` covering consecutive bucket indices (an increment is an index
//! and an add, no tree walk). The span is capped at [`MAX_BUCKETS`]: when a new index would
//! exceed it, the lowest indices are folded into the lowest kept one. The stored state is
//! always "all counts, with every index below `highest - MAX_BUCKETS + 1` moved up to it", a
//! function of the multiset of indices only, so adds and merges in any order end in the same
//! state.

use super::sketch::MAX_BUCKETS;

/// Bucket counts over a contiguous index range.
///
/// Invariant: `counts` is empty, or its first and last entries are non-zero and its length is
/// at most `MAX_BUCKETS`. That makes the representation canonical, so derived equality means
/// equal contents.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct BucketStore {
    /// Bucket index of `counts[0]`.
    offset: i32,
    counts: Vec<u64>,
    total: u64,
}

impl BucketStore {
    /// Sum of all counts.
    pub(super) fn total(&self) -> u64 {
        self.total
    }

    /// Number of buckets held (zeros between non-zero buckets included): the memory in use.
    pub(super) fn span(&self) -> usize {
        self.counts.len()
    }

    /// Adds `n` to bucket `index` (or to the lowest kept bucket if `index` falls below it).
    pub(super) fn add(&mut self, index: i32, n: u64) {
        if n == 0 {
            return;
        }
        if let Some(slot) = self.slot(index) {
            // The common case once a store has seen the range of its metric.
            self.counts[slot] += n;
        } else {
            let (lo, hi) = self.range_with(index, index);
            self.reshape(lo, hi);
            self.counts[(index.max(lo) - lo) as usize] += n;
        }
        self.total += n;
    }

    /// Adds every count of `other`.
    pub(super) fn merge(&mut self, other: &BucketStore) {
        let Some(other_hi) = other.highest() else {
            return;
        };
        // Reshape once for the union, then add in place.
        let (lo, hi) = self.range_with(other.offset, other_hi);
        self.reshape(lo, hi);
        for (index, n) in other.buckets() {
            self.counts[(index.max(lo) - lo) as usize] += n;
        }
        self.total += other.total;
    }

    /// Non-zero buckets as `(index, count)`, lowest index first.
    pub(super) fn buckets(&self) -> impl DoubleEndedIterator<Item = (i32, u64)> + '_ {
        self.counts.iter().enumerate().filter(|&(_, &n)| n != 0).map(|(k, &n)| (self.offset + k as i32, n))
    }

    fn highest(&self) -> Option<i32> {
        (!self.counts.is_empty()).then(|| self.offset + self.counts.len() as i32 - 1)
    }

    fn slot(&self, index: i32) -> Option<usize> {
        let k = usize::try_from(i64::from(index) - i64::from(self.offset)).ok()?;
        (k < self.counts.len()).then_some(k)
    }

    /// The index range after adding indices `lo..=hi`, cut to the top `MAX_BUCKETS`.
    fn range_with(&self, lo: i32, hi: i32) -> (i32, i32) {
        let (lo, hi) = match self.highest() {
            Some(top) => (lo.min(self.offset), hi.max(top)),
            None => (lo, hi),
        };
        let lowest_kept = hi - (MAX_BUCKETS as i32 - 1);
        (lo.max(lowest_kept), hi)
    }

    /// Makes `counts` cover `lo..=hi` exactly, folding any current bucket below `lo` into `lo`.
    /// `hi` is never below the current highest index.
    fn reshape(&mut self, lo: i32, hi: i32) {
        if self.counts.is_empty() {
            self.offset = lo;
        } else if lo < self.offset {
            let grow = (self.offset - lo) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.offset = lo;
        } else if lo > self.offset {
            let fold = ((lo - self.offset) as usize).min(self.counts.len());
            let folded: u64 = self.counts.drain(..fold).sum();
            self.offset = lo;
            // If every bucket was folded, `lo` lies above the old range and gets a new slot.
            if self.counts.is_empty() {
                self.counts.push(0);
            }
            self.counts[0] += folded;
        }
        self.counts.resize((hi - lo + 1) as usize, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CAP: i32 = MAX_BUCKETS as i32;

    fn of(indices: &[i32]) -> BucketStore {
        let mut s = BucketStore::default();
        indices.iter().for_each(|&i| s.add(i, 1));
        s
    }

    /// The state the store must reach: counts with everything below `max - CAP + 1` moved up.
    fn expected(indices: &[i32]) -> Vec<(i32, u64)> {
        let Some(&hi) = indices.iter().max() else {
            return vec![];
        };
        let mut m = std::collections::BTreeMap::new();
        for &i in indices {
            *m.entry(i.max(hi - CAP + 1)).or_insert(0) += 1;
        }
        m.into_iter().collect()
    }

    #[test]
    fn counts_within_range_and_grows_both_ways() {
        let s = of(&[5, 3, 5, 9, -2]);
        assert_eq!(s.buckets().collect::<Vec<_>>(), [(-2, 1), (3, 1), (5, 2), (9, 1)]);
        assert_eq!(s.total(), 5);
        assert_eq!(s.span(), 12);
    }

    #[test]
    fn folds_lowest_buckets_past_the_cap() {
        let s = of(&[0, 1, CAP, CAP + 1]);
        assert_eq!(s.span(), MAX_BUCKETS);
        assert_eq!(s.buckets().collect::<Vec<_>>(), [(2, 2), (CAP, 1), (CAP + 1, 1)]);
        // A jump far above the range folds everything into one bucket.
        let s = of(&[0, 1, 10 * CAP]);
        assert_eq!(s.buckets().collect::<Vec<_>>(), [(9 * CAP + 1, 2), (10 * CAP, 1)]);
        // Below a full store, a value lands in the lowest kept bucket.
        let s = of(&[CAP * 3, 0, -1_000_000]);
        assert_eq!(s.buckets().collect::<Vec<_>>(), [(2 * CAP + 1, 2), (3 * CAP, 1)]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn state_depends_only_on_the_multiset(
            indices in prop::collection::vec(-3 * CAP..3 * CAP, 0..300),
            split in 0usize..300,
        ) {
            let want = expected(&indices);
            let sequential = of(&indices);
            prop_assert_eq!(sequential.buckets().collect::<Vec<_>>(), want.clone());
            prop_assert!(sequential.span() <= MAX_BUCKETS);

            let split = split.min(indices.len());
            let (a, b) = indices.split_at(split);
            let mut ab = of(a);
            ab.merge(&of(b));
            let mut ba = of(b);
            ba.merge(&of(a));
            prop_assert_eq!(&ab, &sequential);
            prop_assert_eq!(&ba, &sequential);
            prop_assert_eq!(ab.total(), indices.len() as u64);
        }
    }
}
