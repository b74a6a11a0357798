-- A running job with every chunk recorded succeeds, giving back its quota reservation
-- (release_quota.lua, prepended); anything else is left as it is.
-- KEYS: job, dispatching set. ARGV: now_ms, id.
-- Returns nil for an unknown job, else the job hash (HGETALL) after the call.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local f = redis.call('HMGET', KEYS[1], 'state', 'chunks_done', 'chunks_total')
if f[1] == 'running' and tonumber(f[2]) >= tonumber(f[3]) then
  redis.call('HSET', KEYS[1], 'state', 'succeeded', 'finished_at_ms', ARGV[1])
  redis.call('SREM', KEYS[2], ARGV[2])
  release_quota(KEYS[1])
end
return redis.call('HGETALL', KEYS[1])
