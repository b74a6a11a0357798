-- A chunk failed for good: a non-terminal job fails and ends (end_job.lua, prepended); a
-- terminal one is left as it is (so a second failing chunk does not count twice).
-- KEYS: job, dispatching set, ended index. ARGV: reason, now_ms, id.
-- Returns nil for an unknown job, else {ended 1|0 (1 when this call made the job terminal),
-- the job hash (HGETALL) after the call}.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'queued' or state == 'running' then
  redis.call('HSET', KEYS[1], 'state', 'failed', 'finished_at_ms', ARGV[2], 'error', ARGV[1])
  redis.call('HINCRBY', KEYS[1], 'chunks_failed', 1)
  end_job(KEYS[1], KEYS[2], KEYS[3], ARGV[3], ARGV[2])
  return {1, redis.call('HGETALL', KEYS[1])}
end
return {0, redis.call('HGETALL', KEYS[1])}
