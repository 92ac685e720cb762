// How long the edge's per-process caches (served models, tenant records) may still
// answer a request past their cache time: up to STALE_CACHES cache times, while one read
// refreshes them. A request then never waits for that read (one or two round trips and
// their parsing: ~0.6 ms here, one more Redis round trip for a Worker far from its Redis)
// unless the cache is older than that; a quiet edge serves one request from the old
// record, and the next from the new one.
export const STALE_CACHES = 10;
