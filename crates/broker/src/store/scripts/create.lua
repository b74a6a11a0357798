-- Records a new job (state queued), its spec, its place in the index and, when it has chunks
-- to enqueue, in the dispatching set. An existing job is returned unchanged, so a create
-- retried after a lost reply never resets progress.
-- KEYS: job, spec, jobs index, dispatching set, the tenant's jobs index.
-- ARGV: id, name, kind, runs_total, chunk_size, chunks_total, submitted_at_ms, spec,
-- trace_context (encoded; empty: none, and no field is stored), tenant.
-- Returns the job hash (HGETALL).
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1],
    'id', ARGV[1], 'name', ARGV[2], 'kind', ARGV[3], 'state', 'queued',
    'runs_total', ARGV[4], 'runs_done', 0, 'chunk_size', ARGV[5],
    'chunks_total', ARGV[6], 'chunks_enqueued', 0, 'chunks_done', 0, 'chunks_failed', 0,
    'submitted_at_ms', ARGV[7], 'tenant', ARGV[10])
  if ARGV[9] ~= '' then
    redis.call('HSET', KEYS[1], 'trace_context', ARGV[9])
  end
  redis.call('SET', KEYS[2], ARGV[8])
  redis.call('ZADD', KEYS[3], ARGV[7], ARGV[1])
  redis.call('ZADD', KEYS[5], ARGV[7], ARGV[1])
  if tonumber(ARGV[6]) > 0 then
    redis.call('SADD', KEYS[4], ARGV[1])
  end
end
return redis.call('HGETALL', KEYS[1])
