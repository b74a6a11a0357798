-- A running job with every chunk recorded succeeds and ends (end_job.lua, prepended); anything
-- else is left as it is.
-- KEYS: job, dispatching set, ended index. ARGV: now_ms, id.
-- Returns nil for an unknown job, else {ended 1|0 (1 when this call made the job terminal),
-- the job hash (HGETALL) after the call}.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local f = redis.call('HMGET', KEYS[1], 'state', 'chunks_done', 'chunks_total')
if f[1] == 'running' and tonumber(f[2]) >= tonumber(f[3]) then
  redis.call('HSET', KEYS[1], 'state', 'succeeded', 'finished_at_ms', ARGV[1])
  end_job(KEYS[1], KEYS[2], KEYS[3], ARGV[2], ARGV[1])
  return {1, redis.call('HGETALL', KEYS[1])}
end
return {0, redis.call('HGETALL', KEYS[1])}
