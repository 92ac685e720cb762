-- stored-create: keep a new Responses API response (pending: its input and the
-- in-progress response object) for one tenant, within the tenant's storage limit.
-- Edge only; slot {rs:<tenant>}.
--
-- KEYS[1] record  HASH r = response JSON, i = input items JSON, s = "pending" | "done"
-- KEYS[2] expiry  ZSET id -> expiry (ms) of each stored response of the tenant
-- KEYS[3] bytes   HASH id -> stored bytes, "@sum" -> the tenant's total
-- ARGV[1] id, ARGV[2] now (ms), ARGV[3] ttl (s), ARGV[4] byte limit (-1 = none)
-- ARGV[5] response JSON, ARGV[6] input items JSON
--
-- Records expire on their own (TTL); the bytes they held are given back here,
-- lazily, when their expiry has passed. Returns { 1, total after } when stored,
-- { 0, total now } when the tenant's total plus this record would exceed the limit
-- (nothing is written).
local id, now, ttl, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, old in ipairs(gone) do
  local n = tonumber(redis.call('HGET', KEYS[3], old)) or 0
  redis.call('HINCRBY', KEYS[3], '@sum', -n)
  redis.call('HDEL', KEYS[3], old)
end
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end
local sum = tonumber(redis.call('HGET', KEYS[3], '@sum')) or 0
local size = #ARGV[5] + #ARGV[6]
if limit >= 0 and sum + size > limit then return { 0, sum } end
redis.call('HSET', KEYS[1], 'r', ARGV[5], 'i', ARGV[6], 's', 'pending')
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now + ttl * 1000, id)
redis.call('HSET', KEYS[3], id, size)
redis.call('HINCRBY', KEYS[3], '@sum', size)
-- The index lives as long as its newest record.
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('EXPIRE', KEYS[3], ttl)
return { 1, sum + size }
