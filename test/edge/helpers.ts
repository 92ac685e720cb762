// Shared setup for the edge tests: a private redis-server, a Node edge on a
// free port, seeded tenants, and a FakePool that plays the pool's side of the
// Redis contract (claim from the tenant list, append ResponseEvents to out(rid) with the
// pool's own append script, which also pushes them to the edge).
import type { Redis } from "ioredis";
import { pino } from "pino";
import { startNodeEdge, type NodeEdge } from "../../edge/entry-node.js";
import type { EdgeConfigInput } from "../../edge/config.js";
import { seedApiKey, type SeedApiKeyOptions } from "../../edge/tenants.js";
import { keys, REQUEST_TTL_S } from "../../contract/queue/keys.js";
import { runScript } from "../../contract/queue/lua/index.js";
import { JobSchema, type ErrorInfo, type Job, type ResponseEvent, type Usage } from "../../contract/queue/messages.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";

export const MODEL = "test-model";

export interface EdgeHarness {
  redis: RedisServer;
  /** a command client for the test's own use */
  r: Redis;
  edge: NodeEdge;
  pool: FakePool;
  seed(opts: SeedApiKeyOptions): Promise<void>;
  stop(): Promise<void>;
}

export async function startHarness(config: EdgeConfigInput = {}): Promise<EdgeHarness> {
  const redis = await startRedis();
  const r = redis.client();
  await registerPool(r, "pool-1", [MODEL]);
  const edge = await startNodeEdge({
    redisUrl: redis.url,
    port: 0,
    config: { modelCacheMs: 0, ...config },
    logger: pino({ level: process.env.EDGE_TEST_LOG ?? "silent" }),
  });
  const pool = new FakePool(redis);
  return {
    redis,
    r,
    edge,
    pool,
    async seed(opts) {
      await seedApiKey(r, opts);
    },
    async stop() {
      await edge.close();
      await redis.stop();
    },
  };
}

export interface RedisOnly {
  redis: RedisServer;
  r: Redis;
  seed(opts: SeedApiKeyOptions): Promise<void>;
  stop(): Promise<void>;
}

/** Just the private Redis (for tests that build the app themselves). */
export async function startHarnessRedisOnly(): Promise<RedisOnly> {
  const redis = await startRedis();
  const r = redis.client();
  return {
    redis,
    r,
    async seed(opts) {
      await seedApiKey(r, opts);
    },
    stop: () => redis.stop(),
  };
}

/** The context length the harness's pool reports for its models. */
export const CONTEXT_LENGTH = 8192;

/** Registers a live pool in the registry, as a pool's heartbeat does. */
export async function registerPool(r: Redis, poolId: string, models: string[], ttlMs = 60_000): Promise<void> {
  const model_limits = Object.fromEntries(models.map((m) => [m, { context_length: CONTEXT_LENGTH }]));
  await r.set(keys.pool(poolId), JSON.stringify({ pool_id: poolId, models, workers: [], started_at: Date.now(), model_limits }), "PX", ttlMs);
  await r.zadd(keys.pools(), Date.now() + ttlMs, poolId);
}

const FAKE_TOKEN = "fake-pool:1";

/** The pool's side of the contract, driven step by step by a test. */
export class FakePool {
  private readonly blocking: Redis;
  private readonly r: Redis;

  constructor(redis: RedisServer) {
    this.blocking = redis.client();
    this.r = redis.client();
  }

  /** Waits for the tenant's next queued request and claims it (owner + lease), like claim.lua. */
  async claim(tenant: string, model = MODEL, timeoutS = 10): Promise<Job> {
    const res = await this.blocking.blpop(keys.tenantQueue(model, tenant), timeoutS);
    if (!res) throw new Error(`no job for tenant ${tenant} within ${timeoutS}s`);
    const rid = res[1];
    const raw = await this.r.hget(keys.jobs(model), rid);
    const job = JobSchema.parse(JSON.parse(raw!));
    await this.r.hset(keys.owners(model), rid, FAKE_TOKEN);
    await this.r.zadd(keys.leases(model), Date.now() + 30_000, rid);
    return job;
  }

