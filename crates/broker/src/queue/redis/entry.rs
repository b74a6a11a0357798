//! How a task is laid out in a stream entry, and the strict reading of the entries Redis returns.
//!
//! An entry is `job`, `chunk`, `start`, `end`, then `tp:<key>` for each trace-context pair, in
//! that order. Reading is strict: every required field exactly once, canonical decimal numbers,
//! UTF-8 text, no other fields (a field this version does not know might change what the task
//! means, so running the task without it could give wrong results). A dead letter is the same
//! fields followed by `reason` and `deliveries`.

use ::redis::Value;

use crate::BrokerError;
use crate::queue::{DeadLetter, Task};

const JOB: &str = "job";
const CHUNK: &str = "chunk";
const START: &str = "start";
const END: &str = "end";
const TRACE_PREFIX: &str = "tp:";
const REASON: &str = "reason";
const DELIVERIES: &str = "deliveries";

/// Field/value pairs of one entry, as raw bytes.
pub(super) type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// One stream entry as Redis returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RawEntry {
    pub(super) id: String,
    /// `None` for an entry still pending in the group but deleted from the stream.
    pub(super) fields: Option<Fields>,
}

/// The `XADD` field/value arguments for `task`, flat and in order.
pub(super) fn task_args(task: &Task) -> Vec<Vec<u8>> {
    let mut args = Vec::with_capacity(8 + 2 * task.trace_context.len());
    args.push(JOB.into());
    args.push(task.job_id.clone().into_bytes());
    args.push(CHUNK.into());
    args.push(task.chunk.to_string().into_bytes());
    args.push(START.into());
    args.push(task.run_start.to_string().into_bytes());
    args.push(END.into());
    args.push(task.run_end.to_string().into_bytes());
    for (key, value) in &task.trace_context {
        args.push(format!("{TRACE_PREFIX}{key}").into_bytes());
        args.push(value.clone().into_bytes());
    }
    args
}

/// `args` followed by the dead-letter fields `reason` and `deliveries`.
pub(super) fn dead_letter_args(mut args: Vec<Vec<u8>>, reason: &str, deliveries: u64) -> Vec<Vec<u8>> {
    args.push(REASON.into());
    args.push(reason.as_bytes().to_vec());
    args.push(DELIVERIES.into());
    args.push(deliveries.to_string().into_bytes());
    args
}

/// An entry's fields as flat `XADD` arguments (to move a malformed entry verbatim).
pub(super) fn raw_args(fields: Fields) -> Vec<Vec<u8>> {
    fields.into_iter().flat_map(|(name, value)| [name, value]).collect()
}

/// The task in an entry's fields, or why they are not one.
pub(super) fn parse_task(fields: &[(Vec<u8>, Vec<u8>)]) -> Result<Task, String> {
    let (mut job, mut chunk, mut start, mut end) = (None, None, None, None);
    let mut trace_context = Vec::new();
    for (name, value) in fields {
        let name = std::str::from_utf8(name)
            .map_err(|_| format!("field name {:?} is not UTF-8", String::from_utf8_lossy(name)))?;
        let text = std::str::from_utf8(value).map_err(|_| format!("field `{name}` is not UTF-8"))?;
        match name {
            JOB => set_once(&mut job, name, text.to_owned())?,
            CHUNK => set_once(&mut chunk, name, number::<u32>(name, text)?)?,
            START => set_once(&mut start, name, number::<u64>(name, text)?)?,
            END => set_once(&mut end, name, number::<u64>(name, text)?)?,
            _ => match name.strip_prefix(TRACE_PREFIX) {
                Some(key) => trace_context.push((key.to_owned(), text.to_owned())),
                None => return Err(format!("unknown field `{name}`")),
            },
        }
    }
    let missing = |field: &str| format!("missing field `{field}`");
    Ok(Task {
        job_id: job.ok_or_else(|| missing(JOB))?,
        chunk: chunk.ok_or_else(|| missing(CHUNK))?,
        run_start: start.ok_or_else(|| missing(START))?,
        run_end: end.ok_or_else(|| missing(END))?,
        trace_context,
    })
}

fn set_once<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<(), String> {
    match slot.replace(value) {
        None => Ok(()),
        Some(_) => Err(format!("field `{name}` appears twice")),
    }
}

