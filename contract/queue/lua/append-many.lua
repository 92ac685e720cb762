-- append-many: append.lua for several requests in one call, on a single Redis only (the
-- keys span slots). The pool gathers the appends of one event-loop turn into it
-- (pool/queue/append-batcher.ts): one command and one reply instead of one per token.
--
-- KEYS[4i-3..4i]  out(rid_i), writeLease(rid_i), cancel(rid_i), pushTo(rid_i), i = 1..n
-- ARGV[1] leaseMs: each write lease's TTL is refreshed to this
-- ARGV[2] TTL in seconds for out(rid) after a write (REQUEST_TTL_S)
-- ARGV[3..] per request, in KEYS order: owner token, event count k, then k ResponseEvent JSON
--           (k = 0: only refresh the lease, and read the durable cancel key)
--
-- The new entries are also pushed to every edge channel in pushTo(rid) (keys.ts
-- edgeChannel), so the edge relays them without reading the stream. The message is
-- "<out key>\n<id before them>\n<id>\n<json>[\n<id>\n<json>...]" (JSON.stringify never
-- writes a raw newline); the id before them ("0" for a new stream) lets the edge check
-- it missed nothing. These channels are outside the script's slot: one Redis only.
--
-- Returns one integer per request, decided exactly as append.lua does: 1 written (or lease
-- refreshed), 0 fenced (the caller no longer holds the lease: nothing written), -1 cancelled
-- (a lease refresh whose request has its cancel key set).
local leaseMs, ttl = ARGV[1], ARGV[2]
local out = {}
local a = 3
for i = 1, #KEYS / 4 do
  local stream, lease, cancel, push = KEYS[4 * i - 3], KEYS[4 * i - 2], KEYS[4 * i - 1], KEYS[4 * i]
  local token, k = ARGV[a], tonumber(ARGV[a + 1])
  a = a + 2
  if redis.call('GET', lease) ~= token then
    out[i] = 0
  else
    redis.call('PEXPIRE', lease, leaseMs)
    if k == 0 then
      if redis.call('EXISTS', cancel) == 1 then out[i] = -1 else out[i] = 1 end
    else
      local edges = redis.call('SMEMBERS', push)
      local msg
      if #edges > 0 then
        local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
        msg = { stream, last and last[1] or '0' }
      end
      for j = a, a + k - 1 do
        local id = redis.call('XADD', stream, '*', 'e', ARGV[j])
        if msg then
          msg[#msg + 1] = id
          msg[#msg + 1] = ARGV[j]
        end
      end
      redis.call('EXPIRE', stream, ttl)
      if msg then
        local text = table.concat(msg, '\n')
        for _, ch in ipairs(edges) do redis.call('SPUBLISH', ch, text) end
        redis.call('EXPIRE', push, ttl)
      end
      out[i] = 1
    end
  end
  a = a + k
end
return out
