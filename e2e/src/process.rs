//! One service process: how to start it (program, environment, log file), signals, exit
//! status, and the tail of its log for a failure report.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use tokio::time::Instant;

/// Environment variables a service reads (its own and OpenTelemetry's): none is inherited
/// from the test's environment, so a developer's shell settings cannot change what a test runs.
const SERVICE_ENV_PREFIXES: [&str; 3] = ["TANKSIM_", "RUST_LOG", "OTEL_"];

/// How to start one service process (again, after it died or was stopped).
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    /// For messages: "results", "worker-1", ...
    pub name: String,
    pub program: PathBuf,
    pub env: Vec<(String, String)>,
    /// stdout and stderr of every start, appended.
    pub log: PathBuf,
}

impl ProcessSpec {
    /// Starts the process, its output appended to [`ProcessSpec::log`] after a header line.
    pub fn spawn(&self) -> std::io::Result<Child> {
        let mut log = OpenOptions::new().create(true).append(true).open(&self.log)?;
        writeln!(log, "=== e2e: starting {} ({})", self.name, self.program.display())?;
        let mut command = Command::new(&self.program);
        for (key, _) in std::env::vars_os() {
            if let Some(key) = key.to_str()
                && SERVICE_ENV_PREFIXES.iter().any(|p| key.starts_with(p))
            {
                command.env_remove(key);
            }
        }
        command
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        command.spawn()
    }

    /// Appends a line of the harness's own to the log (restarts, signals), so the log tells
    /// the whole story.
    pub fn note(&self, line: &str) {
        if let Ok(mut log) = OpenOptions::new().create(true).append(true).open(&self.log) {
            let _ = writeln!(log, "=== e2e: {line}");
        }
    }

    /// The last `lines` lines of the log, each cut to a readable length.
    pub fn tail(&self, lines: usize) -> String {
        tail(&self.log, lines)
    }
}

/// Sends SIGTERM (`kill -TERM`, no libc needed).
pub fn terminate(child: &Child) -> std::io::Result<()> {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("kill -TERM {} failed: {status}", child.id())))
    }
}

/// SIGKILL and reap.
pub fn kill(child: &mut Child) -> Option<ExitStatus> {
    let _ = child.kill();
    child.wait().ok()
}

/// Waits for `child` to exit, up to `limit`, without blocking the runtime. `None`: still
/// running at the deadline.
pub async fn wait_exit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The last `lines` lines of a file (reads at most its last 64 KiB).
pub fn tail(path: &Path, lines: usize) -> String {
    const WINDOW: u64 = 64 * 1024;
    const WIDTH: usize = 400;
    let Ok(mut file) = File::open(path) else { return format!("(no log at {})", path.display()) };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(WINDOW)));
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..]
        .iter()
        .map(|line| match line.char_indices().nth(WIDTH) {
            Some((cut, _)) => format!("{}…", &line[..cut]),
            None => (*line).to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
