-- settle: turn a request's reservation into its real usage, once. Refunds the
-- unused part of the reserved tokens in every scope's minute window and daily
-- counter, releases the concurrency lease, and adds the usage to the tenant's
-- daily usage counters. Idempotent: a second settle of the same rid is a no-op
-- (a pool that takes over a request after a crash may settle it again).
--
-- KEYS (5 per scope, as in admit.lua: reqWin, tokWin, tokAmt, conc, day),
--      then: res HASH | resExp ZSET | usage HASH (today's usage counters for the tenant)
-- ARGV: rid, charged_tokens (prompt + completion actually used), n_scopes,
--       prompt_tokens, completion_tokens, cached_tokens, usage_ttl_s,
--       count_request (1 = the request ran and counts in usage; 0 = it never reached the queue)
-- Returns: 1 if settled now, 0 if it had already been settled (or never admitted).
local rid = ARGV[1]
local charged = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local res_key, res_exp, usage = KEYS[n*5+1], KEYS[n*5+2], KEYS[n*5+3]

local record = redis.call('HGET', res_key, rid)
if not record then return 0 end
local reserved = tonumber(cjson.decode(record).reserved) or 0
local delta = charged - reserved

for s = 0, n - 1 do
  local tokamt, conc, day = KEYS[s*5+3], KEYS[s*5+4], KEYS[s*5+5]
  -- Only adjust the minute window if the admission is still inside it.
  if redis.call('HEXISTS', tokamt, rid) == 1 then
    redis.call('HSET', tokamt, rid, charged)
    redis.call('HINCRBY', tokamt, '@sum', delta)
  end
  redis.call('ZREM', conc, rid)
  if redis.call('EXISTS', day) == 1 then redis.call('INCRBY', day, delta) end
end
redis.call('HDEL', res_key, rid)
redis.call('ZREM', res_exp, rid)

if ARGV[8] ~= '0' then redis.call('HINCRBY', usage, 'requests', 1) end
redis.call('HINCRBY', usage, 'prompt_tokens', tonumber(ARGV[4]))
redis.call('HINCRBY', usage, 'completion_tokens', tonumber(ARGV[5]))
redis.call('HINCRBY', usage, 'cached_tokens', tonumber(ARGV[6]))
redis.call('EXPIRE', usage, tonumber(ARGV[7]))
return 1
