//! How a job's runs are cut into chunks (one stream entry, one worker task, one report each):
//! the one definition the dispatcher enqueues by and the results service checks reports
//! against.

use std::ops::Range;

/// A job's runs cut into chunks of `chunk_size` runs: chunk `c` holds runs
/// `[c * chunk_size, min((c + 1) * chunk_size, runs))`. Every chunk but the last is full, and
/// the chunks cover each run once, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLayout {
    runs: u64,
    chunk_size: u64,
    chunks: u32,
}

impl ChunkLayout {
    /// The layout of `runs` runs in chunks of `chunk_size`; `None` when `chunk_size` is 0 or
    /// the chunks would be more than `u32::MAX` (a chunk index is a `u32`).
    pub fn new(runs: u64, chunk_size: u64) -> Option<ChunkLayout> {
        if chunk_size == 0 {
            return None;
        }
        let chunks = u32::try_from(runs.div_ceil(chunk_size)).ok()?;
        Some(ChunkLayout { runs, chunk_size, chunks })
    }

    /// How many chunks there are (0 for a job of 0 runs).
    pub fn chunks(&self) -> u32 {
        self.chunks
    }

    /// How many chunks from the first hold runs `0..runs` (all of them for `runs` at or past
    /// the job's runs).
    pub fn chunks_covering(&self, runs: u64) -> u32 {
        if runs >= self.runs {
            return self.chunks;
        }
        // runs < self.runs, so this is below `chunks`, a u32.
        u32::try_from(runs.div_ceil(self.chunk_size)).unwrap_or(self.chunks)
    }

    /// The runs in the first `chunks` chunks (all of them from the last chunk on).
    pub fn runs_before(&self, chunks: u32) -> u64 {
        if chunks >= self.chunks {
            return self.runs;
        }
        // chunks < self.chunks: at most the runs before the last chunk.
        u64::from(chunks) * self.chunk_size
    }

    /// The runs of chunk `chunk`; `None` past the last chunk.
    pub fn runs_of(&self, chunk: u32) -> Option<Range<u64>> {
        if chunk >= self.chunks {
            return None;
        }
        // chunk < chunks, so start < runs: neither this product nor the sum below overflows.
        let start = u64::from(chunk) * self.chunk_size;
        Some(start..start + self.chunk_size.min(self.runs - start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_runs(layout: &ChunkLayout) -> Vec<Range<u64>> {
        (0..layout.chunks()).map(|c| layout.runs_of(c).expect("in range")).collect()
    }

    #[test]
    fn exact_division_gives_full_chunks() {
        let layout = ChunkLayout::new(12, 4).expect("layout");
        assert_eq!(layout.chunks(), 3);
        assert_eq!(all_runs(&layout), [0..4, 4..8, 8..12]);
    }

    #[test]
    fn the_last_chunk_holds_the_remainder() {
        let layout = ChunkLayout::new(10, 4).expect("layout");
        assert_eq!(layout.chunks(), 3);
        assert_eq!(all_runs(&layout), [0..4, 4..8, 8..10]);
        let one = ChunkLayout::new(3, 10_000).expect("layout");
        assert_eq!((one.chunks(), one.runs_of(0)), (1, Some(0..3)));
    }

    #[test]
    fn no_runs_means_no_chunks() {
        let layout = ChunkLayout::new(0, 4).expect("layout");
        assert_eq!((layout.chunks(), layout.runs_of(0)), (0, None));
    }

    #[test]
    fn a_zero_chunk_size_or_too_many_chunks_is_no_layout() {
        assert_eq!(ChunkLayout::new(10, 0), None);
        assert_eq!(ChunkLayout::new(u64::from(u32::MAX) + 1, 1), None);
        assert_eq!(ChunkLayout::new(u64::MAX, 1), None);
        let most = ChunkLayout::new(u64::from(u32::MAX), 1).expect("u32::MAX chunks fit");
        assert_eq!(most.chunks(), u32::MAX);
        assert_eq!(most.runs_of(u32::MAX - 1), Some(u64::from(u32::MAX) - 1..u64::from(u32::MAX)));
    }

    #[test]
    fn chunks_past_the_last_have_no_runs() {
        let layout = ChunkLayout::new(10, 4).expect("layout");
        assert_eq!(layout.runs_of(3), None);
        assert_eq!(layout.runs_of(u32::MAX), None);
    }

    #[test]
    fn huge_chunks_do_not_overflow() {
        let layout = ChunkLayout::new(u64::MAX, u64::MAX / 2 + 1).expect("layout");
        assert_eq!(all_runs(&layout), [0..u64::MAX / 2 + 1, u64::MAX / 2 + 1..u64::MAX]);
        let whole = ChunkLayout::new(u64::MAX, u64::MAX).expect("layout");
        assert_eq!((whole.chunks(), whole.runs_of(0)), (1, Some(0..u64::MAX)));
    }
}