  /**
   * Appends one ResponseEvent as the pool does (append.lua under this fake pool's write
   * lease, so the entry is pushed to the edges relaying it); returns the entry id (what the
   * client sees as the SSE id).
   */
  async write(rid: string, ev: ResponseEvent): Promise<string> {
    await this.r.set(keys.writeLease(rid), FAKE_TOKEN, "PX", 30_000);
    const ids = await runScript<string[]>(this.r, "append", [keys.out(rid), keys.writeLease(rid), keys.cancel(rid), keys.pushTo(rid)], [FAKE_TOKEN, 30_000, REQUEST_TTL_S, "", JSON.stringify(ev)]);
    return ids[0]!;
  }

  chunk(rid: string, text: string, finish: "stop" | "length" | null = null, index = 0): Promise<string> {
    return this.write(rid, { type: "chunk", choices: [{ index, text, token_ids: [1], finish_reason: finish }] });
  }

  done(rid: string, usage: Usage = { prompt_tokens: 7, completion_tokens: 3, cached_tokens: 2 }): Promise<string> {
    return this.write(rid, { type: "done", usage });
  }

  error(rid: string, error: ErrorInfo): Promise<string> {
    return this.write(rid, { type: "error", error });
  }

  /** Serves one whole request of `tenant`: claims it, writes `texts` as chunks (last one finishing), then done. */
  async serve(tenant: string, texts: string[], usage?: Usage, model = MODEL): Promise<Job> {
    const job = await this.claim(tenant, model);
    for (let i = 0; i < texts.length; i++) await this.chunk(job.id, texts[i]!, i === texts.length - 1 ? "stop" : null);
    await this.done(job.id, usage);
    return job;
  }
}

export interface SseItem {
  /** "comment" for ": ..." lines, else an event */
  kind: "comment" | "event";
  id?: string;
  data?: string;
  comment?: string;
}

/** Incremental SSE parser over a fetch Response body. */
export class SseReader {
  private buf = "";
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly dec = new TextDecoder();
  private queue: SseItem[] = [];
  ended = false;

  constructor(res: Response) {
    this.reader = res.body!.getReader();
  }

  /** Next comment or event; null at the end of the stream. */
  async next(): Promise<SseItem | null> {
    while (this.queue.length === 0) {
      if (this.ended) return null;
      const { done, value } = await this.reader.read();
      if (done) {
        this.ended = true;
        break;
      }
      this.buf += this.dec.decode(value, { stream: true });
      let i: number;
      while ((i = this.buf.indexOf("\n\n")) >= 0) {
        const block = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        this.parse(block);
      }
    }
    return this.queue.shift() ?? null;
  }

  /** Next data event (skipping comments); null at the end. */
  async nextEvent(): Promise<SseItem | null> {
    for (;;) {
      const it = await this.next();
      if (it === null || it.kind === "event") return it;
    }
  }

  /** Every remaining item until the end. */
  async rest(): Promise<SseItem[]> {
    const out: SseItem[] = [];
    for (let it = await this.next(); it; it = await this.next()) out.push(it);
    return out;
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }

  private parse(block: string): void {
    const ev: SseItem = { kind: "event" };
    let data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) this.queue.push({ kind: "comment", comment: line.slice(1).trim() });
      else if (line.startsWith("data: ")) data.push(line.slice(6));
      else if (line.startsWith("id: ")) ev.id = line.slice(4);
    }
    if (data.length) {
      ev.data = data.join("\n");
      this.queue.push(ev);
    }
    data = [];
  }
}

export function chatBody(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "Hello" }], ...extra });
}

export function post(url: string, key: string | null, body: string, headers: Record<string, string> = {}, signal?: AbortSignal) {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body,
    signal,
  });
}

/** The chat content of a list of SSE items (chunks' delta.content, [DONE] skipped). */
export function chatTextOf(items: readonly { kind: string; data?: string }[]): string {
  let s = "";
  for (const it of items) {
    if (it.kind !== "event" || !it.data || it.data === "[DONE]") continue;
    for (const c of JSON.parse(it.data).choices ?? []) s += c.delta?.content ?? "";
  }
  return s;
}
