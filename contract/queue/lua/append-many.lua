-- append-many: append.lua for several requests in one call, on a single Redis only (the
-- keys span slots). The pool gathers the appends of one event-loop turn into it
-- (pool/queue/append-batcher.ts): one command and one reply instead of one per token.
--
-- KEYS[4i-3..4i]  out(rid_i), writeLease(rid_i), cancel(rid_i), pushTo(rid_i), i = 1..n
-- ARGV[1] leaseMs: a write lease refreshed here gets this TTL
-- ARGV[2] TTL in seconds for out(rid) and pushTo(rid) when they are refreshed (REQUEST_TTL_S)
-- ARGV[3..] per request, in KEYS order: owner token, last id, refresh, event count k, then
--           k ResponseEvent JSON (k = 0: only refresh the lease, and read the durable cancel key)
--   last id: the id of the stream's last entry as the caller knows it ("" = unknown: read
--           here). Only the write-lease holder adds entries, so a holder that saw every one
--           of its own writes' ids knows it without this script reading the stream back.
--   refresh: what to refresh besides writing. "0": nothing; "1": the write lease; "2": the
--           lease and the TTLs of out(rid) and pushTo(rid). The caller asks for the lease a
--           few times per lease period and for the TTLs at its first write and then at
--           intervals far below the TTL: a PEXPIRE per token, like the read-back and the two
--           EXPIREs per token before it, only repeated what the last write had done. A k = 0
--           call always refreshes the lease. A stream found missing (lost in a restart) is
--           created again with its TTL, never without one, and pushed as a new stream.
--
-- The new entries are also pushed to every edge channel in pushTo(rid) (keys.ts
-- edgeChannel), so the edge relays them without reading the stream. A stream's part is
-- "<out key>\n<id before them>\n<id>\n<json>[\n<id>\n<json>...]" (JSON.stringify never
-- writes a raw newline); the id before them ("0" for a new stream) lets the edge check
-- it missed nothing. A channel named as keys.ts edgeChannel names them now (":pushes")
-- gets one message per call: the parts of every stream it relays, joined by an empty
-- line (one SPUBLISH and one message for the edge per turn, not one per token). An older
-- edge's channel (":push") gets one message per stream, as before. These channels are
-- outside the script's slot: one Redis only.
--
-- Returns one reply per request, decided as append.lua does: the id of its last new
-- entry (written), 1 (a lease refreshed), 0 fenced (the caller no longer holds the lease:
-- nothing written), -1 cancelled (a lease refresh whose request has its cancel key set).
local leaseMs, ttl = ARGV[1], ARGV[2]
local out = {}
-- channel -> the parts of this call for it (channels that take several streams per message)
local parts = {}
local channels = {}
local a = 3
for i = 1, #KEYS / 4 do
  local stream, lease, cancel, push = KEYS[4 * i - 3], KEYS[4 * i - 2], KEYS[4 * i - 1], KEYS[4 * i]
  local token, before, refresh, k = ARGV[a], ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3])
  a = a + 4
  if redis.call('GET', lease) ~= token then
    out[i] = 0
  else
    if refresh ~= '0' or k == 0 then redis.call('PEXPIRE', lease, leaseMs) end
    if k == 0 then
      if redis.call('EXISTS', cancel) == 1 then out[i] = -1 else out[i] = 1 end
    else
      local ttls = refresh == '2'
      local id
      if not ttls then
        id = redis.call('XADD', stream, 'NOMKSTREAM', '*', 'e', ARGV[a])
        -- the stream is gone (lost in a restart): start it again, with its TTL
        if not id then ttls, before = true, '' end
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
      if ttls then redis.call('EXPIRE', stream, ttl) end
      if msg then
        local text = table.concat(msg, '\n')
        for _, ch in ipairs(edges) do
          if string.sub(ch, -7) == ':pushes' then
            local list = parts[ch]
            if list then
              list[#list + 1] = text
            else
              parts[ch] = { text }
              channels[#channels + 1] = ch
            end
          else
            redis.call('SPUBLISH', ch, text)
          end
        end
        if ttls then redis.call('EXPIRE', push, ttl) end
      end
      out[i] = id
    end
  end
  a = a + k
end
for _, ch in ipairs(channels) do redis.call('SPUBLISH', ch, table.concat(parts[ch], '\n\n')) end
return out
