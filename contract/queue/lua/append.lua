-- append: add response events to a request's stream, fenced by its write lease. README step 3.
--
-- KEYS[1] out(rid)         STREAM of ResponseEvent entries (field "e")
-- KEYS[2] writeLease(rid)  STRING owner token allowed to write
-- KEYS[3] cancel(rid)      STRING set when the client cancelled (read only on a lease refresh)
-- ARGV[1] owner token of the caller
-- ARGV[2] leaseMs: the write lease's TTL is refreshed to this on every call
-- ARGV[3] TTL in seconds for out(rid) after this write (REQUEST_TTL_S)
-- ARGV[4] shard channel to SPUBLISH "1" on after writing (keys.ts streamChannel: same {r:<rid>}
--         slot), so an edge on a Redis Cluster reads the stream at once; "" = no message
--         (a single Redis: the edge blocks on one XREAD over every open stream instead)
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
for i = 5, #ARGV do
  ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', 'e', ARGV[i])
end
if #ids > 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  if ARGV[4] ~= '' then redis.call('SPUBLISH', ARGV[4], '1') end
end
return ids
