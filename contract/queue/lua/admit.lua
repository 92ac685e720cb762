-- admit: check and take one request against every quota scope that applies
-- (the tenant, then its API key), atomically, so any number of edge replicas
-- sharing Redis never admit more than a limit.
--
-- Windows are sliding 60 s logs (exact: within any 60 s, admitted <= limit);
-- a reservation is later settled to the real usage (settle.lua), which lowers
-- the window's sum by the unused part.
--
-- KEYS (5 per scope, scopes in ARGV order, then 2 for the tenant's reservations):
--   per scope s: reqWin ZSET rid->admit ms | tokWin ZSET rid->admit ms |
--                tokAmt HASH rid->tokens, "@sum"->total | conc ZSET rid->lease expiry ms |
--                day STRING tokens charged today (UTC)
--   then: res HASH rid->reservation JSON | resExp ZSET rid->expiry ms
--   then, optional (a single Redis): the API key's record STRING (the key guard)
-- ARGV: now_ms, rid, reserve_tokens, lease_ms, day_ttl_s, reservation_json, n_scopes,
--       then per scope: rpm, tpm, max_concurrent, tokens_per_day (-1 = no limit),
--       then, with the key guard: the record's JSON as the edge last read it
-- Reset times are ms until the oldest admission leaves the window (when remaining next grows).
-- Returns: { ok (1|0), reason ("" | "requests" | "tokens" | "concurrency" | "daily_tokens" | "too_large" | "stale_key"),
--            retry_after_ms, limit_req, remaining_req, reset_req_ms, limit_tok, remaining_tok, reset_tok_ms }
--   (limit -1 = no limit in any scope; numbers are for the tightest scope)
local now = tonumber(ARGV[1])
local rid = ARGV[2]
local reserve = tonumber(ARGV[3])
local lease = tonumber(ARGV[4])
local day_ttl = tonumber(ARGV[5])
local resjson = ARGV[6]
local n = tonumber(ARGV[7])
local WINDOW = 60000
local horizon = now - WINDOW
local res_key = KEYS[n * 5 + 1]
local res_exp = KEYS[n * 5 + 2]

-- The key guard: the edge admits with an API-key record it read earlier. A record
-- that changed since or is gone (revoked, deleted, new limits) refuses with
-- "stale_key" before anything is touched; the edge reads it again and decides.
local guard = KEYS[n * 5 + 3]
if guard and redis.call('GET', guard) ~= ARGV[8 + n * 4] then
  return { 0, 'stale_key', 0, -1, 0, 0, -1, 0, 0 }
end

-- Reservations whose holder died without settling: drop the record (tokens
-- stay charged as reserved; the concurrency lease expires on its own).
local stale = redis.call('ZRANGEBYSCORE', res_exp, '-inf', now)
for _, r in ipairs(stale) do redis.call('HDEL', res_key, r) end
if #stale > 0 then redis.call('ZREMRANGEBYSCORE', res_exp, '-inf', now) end

local function prune_tokens(tokwin, tokamt)
  local old = redis.call('ZRANGEBYSCORE', tokwin, '-inf', horizon)
  if #old == 0 then return end
  local total = 0
  for _, r in ipairs(old) do
    total = total + (tonumber(redis.call('HGET', tokamt, r)) or 0)
    redis.call('HDEL', tokamt, r)
  end
  redis.call('HINCRBY', tokamt, '@sum', -total)
  redis.call('ZREMRANGEBYSCORE', tokwin, '-inf', horizon)
end

-- ms until enough of the window's tokens leave it for `need` more to fit under `limit`
local function tokens_free_in(tokwin, tokamt, sum, limit, need)
  local excess = sum + need - limit
  if excess <= 0 then return 0 end
  local entries = redis.call('ZRANGE', tokwin, 0, -1, 'WITHSCORES')
  for i = 1, #entries, 2 do
    excess = excess - (tonumber(redis.call('HGET', tokamt, entries[i])) or 0)
    if excess <= 0 then return tonumber(entries[i + 1]) + WINDOW - now end
  end
  return WINDOW
end

local best = { lreq = -1, rreq = -1, treq = 0, ltok = -1, rtok = -1, ttok = 0 }
local fail, retry = '', 0
for s = 0, n - 1 do
  local reqwin, tokwin, tokamt, conc, day = KEYS[s*5+1], KEYS[s*5+2], KEYS[s*5+3], KEYS[s*5+4], KEYS[s*5+5]
  local rpm, tpm = tonumber(ARGV[8 + s*4]), tonumber(ARGV[9 + s*4])
  local maxc, tpd = tonumber(ARGV[10 + s*4]), tonumber(ARGV[11 + s*4])
  redis.call('ZREMRANGEBYSCORE', reqwin, '-inf', horizon)
  prune_tokens(tokwin, tokamt)
  redis.call('ZREMRANGEBYSCORE', conc, '-inf', now)

  local count = redis.call('ZCARD', reqwin)
  local sum = tonumber(redis.call('HGET', tokamt, '@sum')) or 0
  if rpm >= 0 then
    local oldest = redis.call('ZRANGE', reqwin, 0, 0, 'WITHSCORES')
    local reset = oldest[2] and (tonumber(oldest[2]) + WINDOW - now) or 0
    local remaining = rpm - count
    if best.lreq < 0 or remaining < best.rreq then best.lreq, best.rreq, best.treq = rpm, remaining, reset end
    if fail == '' and count + 1 > rpm then fail, retry = 'requests', reset end
  end
  if tpm >= 0 then
    local remaining = tpm - sum
    local oldest = redis.call('ZRANGE', tokwin, 0, 0, 'WITHSCORES')
    local reset = oldest[2] and (tonumber(oldest[2]) + WINDOW - now) or 0
    if best.ltok < 0 or remaining < best.rtok then best.ltok, best.rtok, best.ttok = tpm, remaining, reset end
    if fail == '' and reserve > tpm then fail, retry = 'too_large', 0
    elseif fail == '' and sum + reserve > tpm then fail, retry = 'tokens', tokens_free_in(tokwin, tokamt, sum, tpm, reserve) end
  end
  if fail == '' and maxc >= 0 and redis.call('ZCARD', conc) + 1 > maxc then
    fail, retry = 'concurrency', 1000
  end
  if fail == '' and tpd >= 0 then
    local used = tonumber(redis.call('GET', day)) or 0
    if used + reserve > tpd then fail, retry = 'daily_tokens', 0 end
  end
end

if fail ~= '' then
  return { 0, fail, retry, best.lreq, math.max(best.rreq, 0), best.treq, best.ltok, math.max(best.rtok, 0), best.ttok }
end

for s = 0, n - 1 do
  local reqwin, tokwin, tokamt, conc, day = KEYS[s*5+1], KEYS[s*5+2], KEYS[s*5+3], KEYS[s*5+4], KEYS[s*5+5]
  redis.call('ZADD', reqwin, now, rid)
  redis.call('ZADD', tokwin, now, rid)
  redis.call('HSET', tokamt, rid, reserve)
  redis.call('HINCRBY', tokamt, '@sum', reserve)
  redis.call('ZADD', conc, now + lease, rid)
  redis.call('INCRBY', day, reserve)
  for _, k in ipairs({ reqwin, tokwin, tokamt }) do redis.call('PEXPIRE', k, WINDOW * 2) end
  redis.call('PEXPIRE', conc, lease * 2)
  redis.call('EXPIRE', day, day_ttl)
end
redis.call('HSET', res_key, rid, resjson)
redis.call('ZADD', res_exp, now + lease, rid)

if best.rreq >= 0 then best.rreq = best.rreq - 1 end
if best.rtok >= 0 then best.rtok = math.max(best.rtok - reserve, 0) end
if best.lreq >= 0 and best.treq == 0 then best.treq = WINDOW end
if best.ltok >= 0 and best.ttok == 0 then best.ttok = WINDOW end
return { 1, '', 0, best.lreq, best.rreq, best.treq, best.ltok, best.rtok, best.ttok }
