-- append: add response events to a request's stream, fenced by its write lease. README step 3.
--
-- KEYS[1] out(rid)         STREAM of ResponseEvent entries (field "e")
-- KEYS[2] writeLease(rid)  STRING owner token allowed to write
-- KEYS[3] cancel(rid)      STRING set when the client cancelled (read only on a lease refresh)
-- KEYS[4] pushTo(rid)      SET of edge channels the new entries are pushed to, as append-many.lua
--                          pushes them (a single Redis; on a cluster no edge registers one)
-- ARGV[1] owner token of the caller
-- ARGV[2] leaseMs: the write lease's TTL is refreshed to this on every call
-- ARGV[3] TTL in seconds for out(rid) after this write (REQUEST_TTL_S)
-- ARGV[4] shard channel to SPUBLISH "1" on after writing (keys.ts streamChannel: same {r:<rid>}
--         slot), so an edge on a Redis Cluster reads the stream at once; "" = no message
--         (a single Redis: the entries are pushed to the edges in pushTo(rid) instead)
-- ARGV[5..] ResponseEvent JSON, one stream entry each (none = only refresh the lease)
--
-- Returns the array of new entry ids (empty when no events were given), or the integer 0
-- when the caller no longer holds the lease (missing or another owner): a pool presumed
-- dead must not write after another pool took the request over. A lease refresh (no
-- events) returns the integer -1 when the request was cancelled: the durable copy of the
-- cancel message, for a pool that missed it (e.g. its subscriber was reconnecting).
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[2], ARGV[2])
if #ARGV < 5 and KEYS[3] and redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
local ids = {}
if #ARGV < 5 then return ids end
local edges = redis.call('SMEMBERS', KEYS[4])
local msg
if #edges > 0 then
  local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
  msg = { KEYS[1], last and last[1] or '0' }
end
for i = 5, #ARGV do
  ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', 'e', ARGV[i])
  if msg then
    msg[#msg + 1] = ids[#ids]
    msg[#msg + 1] = ARGV[i]
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
if ARGV[4] ~= '' then redis.call('SPUBLISH', ARGV[4], '1') end
if msg then
  local text = table.concat(msg, '\n')
  for _, ch in ipairs(edges) do redis.call('SPUBLISH', ch, text) end
  redis.call('EXPIRE', KEYS[4], ARGV[3])
end
return ids
