-- ack: settle a job after its terminal done/error event was appended. README step 5.
--
-- KEYS[1] jobs    HASH rid -> Job JSON
-- KEYS[2] leases  ZSET rid -> lease expiry
-- KEYS[3] owners  HASH rid -> owner token
-- ARGV[1] rid
-- ARGV[2] owner token of the caller
--
-- Returns 1 when settled, 0 when the caller is not the owner (nothing is changed:
-- the job belongs to whoever claimed it last).
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
