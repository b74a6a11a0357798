//! KEDA's `redis-streams` scaler, command for command: what KEDA's operator (its scale loop)
//! and its metrics server (for the HPA) send to Redis for each trigger, and how they turn the
//! replies into a value. Follows kedacore/keda `pkg/scalers/redis_streams_scaler.go`
//! (`createEntriesCountFn`, `GetMetricsAndActivity`) and the go-redis reply parsing it relies
//! on:
//!
//! - `pendingEntriesCount` (a `consumerGroup`, no `lagCount`): `XPENDING stream group`, the
//!   summary's count. A missing stream or group is Redis' `NOGROUP` error, and the trigger
//!   errors (KEDA then neither activates on it nor scales to zero: see `model::Keda`).
//! - `lagCount` (with a `consumerGroup`): `INFO` (the scaler refuses a Redis older than 7,
//!   which has no `lag`), then `XINFO GROUPS stream`: `ERR no such key` (no stream yet) reads
//!   as 0; the group's `lag` if the group exists; otherwise (a stream whose group no worker
//!   has created yet) `XLEN`, "what the lag would have been". Any other `XINFO` error also
//!   falls through to `XLEN`, as the Go code does. A `lag` Redis reports as NULL (it cannot
//!   compute it, e.g. after `XDEL` of the group's last-delivered entry while an older one is
//!   still pending, which is what acknowledging out of order does here) reads as -1 since
//!   redis/go-redis#3369 (mid-2025) and as 0 before it; both decide the same (the model's
//!   tests), and either way the lag trigger sees nothing queued while Redis cannot tell.
//! - `streamLength` (no `consumerGroup`): `XLEN`.

use redis::aio::MultiplexedConnection;
use redis::{RedisError, Value};

use super::model::{Measure, Reading, Trigger};

/// What go-redis makes of a NULL `lag` (see the module comment).
pub(crate) const NULL_LAG: i64 = -1;

/// One trigger's value as KEDA reads it, and whether it came from a NULL `lag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Read {
    pub(crate) reading: Reading,
    pub(crate) null_lag: bool,
}

/// KEDA's Redis client for the triggers.
pub(crate) struct Scaler {
    conn: MultiplexedConnection,
}

impl std::fmt::Debug for Scaler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scaler")
    }
}

impl Scaler {
    pub(crate) async fn connect(url: &str) -> Scaler {
        let client = redis::Client::open(url).expect("a valid Redis URL");
        let conn = client.get_multiplexed_async_connection().await.expect("connecting to Redis");
        Scaler { conn }
    }

    /// Every trigger's value, in order (one `GetMetricsAndActivity` each).
    pub(crate) async fn read_all(&mut self, triggers: &[Trigger]) -> Vec<Read> {
        let mut reads = Vec::with_capacity(triggers.len());
        for trigger in triggers {
            reads.push(self.read(trigger).await);
        }
        reads
    }

    /// One trigger's value.
    pub(crate) async fn read(&mut self, trigger: &Trigger) -> Read {
        match trigger.measure {
            Measure::Pending => plain(self.pending(trigger).await),
            Measure::Length => plain(self.length(&trigger.stream).await),
            Measure::Lag => self.lag(trigger).await,
        }
    }

    async fn pending(&mut self, trigger: &Trigger) -> Reading {
        let summary: Value = redis::cmd("XPENDING")
            .arg(&trigger.stream)
            .arg(&trigger.group)
            .query_async(&mut self.conn)
            .await
            .map_err(|e| e.to_string())?;
        // `[count, smallest id, greatest id, [[consumer, count], ...]]`.
        match summary {
            Value::Array(items) => match items.first() {
                Some(Value::Int(count)) => Ok(*count),
                other => Err(format!("XPENDING: unexpected count {other:?}")),
            },
            other => Err(format!("XPENDING: unexpected reply {other:?}")),
        }
    }

    async fn length(&mut self, stream: &str) -> Reading {
        redis::cmd("XLEN").arg(stream).query_async(&mut self.conn).await.map_err(|e| e.to_string())
    }

    async fn lag(&mut self, trigger: &Trigger) -> Read {
        if let Err(e) = self.check_version().await {
            return plain(Err(e));
        }
        let groups: Result<Value, RedisError> =
            redis::cmd("XINFO").arg("GROUPS").arg(&trigger.stream).query_async(&mut self.conn).await;
        match groups {
            // `fmt.Sprint(err) == "ERR no such key"`: the stream does not exist yet.
            Err(e) if e.code() == Some("ERR") && e.detail() == Some("no such key") => return plain(Ok(0)),
            Err(_) => {}
            Ok(reply) => {
                if let Some(lag) = group_lag(&reply, &trigger.group) {
                    return match lag {
                        Some(lag) => plain(Ok(lag)),
                        None => Read { reading: Ok(NULL_LAG), null_lag: true },
                    };
                }
            }
        }
        plain(self.length(&trigger.stream).await)
    }

