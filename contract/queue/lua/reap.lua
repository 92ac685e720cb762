-- reap: return jobs whose lease expired (their pool died or stalled) to the head of their
-- tenant's queue. README step 6. Any pool may run it.
--
-- KEYS[1] leases  ZSET rid -> lease expiry (ms)
-- KEYS[2] owners  HASH rid -> owner token
-- KEYS[3] jobs    HASH rid -> Job JSON
-- KEYS[4] active  ZSET tenant -> virtual start time
-- KEYS[5] vt      HASH tenant -> last virtual finish; "@now" -> queue clock
-- ARGV[1] tenant-queue key prefix (keys.tenantQueue(model, ""))
-- ARGV[2] max jobs to reap in this call
--
-- Returns the rids pushed back. Their owner entry is removed at once, so the old pool's
-- next extend reports them lost even before another pool claims them; the next claim
-- bumps the attempt and a new owner token fences the old pool's writes.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, rid in ipairs(due) do
  redis.call('ZREM', KEYS[1], rid)
  redis.call('HDEL', KEYS[2], rid)
  local job = redis.call('HGET', KEYS[3], rid)
  local ok, j = false, nil
  if job then ok, j = pcall(cjson.decode, job) end
  if ok and type(j) == 'table' and j.tenant_id then
    local tenant = tostring(j.tenant_id)
    redis.call('LPUSH', ARGV[1] .. tenant, rid)
    if not redis.call('ZSCORE', KEYS[4], tenant) then
      local last = tonumber(redis.call('HGET', KEYS[5], tenant)) or 0
      local clock = tonumber(redis.call('HGET', KEYS[5], '@now')) or 0
      redis.call('ZADD', KEYS[4], math.max(last, clock), tenant)
    end
    out[#out + 1] = rid
  elseif job then
    -- Undecodable: requeue anyway under no tenant is impossible; drop it so it cannot loop.
    redis.call('HDEL', KEYS[3], rid)
  end
end
return out
