-- A chunk failed for good: a non-terminal job fails, giving back its quota reservation
-- (release_quota.lua, prepended); a terminal one is left as it is (so a second failing chunk
-- does not count twice).
-- KEYS: job, dispatching set. ARGV: reason, now_ms, id.
-- Returns nil for an unknown job, else the job hash (HGETALL) after the call.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'queued' or state == 'running' then
  redis.call('HSET', KEYS[1], 'state', 'failed', 'finished_at_ms', ARGV[2], 'error', ARGV[1])
  redis.call('HINCRBY', KEYS[1], 'chunks_failed', 1)
  redis.call('SREM', KEYS[2], ARGV[3])
  release_quota(KEYS[1])
end
return redis.call('HGETALL', KEYS[1])
