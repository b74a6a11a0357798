//! What the capacity measurement reads off the running processes without going through them:
//! CPU time from `/proc` (robust on a shared machine, where wall time is not), CPU pinning with
//! `taskset`, a process's environment, and Redis's own accounting (`INFO cpu` main-thread
//! time, `INFO memory`, `INFO commandstats`, `MEMORY USAGE`) on a connection of its own.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use redis::aio::MultiplexedConnection;

/// CPU seconds (user + system, all threads) process `pid` has used so far.
pub(crate) fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: fields are counted after
    // the last `)`. Field 3 (state) is then index 0, so utime (14) and stime (15) are 11, 12.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / clock_ticks())
}

/// `sysconf(_SC_CLK_TCK)`, the unit of `/proc/*/stat` times (100 on every Linux here).
fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// Pins every thread of `pid` (and threads it starts later, which inherit the mask) to `cpu`.
pub(crate) fn pin(pid: u32, cpu: usize) -> Result<(), String> {
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", &cpu.to_string(), &pid.to_string()])
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("taskset: {e} (util-linux is needed)"))?;
    if status.success() { Ok(()) } else { Err(format!("taskset -a -p -c {cpu} {pid}: {status}")) }
}

/// The value of environment variable `key` in process `pid`'s initial environment.
pub(crate) fn environ(pid: u32, key: &str) -> Option<String> {
    let bytes = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    bytes.split(|&b| b == 0).find_map(|entry| {
        let text = std::str::from_utf8(entry).ok()?;
        text.strip_prefix(key)?.strip_prefix('=').map(str::to_owned)
    })
}

/// Disk bytes used under `dir` (file sizes in 512-byte blocks, as `du`), 0 if it is missing.
pub(crate) fn disk_bytes(dir: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => disk_bytes(&e.path()),
            Ok(m) => m.blocks() * 512,
            Err(_) => 0,
        })
        .sum()
}

/// Command counts from `INFO commandstats` (`cmdstat_xadd:calls=…` -> `xadd`).
pub(crate) type Calls = BTreeMap<String, u64>;

/// `after - before`, without commands that did not run in between.
pub(crate) fn calls_between(before: &Calls, after: &Calls) -> Calls {
    after
        .iter()
        .map(|(cmd, n)| (cmd.clone(), n.saturating_sub(before.get(cmd).copied().unwrap_or(0))))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// Takes out the commands this probe sends itself (`INFO`, `MEMORY USAGE`).
pub(crate) fn without_probe(mut calls: Calls) -> Calls {
    calls.retain(|cmd, _| !matches!(cmd.as_str(), "info" | "memory|usage"));
    calls
}

/// A connection to Redis for reading its accounting.
#[derive(Clone)]
pub(crate) struct Redis {
    conn: MultiplexedConnection,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redis")
    }
}

impl Redis {
    pub(crate) async fn connect(url: &str) -> redis::RedisResult<Redis> {
        let client = redis::Client::open(url)?;
        Ok(Redis { conn: client.get_multiplexed_async_connection().await? })
    }

    /// Runs any command (the caller spells it).
    pub(crate) async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> redis::RedisResult<T> {
        let mut conn = self.conn.clone();
        cmd.query_async(&mut conn).await
    }

