// The edge's per-process memos and caches (key hashes, key records, tenant records) are
// bounded, so a flood of distinct keys cannot grow a process without end: at `max`
// entries the oldest goes first.

/** Sets `key` as the newest entry of `map`, dropping the oldest one when `map` already holds `max`. */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key); // re-inserted last: the Map's order is the eviction order
  if (map.size >= max) map.delete(map.keys().next().value as K);
  map.set(key, value);
}
