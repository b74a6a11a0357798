-- Records a chunk once. The done bitmap, not the summary hash, says whether the chunk was
-- seen: summaries are dropped when merged, the marks stay so late duplicates still count once.
-- KEYS: job, chunks hash, done bitmap, merged hash. ARGV: chunk, runs, summary, now_ms.
-- Returns nil for an unknown job, -1 for a chunk outside the job, else {recorded 0|1, HGETALL}.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local f = redis.call('HMGET', KEYS[1], 'state', 'chunks_total')
local chunk = tonumber(ARGV[1])
-- Bounds first: SETBIT at a bogus offset would allocate up to 512 MB.
if chunk >= tonumber(f[2]) then
  return -1
end
if redis.call('GETBIT', KEYS[3], ARGV[1]) == 1 then
  return {0, redis.call('HGETALL', KEYS[1])}
end
redis.call('SETBIT', KEYS[3], ARGV[1], 1)
-- A chunk inside the merged prefix is already in the merge: storing it would leak its bytes.
local upto = tonumber(redis.call('HGET', KEYS[4], 'upto') or '0')
if chunk >= upto then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
end
if f[1] == 'queued' or f[1] == 'running' then
  redis.call('HINCRBY', KEYS[1], 'chunks_done', 1)
  redis.call('HINCRBY', KEYS[1], 'runs_done', ARGV[2])
  if f[1] == 'queued' then
    redis.call('HSET', KEYS[1], 'state', 'running', 'started_at_ms', ARGV[4])
  end
end
return {1, redis.call('HGETALL', KEYS[1])}
