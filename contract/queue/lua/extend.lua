-- extend: push back the lease expiry of every job a pool holds. README step 4.
--
-- KEYS[1] leases  ZSET rid -> lease expiry (ms)
-- KEYS[2] owners  HASH rid -> owner token
-- ARGV[1] leaseMs
-- ARGV[2..] pairs: rid, owner token
--
-- Returns the rids whose owner is no longer the given token (reaped or re-claimed
-- elsewhere): the pool must stop working on them without writing or acking.
local t = redis.call('TIME')
local expiry = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
local lost = {}
for i = 2, #ARGV, 2 do
  local rid, token = ARGV[i], ARGV[i + 1]
  if redis.call('HGET', KEYS[2], rid) == token then
    redis.call('ZADD', KEYS[1], expiry, rid)
  else
    lost[#lost + 1] = rid
  end
end
return lost
