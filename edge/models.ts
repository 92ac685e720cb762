// The models the edge accepts are exactly those some live pool serves: pools
// heartbeat into keys.pools() (score = expiry ms) and keys.pool(id). Cached
// briefly per process/isolate so every completion does not re-read the registry.
import type { Redis } from "ioredis";
import { keys } from "../contract/queue/keys.js";
import { PoolInfoSchema } from "../contract/queue/messages.js";
import { PromptLengthBounds, type PromptBoundsData } from "../contract/prompt-bounds.js";
import { STALE_CACHES } from "./stale-while-refresh.js";

export interface ServedModel {
  id: string;
  /** seconds since epoch: when the oldest pool serving it started */
  created: number;
  /** prompt + output tokens the model takes (the smallest any pool reports), when pools report it */
  contextLength?: number;
  /** the tokenizer's longest token in bytes (the largest any pool reports): prompts have at least bytes / this tokens */
  maxTokenBytes?: number;
  /** the tokenizer's length bounds, when every pool serving the model reports the same ones */
  bounds?: PromptLengthBounds;
  /** what `bounds` was compiled from (sent to the Node edge's body-check threads) */
  boundsData?: PromptBoundsData;
}

/** Compiled bounds by their data's JSON: the registry is re-read every few seconds, the regexes compile once. */
const compiledBounds = new Map<string, PromptLengthBounds | null>();
export function compileBounds(json: string, data: PromptBoundsData): PromptLengthBounds | undefined {
  let b = compiledBounds.get(json);
  if (b === undefined) {
    try {
      b = new PromptLengthBounds(data);
    } catch {
      b = null; // a regex this runtime cannot compile: go without (the pool still checks)
    }
    if (compiledBounds.size > 64) compiledBounds.clear();
    compiledBounds.set(json, b);
  }
  return b ?? undefined;
}

export class ModelRegistry {
  private cache: { at: number; models: ServedModel[] } | null = null;
  /**
   * The read in flight, per connection: when the cache expires under load, the requests
   * of that moment share one read instead of each parsing every pool's info (a burst of
   * 64 stalled the Node edge's event loop for tens of ms). Per connection, because a
   * Worker's connection (and any promise its I/O settles) belongs to one request.
   */
  private reading = new WeakMap<Redis, Promise<ServedModel[]>>();

  constructor(
    private readonly cacheMs: number,
    private readonly now: () => number,
  ) {}

  async list(redis: Redis): Promise<ServedModel[]> {
    const now = this.now();
    if (this.cache && now - this.cache.at < this.cacheMs) return this.cache.models;
    let read = this.reading.get(redis);
    if (!read) {
      read = this.read(redis, now).finally(() => this.reading.delete(redis));
      this.reading.set(redis, read);
    }
    return read;
  }

  private async read(redis: Redis, now: number): Promise<ServedModel[]> {
    const ids = await redis.zrangebyscore(keys.pools(), `(${now}`, "+inf");
    const models = new Map<string, number>();
    const contexts = new Map<string, number>();
    const tokenBytes = new Map<string, number>();
    // per model: the one bounds JSON every pool reports, or null when they differ or one has none
    const bounds = new Map<string, { json: string; data: PromptBoundsData } | null>();
    if (ids.length) {
      const infos = await redis.mget(...ids.map((id) => keys.pool(id)));
      for (const raw of infos) {
        if (raw === null) continue;
        let json: unknown;
        try {
          json = JSON.parse(raw);
        } catch {
          continue;
        }
        const info = PoolInfoSchema.safeParse(json);
        if (!info.success) continue;
        const created = Math.floor(info.data.started_at / 1000);
        for (const m of info.data.models) models.set(m, Math.min(models.get(m) ?? created, created));
        for (const [m, l] of Object.entries(info.data.model_limits)) {
          contexts.set(m, Math.min(contexts.get(m) ?? Infinity, l.context_length));
          // A pool that does not say makes the bound unknown for everyone (Infinity).
          tokenBytes.set(m, Math.max(tokenBytes.get(m) ?? 0, l.max_token_bytes ?? Infinity));
          const json = l.bounds ? JSON.stringify(l.bounds) : null;
          const seen = bounds.get(m);
          bounds.set(m, json === null || (seen !== undefined && seen?.json !== json) ? null : { json, data: l.bounds! });
        }
      }
    }
    const list = [...models]
      .map(([id, created]): ServedModel => {
        const m: ServedModel = contexts.has(id) ? { id, created, contextLength: contexts.get(id)! } : { id, created };
        const tb = tokenBytes.get(id);
        if (tb !== undefined && Number.isFinite(tb)) m.maxTokenBytes = tb;
        const b = bounds.get(id);
        const compiled = b ? compileBounds(b.json, b.data) : undefined;
        if (compiled) {
          m.bounds = compiled;
          m.boundsData = b!.data;
        }
        return m;
      })
      .sort((a, b) => a.id.localeCompare(b.id));
    this.cache = { at: now, models: list };
    return list;
  }

  async find(redis: Redis, id: string): Promise<ServedModel | null> {
    return (await this.list(redis)).find((m) => m.id === id) ?? null;
  }

  /**
   * find() for a request about to be queued: a list past its cacheMs (up to
   * STALE_CACHES of them) still answers while one read refreshes it, so a request
   * never waits for the registry (two round trips and every pool's info parsed: ~0.6 ms
   * of a request's TTFT here when the edge is quiet). A model such a list lacks is
   * looked up fresh, so a model that just appeared is served at once; one that just left
   * is queued as it would have been within cacheMs, and its request ends at the queue
   * deadline (no pool claims it).
   */
  async findForRequest(redis: Redis, id: string): Promise<ServedModel | null> {
    const cache = this.cache;
    const age = cache ? this.now() - cache.at : Infinity;
    if (cache && age >= this.cacheMs && age < this.cacheMs * STALE_CACHES) {
      const m = cache.models.find((x) => x.id === id);
      if (m) {
        this.list(redis).catch(() => {}); // the refresh (shared with the burst's other callers); a failure leaves the next caller to retry
        return m;
      }
    }
    return this.find(redis, id);
  }
}
