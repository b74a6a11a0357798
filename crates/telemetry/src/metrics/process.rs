//! Process metrics in the Prometheus client convention (`process_*`), read from `/proc` at
//! scrape time and appended to the exposition by hand (the `metrics` facade has no float
//! counters). On systems without `/proc` nothing is appended.

use std::fmt::Write;

use super::names;

/// Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ: 100 on every Linux ABI that
/// tanksim targets).
const TICKS_PER_SECOND: f64 = 100.0;

/// Appends the process metrics, labelled with `service`, to `out`.
pub(crate) fn render(out: &mut String, service: &str) {
    let Some(stat) = Stat::read() else { return };
    let mut metric = |name: &str, kind: &str, value: f64| {
        if let Some(m) = names::CATALOG.iter().find(|m| m.name == name) {
            let _ = writeln!(out, "# HELP {name} {}", m.help);
        }
        let _ = writeln!(out, "# TYPE {name} {kind}");
        let _ = writeln!(out, "{name}{{{}=\"{service}\"}} {value}", names::LABEL_SERVICE);
    };
    metric(names::PROCESS_CPU_SECONDS_TOTAL, "counter", stat.cpu_ticks as f64 / TICKS_PER_SECOND);
    metric(names::PROCESS_VIRTUAL_MEMORY_BYTES, "gauge", stat.vsize as f64);
    metric(names::PROCESS_THREADS, "gauge", stat.threads as f64);
    if let Some(rss) = resident_bytes() {
        metric(names::PROCESS_RESIDENT_MEMORY_BYTES, "gauge", rss as f64);
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        metric(names::PROCESS_OPEN_FDS, "gauge", fds.count() as f64);
    }
    if let Some(max) = max_fds() {
        metric(names::PROCESS_MAX_FDS, "gauge", max as f64);
    }
    if let Some(boot) = boot_time() {
        metric(
            names::PROCESS_START_TIME_SECONDS,
            "gauge",
            boot as f64 + stat.start_ticks as f64 / TICKS_PER_SECOND,
        );
    }
}

struct Stat {
    cpu_ticks: u64,
    threads: u64,
    start_ticks: u64,
    vsize: u64,
}

impl Stat {
    fn read() -> Option<Stat> {
        let text = std::fs::read_to_string("/proc/self/stat").ok()?;
        // The command name may contain spaces and parentheses: fields start after the last ')'.
        let rest = &text[text.rfind(')')? + 1..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        // After the name, field 3 (state) is f[0]; utime is field 14, so f[11].
        let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
        Some(Stat {
            cpu_ticks: num(11)? + num(12)?,
            threads: num(17)?,
            start_ticks: num(19)?,
            vsize: num(20)?,
        })
    }
}

fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn max_fds() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..].split_whitespace().next()?.parse().ok()
}

fn boot_time() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines().find_map(|l| l.strip_prefix("btime "))?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn process_metrics_are_read_on_linux() {
        let mut out = String::new();
        super::render(&mut out, "t");
        if cfg!(target_os = "linux") {
            for name in [
                "process_cpu_seconds_total",
                "process_resident_memory_bytes",
                "process_open_fds",
                "process_start_time_seconds",
                "process_threads",
            ] {
                let line = out
                    .lines()
                    .find(|l| l.starts_with(&format!("{name}{{service=\"t\"}} ")))
                    .unwrap_or_else(|| panic!("{name} missing:\n{out}"));
                let value: f64 = line.rsplit(' ').next().and_then(|v| v.parse().ok()).expect("a number");
                assert!(value > 0.0 || name == "process_cpu_seconds_total" && value == 0.0, "{line}");
            }
        }
    }
}
