-- Retention: deletes up to ARGV[2] jobs that ended at or before ARGV[1] (milliseconds), the
-- oldest end first: the job's hash and sub-keys (spec, chunk summaries, done bitmap, merged
-- prefix, wave state) and its places in the jobs index, its tenant's index and the ended index. Only ended
-- jobs are in the ended index (end_job.lua), so a job still queued or running is never touched.
-- KEYS: ended index, jobs index. ARGV: ended_at_or_before_ms, limit, job key prefix, tenant
-- key prefix, the tenant of jobs stored without one.
-- Returns the ids deleted.
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, id in ipairs(ids) do
  local job = ARGV[3] .. id
  local tenant = redis.call('HGET', job, 'tenant') or ARGV[5]
  redis.call('ZREM', ARGV[4] .. tenant .. ':jobs', id)
  redis.call('UNLINK', job, job .. ':spec', job .. ':chunks', job .. ':done', job .. ':merged', job .. ':state')
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[1], id)
end
return ids
