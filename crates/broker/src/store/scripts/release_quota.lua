-- Prepended to every script that ends a job (cancel, fail, finish): gives back what the job
-- reserved of its tenant's quota, once. The job's `quota_key` field names the usage hash it
-- reserved in and goes with the reservation, so a second call changes nothing; jobs created
-- before quotas existed have no field and give back nothing.
local function release_quota(job)
  local f = redis.call('HMGET', job, 'quota_key', 'runs_total')
  if f[1] then
    redis.call('HINCRBY', f[1], 'jobs', -1)
    redis.call('HINCRBY', f[1], 'runs', '-' .. f[2])
    redis.call('HDEL', job, 'quota_key')
  end
end
