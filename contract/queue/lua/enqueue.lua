-- enqueue: queue one request for a model, fairly per tenant (edge, slot {q:<model>}).
-- KEYS[1] jobs           HASH rid -> Job JSON
-- KEYS[2] tenantQueue    LIST of the tenant's waiting rids
-- KEYS[3] activeTenants  ZSET tenant -> virtual start time (tenants with waiting work)
-- KEYS[4] virtualTimes   HASH tenant -> last virtual finish time, "@now" -> queue clock
-- ARGV[1] rid
-- ARGV[2] Job JSON
-- ARGV[3] tenant id
-- ARGV[4] max queued requests for this tenant (0 = unlimited)
-- ARGV[5] wake shard channel (keys.ts wakeChannel: same {q:<model>} slot as KEYS), ARGV[6] model:
--         pools idling on the channel claim at once
-- Optional gate (a single Redis, where the edge sends admit.lua, the request's meta and
-- this script in one pipeline):
-- KEYS[5] the tenant's reservations HASH, where admit.lua records the rid it admits
-- KEYS[6..] the keys the pipeline wrote for this request before it (meta, push registration)
-- Returns the request's position in the tenant's list (1 = next), -1 when
-- the tenant's list is at its cap (nothing written: the edge answers 429), or -2
-- when the gate's admission refused the request (KEYS[6..] deleted, nothing queued).
if KEYS[5] and redis.call('HEXISTS', KEYS[5], ARGV[1]) == 0 then
  if KEYS[6] then redis.call('DEL', unpack(KEYS, 6)) end
  return -2
end
local max = tonumber(ARGV[4]) or 0
if max > 0 and redis.call('LLEN', KEYS[2]) >= max then
  return -1
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local len = redis.call('RPUSH', KEYS[2], ARGV[1])
-- An idle tenant re-enters at max(its last finish, the queue clock): it cannot
-- bank credit while idle, and it is not punished for having been busy long ago.
if redis.call('ZSCORE', KEYS[3], ARGV[3]) == false then
  local last = tonumber(redis.call('HGET', KEYS[4], ARGV[3])) or 0
  local now = tonumber(redis.call('HGET', KEYS[4], '@now')) or 0
  local start = last
  if now > start then start = now end
  redis.call('ZADD', KEYS[3], start, ARGV[3])
end
redis.call('SPUBLISH', ARGV[5], ARGV[6])
return len
