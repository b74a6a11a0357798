//! The script that settles one delivery: hand it back to the task stream, or move it to the
//! dead-letter stream, atomically with its acknowledgement and deletion.
//!
//! It acts only if the entry is still pending with the delivery count the caller saw. Any other
//! state means someone else now owns the outcome: the entry was acknowledged (done), settled
//! already, or claimed by another consumer (its count went up). Acting anyway would run a
//! finished task again or dead-letter a task twice. So a settle is safe to repeat, and a stale
//! delivery's settle is a no-op.

use std::sync::LazyLock;

use ::redis::Script;

/// KEYS: the task stream, the target stream. ARGV: group, entry id, expected delivery count,
/// then the field/value pairs to append to the target. Returns 1 if it settled, else 0.
const SETTLE: &str = r"
local pending = redis.pcall('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if type(pending) ~= 'table' or pending.err ~= nil or #pending == 0 then
  return 0
end
if tonumber(pending[1][4]) ~= tonumber(ARGV[3]) then
  return 0
end
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 4))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1
";

/// The script (`EVALSHA`, loaded again by the client after a Redis restart).
pub(super) fn script() -> &'static Script {
    static SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(SETTLE));
    &SCRIPT
}
