-- Raises chunks_enqueued (never lowers it); the job leaves the dispatching set once every
-- chunk is enqueued or it is terminal.
-- KEYS: job, dispatching set. ARGV: chunks, id.
-- Returns nil for an unknown job, else 1.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local f = redis.call('HMGET', KEYS[1], 'state', 'chunks_total', 'chunks_enqueued')
local enqueued = tonumber(f[3])
if tonumber(ARGV[1]) > enqueued then
  redis.call('HSET', KEYS[1], 'chunks_enqueued', ARGV[1])
  enqueued = tonumber(ARGV[1])
end
if enqueued >= tonumber(f[2]) or (f[1] ~= 'queued' and f[1] ~= 'running') then
  redis.call('SREM', KEYS[2], ARGV[2])
end
return 1
