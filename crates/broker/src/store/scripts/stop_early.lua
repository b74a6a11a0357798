-- Stops a job early at its first ARGV[1] chunks (ARGV[2] runs): a non-terminal job with
-- chunks_done <= chunks <= chunks_total and runs <= runs_total is cut to them (chunks_total,
-- chunks_released, runs_total) and gives back the runs it no longer needs: from the usage hash
-- its `quota_key` names (while it holds that reservation, as end_job.lua) and from its tenant's
-- runs of its submission day (only while that counter exists: an expired day is never
-- recreated). It leaves the dispatching set once every remaining chunk is enqueued and, as
-- finish.lua, a running job whose done chunks cover it succeeds and ends (end_job.lua,
-- prepended). Anything else is left as it is; a repeated call has nothing left to cut.
-- KEYS: job, dispatching set, ended index, the runs counter of the job's tenant and UTC
-- submission day.
-- ARGV: chunks, runs, now_ms, id, then the job's submitted_at_ms and tenant the counter was
-- named from, and the tenant of jobs stored without one.
-- Returns nil for an unknown job, -1 when the job is not the one the counter was named from
-- (replaced meanwhile: read it again), else {stopped 1|0, the job hash (HGETALL) after the call}.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local f = redis.call('HMGET', KEYS[1], 'state', 'chunks_done', 'chunks_total', 'runs_total',
  'chunks_enqueued', 'quota_key', 'submitted_at_ms', 'tenant')
if f[7] ~= ARGV[5] or (f[8] or ARGV[7]) ~= ARGV[6] then
  return -1
end
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
  if redis.call('EXISTS', KEYS[4]) == 1 then
    redis.call('INCRBY', KEYS[4], -unneeded)
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
