-- Stores the merge of chunks 0..upto, only forward, and drops the newly merged chunks'
-- summaries (the done bitmap stays, so late duplicates are still recognised).
-- KEYS: job, merged hash, chunks hash. ARGV: upto, merged bytes.
-- Returns nil for an unknown job, -1 for upto beyond the job's chunks, else 1 (saved) or 0.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local upto = tonumber(ARGV[1])
-- Bounds first: the loop below would otherwise block Redis for a bogus upto.
if upto > tonumber(redis.call('HGET', KEYS[1], 'chunks_total')) then
  return -1
end
local stored = redis.call('HGET', KEYS[2], 'upto')
local old = 0
if stored then
  old = tonumber(stored)
  if upto <= old then
    return 0
  end
end
redis.call('HSET', KEYS[2], 'upto', ARGV[1], 'bytes', ARGV[2])
-- HDEL in batches: Lua's unpack() is limited to a few thousand values.
local batch = {}
for c = old, upto - 1 do
  batch[#batch + 1] = tostring(c)
  if #batch == 1000 then
    redis.call('HDEL', KEYS[3], unpack(batch))
    batch = {}
  end
end
if #batch > 0 then
  redis.call('HDEL', KEYS[3], unpack(batch))
end
return 1