/// A canonical decimal: digits only (no sign, no spaces), in range.
fn number<T: std::str::FromStr>(name: &str, text: &str) -> Result<T, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("field `{name}` is not a decimal number: {text:?}"));
    }
    text.parse().map_err(|_| format!("field `{name}` is out of range: {text}"))
}

/// A dead-letter entry. Never fails: a dead letter is for people to read, so one whose task
/// part does not parse (a malformed entry moved verbatim) still shows, with the fields that do
/// parse and zero or empty for the others; its reason says why it is there.
pub(super) fn parse_dead_letter(fields: Fields) -> DeadLetter {
    let (mut reason, mut deliveries) = (None, 0);
    let mut task_fields = Vec::with_capacity(fields.len());
    for (name, value) in fields {
        match name.as_slice() {
            b"reason" => reason = Some(String::from_utf8_lossy(&value).into_owned()),
            b"deliveries" => deliveries = lossy_number(&value),
            _ => task_fields.push((name, value)),
        }
    }
    let task = match parse_task(&task_fields) {
        Ok(task) => task,
        Err(detail) => {
            reason.get_or_insert_with(|| format!("malformed dead letter: {detail}"));
            best_effort_task(&task_fields)
        }
    };
    DeadLetter { task, deliveries, reason: reason.unwrap_or_default() }
}

fn best_effort_task(fields: &[(Vec<u8>, Vec<u8>)]) -> Task {
    let value = |field: &str| fields.iter().find(|(name, _)| name == field.as_bytes()).map(|(_, v)| v);
    Task {
        job_id: value(JOB).map(|v| String::from_utf8_lossy(v).into_owned()).unwrap_or_default(),
        chunk: value(CHUNK).map_or(0, |v| lossy_number(v)),
        run_start: value(START).map_or(0, |v| lossy_number(v)),
        run_end: value(END).map_or(0, |v| lossy_number(v)),
        trace_context: fields
            .iter()
            .filter_map(|(name, value)| {
                let key = name.strip_prefix(TRACE_PREFIX.as_bytes())?;
                Some((String::from_utf8_lossy(key).into_owned(), String::from_utf8_lossy(value).into_owned()))
            })
            .collect(),
    }
}

fn lossy_number<T: std::str::FromStr + Default>(value: &[u8]) -> T {
    std::str::from_utf8(value).ok().and_then(|text| text.parse().ok()).unwrap_or_default()
}

/// Whether `id` is a stream entry id (`ms-seq` or `ms`): Redis rejects a whole command for
/// one malformed id, and [`crate::queue::TaskQueue::ack`] promises to ignore unknown ids.
pub(super) fn is_entry_id(id: &str) -> bool {
    let part = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.parse::<u64>().is_ok();
    let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
    part(ms) && part(seq)
}

fn unexpected(what: &str, value: &Value) -> BrokerError {
    BrokerError::Corrupt { what: "redis reply", detail: format!("unexpected {what}: {value:?}") }
}

fn text(value: Value) -> Result<String, BrokerError> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes)
            .map_err(|e| BrokerError::Corrupt { what: "redis reply", detail: format!("non-UTF-8 id: {e}") }),
        Value::SimpleString(text) => Ok(text),
        other => Err(unexpected("id", &other)),
    }
}

fn bytes(value: Value) -> Result<Vec<u8>, BrokerError> {
    match value {
        Value::BulkString(bytes) => Ok(bytes),
        Value::SimpleString(text) => Ok(text.into_bytes()),
        other => Err(unexpected("field", &other)),
    }
}

/// The entries of an `XREADGROUP` reply (one stream; nil when the block timed out). RESP2
/// answers an array of `[key, entries]`, RESP3 a map.
pub(super) fn read_reply(reply: Value) -> Result<Vec<RawEntry>, BrokerError> {
    let per_stream = match reply {
        Value::Nil => return Ok(Vec::new()),
        Value::Map(pairs) => pairs.into_iter().map(|(_, entries)| entries).collect(),
        Value::Array(streams) => streams
            .into_iter()
            .map(|stream| match stream {
                Value::Array(mut pair) if pair.len() == 2 => Ok(pair.swap_remove(1)),
                other => Err(unexpected("stream in XREADGROUP reply", &other)),
            })
            .collect::<Result<Vec<_>, _>>()?,
        other => return Err(unexpected("XREADGROUP reply", &other)),
    };
    let mut entries = Vec::new();
    for stream in per_stream {
        entries.extend(range_reply(stream)?);
    }
    Ok(entries)
}

