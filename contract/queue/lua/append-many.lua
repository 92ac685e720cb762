-- append-many: append.lua for several requests in one call, on a single Redis only (the
-- keys span slots). The pool gathers the appends of one event-loop turn into it
-- (pool/queue/append-batcher.ts): one command and one reply instead of one per token.
--
-- KEYS[3i-2], KEYS[3i-1], KEYS[3i]  out(rid_i), writeLease(rid_i), cancel(rid_i), i = 1..n
-- ARGV[1] leaseMs: each write lease's TTL is refreshed to this
-- ARGV[2] TTL in seconds for out(rid) after a write (REQUEST_TTL_S)
-- ARGV[3..] per request, in KEYS order: owner token, event count k, then k ResponseEvent JSON
--           (k = 0: only refresh the lease, and read the durable cancel key)
--
-- Returns one integer per request, decided exactly as append.lua does: 1 written (or lease
-- refreshed), 0 fenced (the caller no longer holds the lease: nothing written), -1 cancelled
-- (a lease refresh whose request has its cancel key set).
local leaseMs, ttl = ARGV[1], ARGV[2]
local out = {}
local a = 3
for i = 1, #KEYS / 3 do
  local stream, lease, cancel = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local token, k = ARGV[a], tonumber(ARGV[a + 1])
  a = a + 2
  if redis.call('GET', lease) ~= token then
    out[i] = 0
  else
    redis.call('PEXPIRE', lease, leaseMs)
    if k == 0 then
      if redis.call('EXISTS', cancel) == 1 then out[i] = -1 else out[i] = 1 end
    else
      for j = a, a + k - 1 do
        redis.call('XADD', stream, '*', 'e', ARGV[j])
      end
      redis.call('EXPIRE', stream, ttl)
      out[i] = 1
    end
  end
  a = a + k
end
return out
