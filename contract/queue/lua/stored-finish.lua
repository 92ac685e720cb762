-- stored-finish: replace a pending stored response with its final object, once.
-- Edge only; slot {rs:<tenant>}. The output is kept even if it takes the tenant
-- past its limit (the limit is checked when a response is created).
--
-- KEYS[1] record, KEYS[2] bytes (as in stored-create.lua)
-- ARGV[1] id, ARGV[2] final response JSON
-- Returns 1 when written, 0 when the record is gone (deleted, expired) or already final.
if redis.call('HGET', KEYS[1], 's') ~= 'pending' then return 0 end
local old = redis.call('HSTRLEN', KEYS[1], 'r')
redis.call('HSET', KEYS[1], 'r', ARGV[2], 's', 'done')
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then
  local delta = #ARGV[2] - old
  redis.call('HINCRBY', KEYS[2], ARGV[1], delta)
  redis.call('HINCRBY', KEYS[2], '@sum', delta)
end
return 1
