-- Prepended to every script that ends a job (cancel, fail, finish, stop_early), called once the
-- job's state is terminal: the job leaves the dispatching set, gives back what it reserved of
-- its tenant's quota, and enters the ended index (scored by its end) that retention reads
-- (expire.lua). The job's `quota_key` field names the usage hash it reserved in and goes with
-- the reservation, so a second call gives back nothing; jobs created before quotas existed have
-- no field and give back nothing.
local function end_job(job, dispatching, ended, id, now_ms)
  redis.call('SREM', dispatching, id)
  local f = redis.call('HMGET', job, 'quota_key', 'runs_total')
  if f[1] then
    redis.call('HINCRBY', f[1], 'jobs', -1)
    redis.call('HINCRBY', f[1], 'runs', '-' .. f[2])
    redis.call('HDEL', job, 'quota_key')
  end
  redis.call('ZADD', ended, now_ms, id)
end