/// A list of entries (`XRANGE`, one stream of `XREADGROUP`, claimed ones of `XAUTOCLAIM`).
/// Redis 6.2 reports an entry deleted while pending as a nil element; it is skipped.
pub(super) fn range_reply(reply: Value) -> Result<Vec<RawEntry>, BrokerError> {
    let Value::Array(items) = reply else { return Err(unexpected("entry list", &reply)) };
    items.into_iter().filter(|item| *item != Value::Nil).map(raw_entry).collect()
}

fn raw_entry(item: Value) -> Result<RawEntry, BrokerError> {
    let Value::Array(parts) = item else { return Err(unexpected("entry", &item)) };
    let [id, fields] =
        <[Value; 2]>::try_from(parts).map_err(|parts| unexpected("entry", &Value::Array(parts)))?;
    let fields = match fields {
        Value::Nil => None,
        Value::Map(pairs) => Some(
            pairs.into_iter().map(|(n, v)| Ok((bytes(n)?, bytes(v)?))).collect::<Result<_, BrokerError>>()?,
        ),
        Value::Array(flat) if flat.len() % 2 == 0 => {
            let mut pairs = Vec::with_capacity(flat.len() / 2);
            let mut flat = flat.into_iter();
            while let (Some(name), Some(value)) = (flat.next(), flat.next()) {
                pairs.push((bytes(name)?, bytes(value)?));
            }
            Some(pairs)
        }
        other => return Err(unexpected("entry fields", &other)),
    };
    Ok(RawEntry { id: text(id)?, fields })
}

