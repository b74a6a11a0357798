//! Cross-check of the C reference loops (`benches/reference/mc_tau.c --check`): reads taus on
//! stdin, one per line, and prints for each the MC-tau metrics of the one-run kernel as
//! `overshoot_pct rise_time settling_time final_level iae` (shortest round-trip form, `none`
//! for an absent value), so a comparison after parsing is bit for bit.
//!
//! ```text
//! printf '10\n3.7\n' | cargo run --release -p tanksim-sim-core --example mc_tau_check
//! ```

use std::io::{BufRead, BufWriter, Write};

use tanksim_sim_core::SimConfig;
use tanksim_sim_core::simulate::simulate;

fn field(x: Option<f64>) -> String {
    x.map_or_else(|| "none".to_owned(), |v| format!("{v:e}"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let tau: f64 = line.parse().map_err(|e| format!("bad tau {line:?}: {e}"))?;
        let m = simulate(&SimConfig::mc_tau(tau)).metrics;
        writeln!(
            out,
            "{} {} {} {} {}",
            field(m.overshoot_pct),
            field(m.rise_time),
            field(m.settling_time),
            field(Some(m.final_level)),
            field(Some(m.iae)),
        )?;
    }
    out.flush()?;
    Ok(())
}
