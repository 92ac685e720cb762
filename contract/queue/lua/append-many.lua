-- append-many: append.lua for several requests in one call, on a single Redis only (the
-- keys span slots). The pool gathers the appends of one event-loop turn into it
-- (pool/queue/append-batcher.ts): one command and one reply instead of one per token.
--
-- KEYS[4i-3..4i]  out(rid_i), writeLease(rid_i), cancel(rid_i), pushTo(rid_i), i = 1..n
-- ARGV[1] leaseMs: each write lease's TTL is refreshed to this
-- ARGV[2] TTL in seconds for out(rid) and pushTo(rid) when they are refreshed (REQUEST_TTL_S)
-- ARGV[3..] per request, in KEYS order: owner token, last id, refresh, event count k, then
--           k ResponseEvent JSON (k = 0: only refresh the lease, and read the durable cancel key)
--   last id: the id of the stream's last entry as the caller knows it ("" = unknown: read
--           here). Only the write-lease holder adds entries, so a holder that saw every one
--           of its own writes' ids knows it without this script reading the stream back.
--   refresh: "1" = refresh the TTLs of out(rid) and pushTo(rid) now; the caller asks at
--           its first write and then at intervals far below the TTL (the read-back and the
--           two EXPIREs per token were ~40% of this script's time). A stream found missing
--           (lost in a restart) is created again with its TTL, never without one, and
--           pushed as a new stream.
--
-- The new entries are also pushed to every edge channel in pushTo(rid) (keys.ts
-- edgeChannel), so the edge relays them without reading the stream. The message is
-- "<out key>\n<id before them>\n<id>\n<json>[\n<id>\n<json>...]" (JSON.stringify never
-- writes a raw newline); the id before them ("0" for a new stream) lets the edge check
-- it missed nothing. These channels are outside the script's slot: one Redis only.
--
-- Returns one reply per request, decided as append.lua does: the id of its last new
-- entry (written), 1 (a lease refreshed), 0 fenced (the caller no longer holds the lease:
-- nothing written), -1 cancelled (a lease refresh whose request has its cancel key set).
local leaseMs, ttl = ARGV[1], ARGV[2]
local out = {}
local a = 3
for i = 1, #KEYS / 4 do
  local stream, lease, cancel, push = KEYS[4 * i - 3], KEYS[4 * i - 2], KEYS[4 * i - 1], KEYS[4 * i]
  local token, before, refresh, k = ARGV[a], ARGV[a + 1], ARGV[a + 2] == '1', tonumber(ARGV[a + 3])
  a = a + 4
  if redis.call('GET', lease) ~= token then
    out[i] = 0
  else
    redis.call('PEXPIRE', lease, leaseMs)
    if k == 0 then
      if redis.call('EXISTS', cancel) == 1 then out[i] = -1 else out[i] = 1 end
    else
      local id
      if not refresh then
        id = redis.call('XADD', stream, 'NOMKSTREAM', '*', 'e', ARGV[a])
        -- the stream is gone (lost in a restart): start it again, with its TTL
        if not id then refresh, before = true, '' end
      end
      if not id then
        -- a refresh write: the caller's last id tells nothing of a stream that is gone
        if before ~= '' and redis.call('EXISTS', stream) == 0 then before = '' end
        id = redis.call('XADD', stream, '*', 'e', ARGV[a])
      end
      local edges = redis.call('SMEMBERS', push)
      local msg
      if #edges > 0 then
        if before == '' then
          local prev = redis.call('XREVRANGE', stream, '(' .. id, '-', 'COUNT', 1)[1]
          before = prev and prev[1] or '0'
        end
        msg = { stream, before, id, ARGV[a] }
      end
      for j = a + 1, a + k - 1 do
        id = redis.call('XADD', stream, '*', 'e', ARGV[j])
        if msg then
          msg[#msg + 1] = id
          msg[#msg + 1] = ARGV[j]
        end
      end
      if refresh then redis.call('EXPIRE', stream, ttl) end
      if msg then
        local text = table.concat(msg, '\n')
        for _, ch in ipairs(edges) do redis.call('SPUBLISH', ch, text) end
        if refresh then redis.call('EXPIRE', push, ttl) end
      end
      out[i] = id
    end
  end
  a = a + k
end
return out