/// An `XAUTOCLAIM` reply: the cursor to continue from (`0-0` when the scan is complete) and
/// the claimed entries. The third element (Redis 7: ids deleted from the stream, which Redis
/// has already dropped from the pending list) needs nothing from us.
pub(super) fn autoclaim_reply(reply: Value) -> Result<(String, Vec<RawEntry>), BrokerError> {
    let Value::Array(mut parts) = reply else { return Err(unexpected("XAUTOCLAIM reply", &reply)) };
    if !(2..=3).contains(&parts.len()) {
        return Err(unexpected("XAUTOCLAIM reply", &Value::Array(parts)));
    }
    parts.truncate(2);
    let claimed = parts.pop().map_or(Ok(Vec::new()), range_reply)?;
    let cursor = parts.pop().map_or(Ok(String::from("0-0")), text)?;
    Ok((cursor, claimed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> Task {
        Task {
            job_id: "job-1".into(),
            chunk: 7,
            run_start: 700,
            run_end: 800,
            trace_context: vec![
                ("traceparent".into(), "00-ab-cd-01".into()),
                ("tracestate".into(), "".into()),
            ],
        }
    }

    fn pairs(args: Vec<Vec<u8>>) -> Fields {
        args.chunks(2).map(|pair| (pair[0].clone(), pair[1].clone())).collect()
    }

    fn fields(list: &[(&str, &str)]) -> Fields {
        list.iter().map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec())).collect()
    }

    #[test]
    fn a_task_round_trips_through_its_fields() {
        assert_eq!(parse_task(&pairs(task_args(&task()))), Ok(task()));
    }

    #[test]
    fn malformed_fields_are_rejected_with_the_reason() {
        let base = [("job", "j"), ("chunk", "1"), ("start", "0"), ("end", "5")];
        let with = |extra: &[(&str, &str)]| {
            let mut list = base.to_vec();
            list.extend_from_slice(extra);
            parse_task(&fields(&list)).expect_err("must be rejected")
        };
        assert!(with(&[("extra", "x")]).contains("unknown field `extra`"));
        assert!(with(&[("chunk", "2")]).contains("`chunk` appears twice"));
        assert!(parse_task(&fields(&base[..3])).expect_err("no end").contains("missing field `end`"));
        for bad in ["", "-1", "+1", " 1", "1.0", "4294967296"] {
            let list = [("job", "j"), ("chunk", bad), ("start", "0"), ("end", "5")];
            assert!(parse_task(&fields(&list)).expect_err(bad).contains("`chunk`"), "{bad:?}");
        }
        let mut invalid = fields(&base);
        invalid[0].1 = vec![0xff];
        assert!(parse_task(&invalid).expect_err("not UTF-8").contains("`job` is not UTF-8"));
    }

    #[test]
    fn dead_letters_parse_and_malformed_ones_still_show() {
        let args = dead_letter_args(task_args(&task()), "too many deliveries", 5);
        let dead = parse_dead_letter(pairs(args));
        assert_eq!(dead, DeadLetter { task: task(), deliveries: 5, reason: "too many deliveries".into() });

        let raw = fields(&[("job", "j"), ("chunk", "x"), ("start", "3")]);
        let dead = parse_dead_letter(pairs(dead_letter_args(raw_args(raw), "malformed entry: bad", 1)));
        assert_eq!((dead.task.job_id.as_str(), dead.task.chunk, dead.task.run_start), ("j", 0, 3));
        assert_eq!((dead.reason.as_str(), dead.deliveries), ("malformed entry: bad", 1));
    }

    #[test]
    fn entry_ids_are_recognised() {
        for id in ["0", "1-0", "1700000000000-12"] {
            assert!(is_entry_id(id), "{id}");
        }
        for id in ["", "-", "a-1", "1-", "1-b", "+1-0", "1-+0", "1-0-0", "18446744073709551616-0"] {
            assert!(!is_entry_id(id), "{id}");
        }
    }

    #[test]
    fn replies_parse_including_deleted_entries() {
        let bulk = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        let entry = Value::Array(vec![bulk("1-0"), Value::Array(vec![bulk("job"), bulk("j")])]);
        let deleted = Value::Array(vec![bulk("2-0"), Value::Nil]);
        let reply = Value::Array(vec![Value::Array(vec![bulk("s"), Value::Array(vec![entry, deleted])])]);
        let entries = read_reply(reply).expect("parses");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].fields, Some(fields(&[("job", "j")])));
        assert_eq!((entries[1].id.as_str(), &entries[1].fields), ("2-0", &None));
        assert!(read_reply(Value::Nil).expect("nil is empty").is_empty());
        assert!(read_reply(Value::Int(3)).is_err());

        let claim = Value::Array(vec![bulk("5-0"), Value::Array(vec![]), Value::Array(vec![bulk("3-0")])]);
        assert_eq!(autoclaim_reply(claim).expect("parses"), ("5-0".into(), vec![]));
    }

    mod fuzz {
        use proptest::prelude::*;

        use super::super::*;

        /// Field names: the known ones, trace keys, and arbitrary bytes.
        fn name() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                4 => prop::sample::select(vec!["job", "chunk", "start", "end", "tp:traceparent", "reason", "deliveries", "tp:"])
                    .prop_map(|n| n.as_bytes().to_vec()),
                1 => prop::collection::vec(any::<u8>(), 0..12),
            ]
        }

        /// Values: decimals (canonical or not, in and out of range), text, arbitrary bytes.
        fn value() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                2 => any::<u64>().prop_map(|n| n.to_string().into_bytes()),
                1 => prop::sample::select(vec!["", "-1", "+1", " 1", "1e3", "0x10", "99999999999999999999", "4294967296"])
                    .prop_map(|v| v.as_bytes().to_vec()),
                1 => "\\PC{0,20}".prop_map(String::into_bytes),
                1 => prop::collection::vec(any::<u8>(), 0..20),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1024))]

            /// Whatever another writer put in an entry, reading it answers (a task or why
            /// not) and a dead letter always shows; nothing panics.
            #[test]
            fn arbitrary_entries_never_panic(fields in prop::collection::vec((name(), value()), 0..10)) {
                if let Ok(task) = parse_task(&fields) {
                    // A task read back is exactly what its fields say.
                    prop_assert_eq!(task_args(&task).len(), 2 * fields.len());
                }
                let _ = parse_dead_letter(fields);
            }

            /// Every task survives the trip through its entry.
            #[test]
            fn tasks_round_trip(
                job_id in "\\PC{0,40}",
                chunk in any::<u32>(),
                run_start in any::<u64>(),
                run_end in any::<u64>(),
                trace in prop::collection::vec(("[a-z]{1,12}", "\\PC{0,30}"), 0..3),
            ) {
                let task = Task { job_id, chunk, run_start, run_end, trace_context: trace };
                let args = task_args(&task);
                let fields: Vec<(Vec<u8>, Vec<u8>)> =
                    args.chunks(2).map(|pair| (pair[0].clone(), pair[1].clone())).collect();
                prop_assert_eq!(parse_task(&fields), Ok(task));
            }
        }
    }
}
