-- stored-delete: delete one stored response and give its bytes back to the tenant.
-- Edge only; slot {rs:<tenant>}.
--
-- KEYS[1] record, KEYS[2] expiry, KEYS[3] bytes (as in stored-create.lua)
-- ARGV[1] id
-- Returns 1 when deleted, 0 when there was no such record.
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
local n = tonumber(redis.call('HGET', KEYS[3], ARGV[1])) or 0
redis.call('HINCRBY', KEYS[3], '@sum', -n)
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
