// In-memory fakes of the edge's ports (EdgeDeps), for tests that check the
// app's HTTP behaviour (auth, validation, error bodies) through app.request()
// in milliseconds. Behaviour that depends on Redis semantics (quotas, queue,
// streams) stays in the real-Redis tests beside these.
import type { Redis } from "ioredis";
import { keys } from "../../contract/queue/keys.js";
import type { ApiKeyRecord, PoolInfo } from "../../contract/queue/messages.js";
import { createApp, type EdgeConfigInput, type EdgeDeps } from "../../edge/app.js";
import type { ResponseStreamReader } from "../../edge/streams/reader.js";
import { sha256Hex } from "../../edge/tenants.js";

/** Strings and sorted sets in memory: the commands auth and the model list use (get, mget, zrangebyscore). */
export class FakeRedis {
  readonly strings = new Map<string, string>();
  readonly zsets = new Map<string, Map<string, number>>();
  /** every command name called, so a test can assert what was (not) touched */
  readonly calls: string[] = [];

  async get(key: string): Promise<string | null> {
    this.calls.push("get");
    return this.strings.get(key) ?? null;
  }
  async mget(...ks: (string | string[])[]): Promise<(string | null)[]> {
    this.calls.push("mget");
    return ks.flat().map((k) => this.strings.get(k) ?? null);
  }
  async zrangebyscore(key: string, min: string | number, max: string | number): Promise<string[]> {
    this.calls.push("zrangebyscore");
    const bound = (b: string | number, lo: boolean) => {
      const s = String(b);
      if (s === "+inf") return (x: number) => true;
      if (s === "-inf") return (x: number) => true;
      const open = s.startsWith("(");
      const v = Number(open ? s.slice(1) : s);
      return lo ? (x: number) => (open ? x > v : x >= v) : (x: number) => (open ? x < v : x <= v);
    };
    const lo = bound(min, true);
    const hi = bound(max, false);
    return [...(this.zsets.get(key) ?? new Map())].filter(([, s]) => lo(s) && hi(s)).sort((a, b) => a[1] - b[1]).map(([m]) => m);
  }
}

/** A stream reader for tests that never reach the pool: opening one is a test bug. */
export const noStreams: ResponseStreamReader = {
  open() {
    throw new Error("fake edge: no response streams in app.request() tests");
  },
};

export interface FakeEdge {
  app: ReturnType<typeof createApp>;
  redis: FakeRedis;
  /** registers a key for a tenant (and the tenant) */
  addKey(key: string, tenantId: string, record?: Partial<ApiKeyRecord>): Promise<void>;
  /** a live pool serving these models */
  addPool(id: string, models: string[]): void;
}

export function fakeEdge(config: EdgeConfigInput = {}, deps: Partial<EdgeDeps> = {}): FakeEdge {
  const redis = new FakeRedis();
  const app = createApp({
    redis: async () => ({ redis: redis as unknown as Redis, release() {} }),
    streams: noStreams,
    config: { modelCacheMs: 0, tenantCacheMs: 0, ...config },
    ...deps,
  });
  return {
    app,
    redis,
    async addKey(key, tenantId, record = {}) {
      const hash = await sha256Hex(key);
      redis.strings.set(keys.tenant(tenantId), JSON.stringify({ id: tenantId, name: tenantId, priority: 1, limits: {}, created_at: 0 }));
      const rec: ApiKeyRecord = {
        key_id: `key_${hash.slice(0, 12)}`,
        tenant_id: tenantId,
        name: "",
        created_at: 0,
        expires_at: null,
        revoked: false,
        models: null,
        limits: {},
        ...record,
      };
      redis.strings.set(keys.apiKey(hash), JSON.stringify(rec));
    },
    addPool(id, models) {
      const info: PoolInfo = { pool_id: id, models, workers: [], started_at: Date.now(), model_limits: {} };
      redis.strings.set(keys.pool(id), JSON.stringify(info));
      const z = redis.zsets.get(keys.pools()) ?? new Map<string, number>();
      z.set(id, Date.now() + 60_000);
      redis.zsets.set(keys.pools(), z);
    },
  };
}
