//! Counter-based random numbers: the stream of run `i` of a job with seed `s` depends on
//! `(s, i, stream)` only, never on how the job was split.

/// The random stream of one (seed, run, stream) triple.
#[derive(Debug, Clone)]
pub struct RunRng {
    state: [u64; 4],
}

impl RunRng {
    pub fn new(seed: u64, run: u64, stream: u64) -> Self {
        let _ = (seed, run, stream);
        todo!()
    }
    pub fn next_u64(&mut self) -> u64 {
        todo!()
    }
    /// Uniform in the open interval (0, 1).
    pub fn next_f64(&mut self) -> f64 {
        todo!()
    }
}
