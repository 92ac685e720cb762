-- ping: sanity script used by tests of the script runner.
-- KEYS: none. ARGV[1]: a string. Returns ARGV[1].
return ARGV[1]
