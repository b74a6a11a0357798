-- Releases a job's chunks up to ARGV[1]: a non-terminal job's chunks_released rises to
-- min(ARGV[1], chunks_total), never lower (a job stored without the field has released every
-- chunk); a terminal job is left as it is. With ARGV[2], the call that raises also stores it
-- as the job's wave state (KEYS[2]), in the same step.
-- KEYS: job, wave state. ARGV: chunks[, state].
-- Returns nil for an unknown job, else the job hash (HGETALL) after the call.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local f = redis.call('HMGET', KEYS[1], 'state', 'chunks_total', 'chunks_released')
if f[1] == 'queued' or f[1] == 'running' then
  local chunks = math.min(tonumber(ARGV[1]), tonumber(f[2]))
  if chunks > tonumber(f[3] or f[2]) then
    if ARGV[2] then
      redis.call('SET', KEYS[2], ARGV[2])
    end
    redis.call('HSET', KEYS[1], 'chunks_released', chunks)
  end
end
return redis.call('HGETALL', KEYS[1])
