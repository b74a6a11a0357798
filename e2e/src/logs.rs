//! Reading a service's log file as a log agent would: one JSON object per line. The harness's
//! own lines (`=== e2e: ...`, written around starts, signals and restarts) are not the
//! service's and are skipped.

use std::path::Path;

use serde_json::Value;

/// The prefix of the lines the harness writes into a log file.
pub const HARNESS_PREFIX: &str = "=== e2e:";

/// One line of a service's log: its number (1-based, in the file), the text, and the JSON
/// object if it parses as one.
#[derive(Debug, Clone)]
pub struct Line {
    pub number: usize,
    pub text: String,
    pub json: Result<serde_json::Map<String, Value>, String>,
}

/// Every service line of the log at `path`.
pub fn read(path: &Path) -> std::io::Result<Vec<Line>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with(HARNESS_PREFIX))
        .map(|(i, l)| Line { number: i + 1, text: l.to_owned(), json: object(l) })
        .collect())
}

fn object(line: &str) -> Result<serde_json::Map<String, Value>, String> {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(format!("not a JSON object: {other}")),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}
