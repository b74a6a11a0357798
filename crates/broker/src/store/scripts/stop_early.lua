-- Stops a job early at its first ARGV[1] chunks (ARGV[2] runs): a non-terminal job with
-- chunks_done <= chunks <= chunks_total and runs <= runs_total is cut to them (chunks_total,
-- chunks_released, runs_total) and gives back the runs it no longer needs: from the usage hash
-- its `quota_key` names (while it holds that reservation, as end_job.lua) and from its tenant's
-- runs of its submission day, the counter its `day_key` names (only while that exists: an
-- expired day is never recreated). It leaves the dispatching set once every remaining chunk is
-- enqueued and, as finish.lua, a running job whose done chunks cover it succeeds and ends
-- (end_job.lua, prepended). Anything else is left as it is; a repeated call has nothing left to cut.
-- KEYS: job, dispatching set, ended index. ARGV: chunks, runs, now_ms, id.
-- Returns nil for an unknown job, else {stopped 1|0, the job hash (HGETALL) after the call}.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local f = redis.call('HMGET', KEYS[1], 'state', 'chunks_done', 'chunks_total', 'runs_total',
  'chunks_enqueued', 'quota_key', 'day_key')
local chunks, runs = tonumber(ARGV[1]), tonumber(ARGV[2])
local total, runs_total = tonumber(f[3]), tonumber(f[4])
if (f[1] ~= 'queued' and f[1] ~= 'running') or tonumber(f[2]) > chunks or chunks > total
    or runs > runs_total then
  return {0, redis.call('HGETALL', KEYS[1])}
end
local unneeded = runs_total - runs
local stopped = 0
if chunks < total or unneeded > 0 then
  stopped = 1
end
redis.call('HSET', KEYS[1], 'chunks_total', ARGV[1], 'chunks_released', ARGV[1], 'runs_total', ARGV[2])
if unneeded > 0 then
  if f[6] then
    redis.call('HINCRBY', f[6], 'runs', -unneeded)
  end
  if f[7] and redis.call('EXISTS', f[7]) == 1 then
    redis.call('INCRBY', f[7], -unneeded)
  end
end
if tonumber(f[5]) >= chunks then
  redis.call('SREM', KEYS[2], ARGV[4])
end
if f[1] == 'running' and tonumber(f[2]) >= chunks then
  redis.call('HSET', KEYS[1], 'state', 'succeeded', 'finished_at_ms', ARGV[3])
  end_job(KEYS[1], KEYS[2], KEYS[3], ARGV[4], ARGV[3])
end
return {stopped, redis.call('HGETALL', KEYS[1])}