    /// The scaler's version check before `XINFO GROUPS`: `redis_version` from `INFO`, major
    /// version 7 or more, with the scaler's error messages.
    async fn check_version(&mut self) -> Result<(), String> {
        let info: String = redis::cmd("INFO")
            .query_async(&mut self.conn)
            .await
            .map_err(|_| "could not find Redis version".to_owned())?;
        for line in info.split('\n') {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() > 1 && fields[0] == "redis_version" {
                let major = fields[1].split('.').next().unwrap_or_default();
                let major: i64 =
                    major.parse().map_err(|_| "redis version could not be converted to number".to_owned())?;
                return if major < 7 { Err("redis version 7+ required for lag".to_owned()) } else { Ok(()) };
            }
        }
        Err("could not find Redis version number".to_owned())
    }
}

fn plain(reading: Reading) -> Read {
    Read { reading, null_lag: false }
}

/// The `lag` of `group` in an `XINFO GROUPS` reply: `None` if the group is not there,
/// `Some(None)` if Redis reported NULL.
fn group_lag(reply: &Value, group: &str) -> Option<Option<i64>> {
    let Value::Array(groups) = reply else { return None };
    groups.iter().find_map(|g| {
        let fields = fields(g);
        let name = fields.iter().find(|(k, _)| k == "name").and_then(|(_, v)| text(v))?;
        if name != group {
            return None;
        }
        let lag = fields.iter().find(|(k, _)| k == "lag").map(|(_, v)| v);
        Some(match lag {
            Some(Value::Int(n)) => Some(*n),
            _ => None,
        })
    })
}

/// A group's field/value pairs (RESP2 flat array or RESP3 map).
fn fields(group: &Value) -> Vec<(String, &Value)> {
    match group {
        Value::Array(items) => {
            items.chunks(2).filter_map(|kv| Some((text(kv.first()?)?, kv.get(1)?))).collect()
        }
        Value::Map(pairs) => pairs.iter().filter_map(|(k, v)| Some((text(k)?, v))).collect(),
        _ => Vec::new(),
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use tanksim_test_util::RedisServer;

    use super::*;

    fn trigger(measure: Measure, group: &str) -> Trigger {
        Trigger {
            name: "t".into(),
            measure,
            target: 1,
            activation: 0,
            stream: "s".into(),
            group: group.into(),
        }
    }

    async fn run(conn: &mut MultiplexedConnection, args: &[&str]) -> Value {
        let mut cmd = redis::cmd(args[0]);
        for arg in &args[1..] {
            cmd.arg(*arg);
        }
        cmd.query_async(conn).await.unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    /// One new entry to consumer `c` of group `g`: its id.
    async fn deliver(conn: &mut MultiplexedConnection) -> String {
        let reply: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
            .arg(&["GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"])
            .query_async(conn)
            .await
            .unwrap();
        reply.keys[0].ids[0].id.clone()
    }

    /// The scaler's rules on a real Redis: no stream, a stream without the group, the group's
    /// lag, and the NULL lag that acknowledging (XACK + XDEL) the newest delivered entry before
    /// an older one leaves.
    #[tokio::test]
    async fn the_scaler_reads_a_real_stream_as_keda_does() {
        let redis = RedisServer::start();
        let mut scaler = Scaler::connect(&redis.url()).await;
        let client = redis::Client::open(redis.url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let (lag, pending, length) =
            (trigger(Measure::Lag, "g"), trigger(Measure::Pending, "g"), trigger(Measure::Length, ""));

        // No stream: the lag reads 0 (`ERR no such key`), XPENDING errors (NOGROUP).
        assert_eq!(scaler.read(&lag).await, plain(Ok(0)));
        assert!(scaler.read(&pending).await.reading.is_err_and(|e| e.contains("NOGROUP")));
        assert_eq!(scaler.read(&length).await, plain(Ok(0)));

        // Entries but no group yet: the lag is the stream's length.
        for _ in 0..3 {
            run(&mut conn, &["XADD", "s", "*", "f", "v"]).await;
        }
        assert_eq!(scaler.read(&lag).await, plain(Ok(3)));

        // The group: lag and pending follow the reads.
        run(&mut conn, &["XGROUP", "CREATE", "s", "g", "0"]).await;
        assert_eq!(scaler.read(&lag).await, plain(Ok(3)));
        let _older = deliver(&mut conn).await;
        let newer = deliver(&mut conn).await;
        assert_eq!((scaler.read(&lag).await, scaler.read(&pending).await), (plain(Ok(1)), plain(Ok(2))));

        // The newer entry acknowledged and deleted first: Redis cannot compute the lag.
        run(&mut conn, &["XACK", "s", "g", &newer]).await;
        run(&mut conn, &["XDEL", "s", &newer]).await;
        assert_eq!(scaler.read(&lag).await, Read { reading: Ok(NULL_LAG), null_lag: true });
        assert_eq!(scaler.read(&pending).await, plain(Ok(1)));
    }
}
