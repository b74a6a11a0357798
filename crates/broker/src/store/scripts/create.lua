-- Records a new job (state queued), its spec, its place in the index and, when it has chunks
-- to enqueue, in the dispatching set, within its tenant's quota: a job that would exceed a
-- limit is refused and nothing is written; an admitted one reserves its share (one job and
-- its runs in the usage hash, named in the job's `quota_key` until the job ends; its runs in
-- the day's counter, named in its `day_key` for an adaptive job's stop to give runs back). An existing job is returned unchanged, so a create retried after a lost
-- reply never resets progress, reserves twice or is refused.
-- KEYS: job, spec, jobs index, dispatching set, the tenant's jobs index, the tenant's usage
-- hash, the tenant's runs counter of the job's UTC day.
-- ARGV: id, name, kind, runs_total, chunk_size, chunks_total, submitted_at_ms, spec,
-- trace_context (encoded; empty: none, and no field is stored), tenant, then the limits
-- (0: unlimited) concurrent jobs, queued runs, runs per day, the day counter's TTL in
-- seconds, and chunks_released (at most chunks_total).
-- Returns {1, the job hash (HGETALL)}, or {0, the limit's name, what the tenant holds of it}.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {1, redis.call('HGETALL', KEYS[1])}
end
-- The same checks, in the same order, as QuotaUsage::exceeded (crates/broker/src/quota.rs).
local runs = tonumber(ARGV[4])
local usage = redis.call('HMGET', KEYS[6], 'jobs', 'runs')
local jobs = tonumber(usage[1] or '0')
local queued = tonumber(usage[2] or '0')
local today = tonumber(redis.call('GET', KEYS[7]) or '0')
local function over(max, used, adding)
  local limit = tonumber(max)
  return limit > 0 and used + adding > limit
end
if over(ARGV[11], jobs, 1) then
  return {0, 'concurrent_jobs', jobs}
end
if over(ARGV[12], queued, runs) then
  return {0, 'queued_runs', queued}
end
if over(ARGV[13], today, runs) then
  return {0, 'runs_per_day', today}
end
redis.call('HSET', KEYS[1],
  'id', ARGV[1], 'name', ARGV[2], 'kind', ARGV[3], 'state', 'queued',
  'runs_total', ARGV[4], 'runs_done', 0, 'chunk_size', ARGV[5],
  'chunks_total', ARGV[6], 'chunks_released', ARGV[15], 'chunks_enqueued', 0, 'chunks_done', 0,
  'chunks_failed', 0,
  'submitted_at_ms', ARGV[7], 'tenant', ARGV[10], 'quota_key', KEYS[6], 'day_key', KEYS[7])
if ARGV[9] ~= '' then
  redis.call('HSET', KEYS[1], 'trace_context', ARGV[9])
end
redis.call('SET', KEYS[2], ARGV[8])
redis.call('ZADD', KEYS[3], ARGV[7], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[7], ARGV[1])
if tonumber(ARGV[6]) > 0 then
  redis.call('SADD', KEYS[4], ARGV[1])
end
redis.call('HINCRBY', KEYS[6], 'jobs', 1)
redis.call('HINCRBY', KEYS[6], 'runs', ARGV[4])
redis.call('INCRBY', KEYS[7], ARGV[4])
redis.call('EXPIRE', KEYS[7], ARGV[14])
return {1, redis.call('HGETALL', KEYS[1])}
