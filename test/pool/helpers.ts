// Test helpers for the pool: play the edge at the Redis level (enqueue a Job, cancel,
// read the response stream with blocking XREADs - no sleeps).
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { keys } from "../../contract/queue/keys.js";
import { cancelRequest, enqueueJob } from "../../edge/queue.js";
import { runScript } from "../../contract/queue/lua/index.js";
import { JobSchema, ResponseEventSchema, type Job, type ResponseEvent } from "../../contract/queue/messages.js";

export function makeJob(over: Omit<Partial<Job>, "sampling"> & { sampling?: Partial<Job["sampling"]> } = {}): Job {
  const now = Date.now();
  const { sampling, ...rest } = over;
  // Parsed by the shared schema so fields the edge adds with defaults are filled in.
  return JobSchema.parse({
    id: `req-${randomUUID()}`,
    tenant_id: "t1",
    key_id: "k1",
    model: "qwen3-sim",
    kind: "completion",
    prompt: "Once upon a time",
    stream: true,
    enqueued_at: now,
    deadline_at: now + 60_000,
    reserved_tokens: 100,
    weight: 1,
    attempt: 0,
    ...rest,
    sampling: { max_tokens: 32, temperature: 0, stop: [], n: 1, ...sampling },
  });
}

/** Enqueues exactly as the edge does (enqueue.lua, which also wakes idle pools). */
export async function enqueue(redis: Redis, job: Job): Promise<void> {
  const pos = await enqueueJob(redis, job, 0);
  if (pos === null) throw new Error("enqueue refused");
}

/** Cancels exactly as the edge does (cancel key, then a message to the owning pool). */
export async function cancel(redis: Redis, job: { id: string; model: string }): Promise<void> {
  await cancelRequest(redis, job.id, job.model, "client_disconnected");
}

export interface StreamEntry {
  id: string;
  event: ResponseEvent;
  /** When this reader saw it (performance.now()). */
  seenAt: number;
}

/** Reads out(rid) with blocking XREADs until a terminal event (or timeout). Use a dedicated connection. */
export async function readUntilTerminal(conn: Redis, rid: string, timeoutMs = 20_000, onEntry?: (e: StreamEntry) => void): Promise<StreamEntry[]> {
  const out: StreamEntry[] = [];
  let last = "0";
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no terminal event for ${rid} within ${timeoutMs} ms (got ${out.length} entries)`);
    const r = (await conn.xread("BLOCK", Math.min(left, 5_000), "STREAMS", keys.out(rid), last)) as [string, [string, string[]][]][] | null;
    if (!r) continue;
    for (const [id, fields] of r[0][1]) {
      last = id;
      const e: StreamEntry = { id, event: ResponseEventSchema.parse(JSON.parse(fields[1])), seenAt: performance.now() };
      out.push(e);
      onEntry?.(e);
      if (e.event.type !== "chunk") return out;
    }
  }
}

/** All entries currently in out(rid). */
export async function readOut(redis: Redis, rid: string): Promise<ResponseEvent[]> {
  const entries = await redis.xrange(keys.out(rid), "-", "+");
  return entries.map(([, f]) => ResponseEventSchema.parse(JSON.parse(f[1])));
}

/** Per choice: concatenated text, ids and finish reason. */
export function collect(events: readonly ResponseEvent[]): Map<number, { text: string; ids: number[]; finish: string | null }> {
  const m = new Map<number, { text: string; ids: number[]; finish: string | null }>();
  for (const e of events) {
    if (e.type !== "chunk") continue;
    for (const c of e.choices) {
      let s = m.get(c.index);
      if (!s) m.set(c.index, (s = { text: "", ids: [], finish: null }));
      s.text += c.text;
      s.ids.push(...c.token_ids);
      if (c.finish_reason) {
        expectNoSecondFinish(s.finish, c.index);
        s.finish = c.finish_reason;
      }
    }
  }
  return m;
}

function expectNoSecondFinish(prev: string | null, index: number): void {
  if (prev !== null) throw new Error(`choice ${index} finished twice`);
}

/** Resolves when the pool has finished (answered + acked) the rid. Call before enqueueing. */
export function settled(pool: { events: import("node:events").EventEmitter }, rid: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (r: string) => {
      if (r !== rid) return;
      pool.events.off("settled", on);
      resolve();
    };
    pool.events.on("settled", on);
  });
}