    /// Durability as deploy/base/redis.conf sets it (`appendonly yes`, `appendfsync everysec`):
    /// every write is also appended to the AOF by the main thread, which is part of a chunk's
    /// cost. Returns once the initial AOF rewrite is done.
    pub(crate) async fn persist_like_deployed(&self) -> redis::RedisResult<()> {
        let _: () = self.query(redis::cmd("CONFIG").arg("SET").arg("appendfsync").arg("everysec")).await?;
        let _: () = self.query(redis::cmd("CONFIG").arg("SET").arg("appendonly").arg("yes")).await?;
        loop {
            let info = self.info("persistence").await?;
            let field = |k: &str| info.get(k).map(String::as_str);
            if field("aof_enabled") == Some("1") && field("aof_rewrite_in_progress") == Some("0") {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// One `INFO` section as `field -> value`.
    pub(crate) async fn info(&self, section: &str) -> redis::RedisResult<BTreeMap<String, String>> {
        let text: String = self.query(redis::cmd("INFO").arg(section)).await?;
        Ok(text
            .lines()
            .filter_map(|line| line.split_once(':'))
            .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
            .collect())
    }

    /// CPU seconds of Redis's main thread, the one that executes every command: the figure
    /// that saturates first on a single-threaded server.
    pub(crate) async fn main_thread_cpu(&self) -> redis::RedisResult<f64> {
        let info = self.info("cpu").await?;
        let get = |k: &str| info.get(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        Ok(get("used_cpu_user_main_thread") + get("used_cpu_sys_main_thread"))
    }

    /// `used_memory`: bytes the allocator holds for data and overheads.
    pub(crate) async fn used_memory(&self) -> redis::RedisResult<u64> {
        let info = self.info("memory").await?;
        Ok(info.get("used_memory").and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    pub(crate) async fn pid(&self) -> redis::RedisResult<u32> {
        let info = self.info("server").await?;
        Ok(info.get("process_id").and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    pub(crate) async fn calls(&self) -> redis::RedisResult<Calls> {
        let info = self.info("commandstats").await?;
        Ok(info
            .iter()
            .filter_map(|(key, value)| {
                let cmd = key.strip_prefix("cmdstat_")?;
                let calls = value.split(',').find_map(|kv| kv.strip_prefix("calls="))?.parse().ok()?;
                Some((cmd.to_owned(), calls))
            })
            .collect())
    }

    /// `(aof_current_size, aof_rewrites)`: bytes in the append-only file and how many rewrites
    /// (which shrink it) there have been.
    pub(crate) async fn aof(&self) -> redis::RedisResult<(u64, u64)> {
        let info = self.info("persistence").await?;
        let get = |k: &str| info.get(k).and_then(|v| v.parse().ok()).unwrap_or(0);
        Ok((get("aof_current_size"), get("aof_rewrites")))
    }

    /// `MEMORY USAGE key SAMPLES 0` (every element counted): 0 for a missing key.
    pub(crate) async fn memory_usage(&self, key: &str) -> redis::RedisResult<u64> {
        let bytes: Option<u64> =
            self.query(redis::cmd("MEMORY").arg("USAGE").arg(key).arg("SAMPLES").arg(0)).await?;
        Ok(bytes.unwrap_or(0))
    }
}

/// Counters read before and after a piece of work.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) redis_cpu: f64,
    pub(crate) used_memory: u64,
    pub(crate) calls: Calls,
    /// `(aof_current_size, aof_rewrites)`.
    pub(crate) aof: (u64, u64),
    /// CPU seconds per named process.
    pub(crate) cpu: BTreeMap<String, f64>,
}

impl Snapshot {
    pub(crate) async fn take(redis: &Redis, pids: &[(String, u32)]) -> redis::RedisResult<Snapshot> {
        Ok(Snapshot {
            redis_cpu: redis.main_thread_cpu().await?,
            used_memory: redis.used_memory().await?,
            calls: redis.calls().await?,
            aof: redis.aof().await?,
            cpu: pids.iter().filter_map(|(name, pid)| Some((name.clone(), cpu_seconds(*pid)?))).collect(),
        })
    }

    /// Bytes appended to the AOF between `self` and `later`; NaN when a rewrite happened in
    /// between (the file was replaced, so the difference means nothing).
    pub(crate) fn aof_appended(&self, later: &Snapshot) -> f64 {
        if later.aof.1 == self.aof.1 { later.aof.0 as f64 - self.aof.0 as f64 } else { f64::NAN }
    }

    /// CPU seconds process `name` used between `self` (earlier) and `later`.
    pub(crate) fn cpu_of(&self, later: &Snapshot, name: &str) -> f64 {
        match (self.cpu.get(name), later.cpu.get(name)) {
            (Some(a), Some(b)) => b - a,
            _ => f64::NAN,
        }
    }
}
