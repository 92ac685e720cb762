-- claim: take up to N jobs from one model's fair queue (start-time fair queuing across tenants)
-- and lease them to the calling pool. README steps 2 (claim) and the lease half of 3.
--
-- KEYS[1] jobs     HASH rid -> Job JSON
-- KEYS[2] active   ZSET tenant -> virtual start time of its head job
-- KEYS[3] vt       HASH tenant -> last virtual finish; "@now" -> queue clock
-- KEYS[4] leases   ZSET rid -> lease expiry (ms)
-- KEYS[5] owners   HASH rid -> owner token "<poolId>:<attempt>"
-- ARGV[1] tenant-queue key prefix (keys.tenantQueue(model, "")); the tenant id is appended.
--         Same {q:<model>} hash tag as KEYS, so the script stays in one cluster slot.
-- ARGV[2] poolId
-- ARGV[3] leaseMs
-- ARGV[4] max jobs to claim in this call
--
-- Returns a flat array, 4 items per claimed job: status, rid, job JSON (attempt bumped), owner token.
--   status "ok"       normal job: run it.
--   status "expired"  past deadline_at: answer 503 queue_timeout and ack (it is leased so a crash
--                     between claim and answer still gets it answered by the reaper's next claimer).
--   status "invalid"  the job JSON does not decode: answer an error and ack.
-- Time is Redis TIME, so every pool shares one clock for leases and deadlines.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local prefix, poolId, leaseMs, max = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
local taken, guard = 0, 0

-- The attempt counter lives in the job JSON. Lua's cjson would re-encode [] as {} and
-- mangle numbers, so instead of re-encoding we append/replace a trailing "attempt" member:
-- JSON.parse keeps the last duplicate key, and only a top-level member can sit just before
-- the final brace.
local function bump(job, decoded)
  local prev = tonumber(string.match(job, ',"attempt":(%d+)}%s*$'))
  local base
  if prev then
    base = (string.gsub(job, ',"attempt":%d+}%s*$', ''))
  else
    prev = tonumber(decoded and decoded.attempt) or 0
    base = (string.gsub(job, '}%s*$', ''))
  end
  local attempt = prev + 1
  return base .. ',"attempt":' .. attempt .. '}', attempt
end

while taken < max and guard < max * 4 + 16 do
  guard = guard + 1
  local head = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if #head == 0 then break end
  local tenant, start = head[1], tonumber(head[2])
  local q = prefix .. tenant
  local rid = redis.call('LPOP', q)
  if not rid then
    redis.call('ZREM', KEYS[2], tenant) -- stale entry: the tenant has nothing waiting
  else
    local job = redis.call('HGET', KEYS[1], rid)
    if job then -- a rid without a job was already settled; skip it
      local ok, j = pcall(cjson.decode, job)
      local status = 'ok'
      if not ok or type(j) ~= 'table' then
        status = 'invalid'
        j = nil
      elseif tonumber(j.deadline_at) and tonumber(j.deadline_at) < now then
        status = 'expired'
      end
      local attempt
      job, attempt = bump(job, j)
      local token = poolId .. ':' .. attempt
      redis.call('HSET', KEYS[1], rid, job)
      redis.call('HSET', KEYS[5], rid, token)
      redis.call('ZADD', KEYS[4], now + leaseMs, rid)
      local nextStart = start
      if status == 'ok' then
        -- SFQ: the tenant's next start = this start + cost / weight; the clock moves to this start.
        local weight = tonumber(j.weight) or 1
        if weight <= 0 then weight = 1 end
        nextStart = start + (tonumber(j.reserved_tokens) or 0) / weight
        redis.call('HSET', KEYS[3], tenant, nextStart)
        local clock = tonumber(redis.call('HGET', KEYS[3], '@now')) or 0
        if start > clock then redis.call('HSET', KEYS[3], '@now', start) end
      end
      if redis.call('LLEN', q) > 0 then
        redis.call('ZADD', KEYS[2], nextStart, tenant)
      else
        redis.call('ZREM', KEYS[2], tenant)
      end
      out[#out + 1] = status
      out[#out + 1] = rid
      out[#out + 1] = job
      out[#out + 1] = token
      taken = taken + 1
    elseif redis.call('LLEN', q) == 0 then
      redis.call('ZREM', KEYS[2], tenant)
    end
  end
end
return out
