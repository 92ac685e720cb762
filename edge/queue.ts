// The edge's side of the Redis queue contract (contract/queue/README.md): write
// the request's meta, enqueue the Job, ask where it stands, cancel it.
import type { ChainableCommander, Redis } from "ioredis";
import { z } from "zod";
import { cancelChannel, REQUEST_TTL_S, keys } from "../contract/queue/keys.js";
import { scriptPipeline } from "../contract/queue/lua/index.js";
import { enqueue, enqueueOn, position } from "../contract/queue/scripts/enqueue.js";
import type { Job } from "../contract/queue/messages.js";
import type { AdmissionDecision, StaleKey, PipelinedAdmission } from "./admission.js";

/**
 * Edge-only facts about a request, at keys.meta(rid) in the request's slot.
 * It outlives the Job (which the pool deletes at ack), so a reconnecting
 * client can be checked against the owning tenant and its response rebuilt.
 */
export const RequestMetaSchema = z.object({
  tenant_id: z.string(),
  model: z.string(),
  /** the public API the request came through: picks the translator (edge/api/surfaces.ts) */
  kind: z.enum(["chat", "completion", "responses", "messages", "count_tokens"]),
  stream: z.boolean(),
  include_usage: z.boolean(),
  n: z.number().int().positive(),
  /** the client asked for logprobs (non-streamed bodies then carry a logprobs object, else null) */
  logprobs: z.boolean().default(false),
  /** seconds since epoch, the `created` of every object of this response */
  created: z.number().int(),
  deadline_at: z.number(),
  /** API-specific fields its response objects echo (e.g. the Responses API's instructions, metadata) */
  echo: z.record(z.string(), z.unknown()).optional(),
});
export type RequestMeta = z.infer<typeof RequestMetaSchema>;

// keys.meta(rid) is a HASH: "m" = RequestMeta JSON, "a" = how many times a
// client attached to the response (1 for the original request, +1 per resume).
// The attach counter lets an edge that saw a disconnect skip its delayed
// cancel when the client already came back (possibly to another edge process).

/** Forgets a request that was never queued: its meta and the push registration written with it (one slot). */
export async function deleteMeta(redis: Redis, rid: string): Promise<void> {
  await redis.del(keys.meta(rid), keys.pushTo(rid));
}

export async function readMeta(redis: Redis, rid: string): Promise<RequestMeta | null> {
  const raw = await redis.hget(keys.meta(rid), "m");
  if (raw === null) return null;
  try {
    const res = RequestMetaSchema.safeParse(JSON.parse(raw));
    return res.success ? res.data : null;
  } catch {
    return null;
  }
}

/** Records one more client attached to the response; returns the new attach count. */
export async function attachCount(redis: Redis, rid: string, increment: boolean): Promise<number> {
  if (increment) return Number(await redis.hincrby(keys.meta(rid), "a", 1));
  return Number((await redis.hget(keys.meta(rid), "a")) ?? 0);
}

/**
 * True when neither the request's meta nor its response stream exists: Redis lost
 * them (a restart without persistence, a failover that dropped the last writes), so
 * no pool can ever answer this request. (Either alone is normal: the stream appears
 * at the first write; a long stream may outlive the meta's TTL.)
 */
export async function requestGone(redis: Redis, rid: string): Promise<boolean> {
  return (await redis.exists(keys.meta(rid), keys.out(rid))) === 0;
}

/** Keeps meta alive as long as the response stream (which lives up to REQUEST_TTL_S after its last write). */
export async function touchMeta(redis: Redis, rid: string): Promise<void> {
  await redis.expire(keys.meta(rid), REQUEST_TTL_S);
}

/** Runs enqueue.lua. Returns the position in the tenant's queue (1 = next), or null when the tenant's queue is full. */
export const enqueueJob = (redis: Redis, job: Job, maxQueued: number): Promise<number | null> => enqueue(redis, job, maxQueued);

/** What writeMetaAndEnqueue did. */
export interface Enqueued {
  /** the queue position; null when the tenant's queue is full or `decision` refused the request */
  position: number | null;
  /** the pipelined admission's decision (when one was given) */
  decision?: AdmissionDecision | StaleKey;
}

/**
 * Writes the request's meta and enqueues its Job in one pipeline: one socket
 * write and one round trip (syscalls dominate the edge's CPU), and Redis runs
 * them in order, so the meta exists before any pool can claim the job.
 * On a cluster the two live in different slots (often on different masters), so
 * the meta is written first and the enqueue follows once it is stored: same order,
 * one more round trip. On a single Redis:
 * - `pushChannel` is the edge reader's channel the append scripts push the response's
 *   entries to, registered before any pool can write;
 * - `admission` goes first in the same pipeline, and the enqueue's gate queues the job
 *   only if it admitted the request (else it deletes what the pipeline wrote).
 */
export async function writeMetaAndEnqueue(redis: Redis, meta: RequestMeta, job: Job, maxQueued: number, pushChannel?: string, admission?: PipelinedAdmission): Promise<Enqueued> {
  if (redis.isCluster) {
    if (admission) throw new Error("a pipelined admission needs a single Redis");
    await redis.multi().hset(keys.meta(job.id), "m", JSON.stringify(meta), "a", 1).expire(keys.meta(job.id), REQUEST_TTL_S).exec();
    return { position: await enqueue(redis, job, maxQueued) };
  }
  const p = scriptPipeline(redis);
  admission?.queue(p);
  const written = [keys.meta(job.id)];
  p.hset(keys.meta(job.id), "m", JSON.stringify(meta), "a", 1).expire(keys.meta(job.id), REQUEST_TTL_S);
  if (pushChannel) {
    p.sadd(keys.pushTo(job.id), pushChannel).expire(keys.pushTo(job.id), REQUEST_TTL_S);
    written.push(keys.pushTo(job.id));
  }
  const gate = admission && { reservations: admission.reservations, written };
  const res = await execOrThrow(enqueueOn(redis, p, job, maxQueued, gate), "enqueue");
  return { position: position(res[res.length - 1]), decision: admission?.decision(res[0]) };
}

/** Runs a pipeline; its replies in order, or the first command's error (a pipeline has no rollback: callers order their steps). */
async function execOrThrow(p: ChainableCommander, what: string): Promise<unknown[]> {
  const res = await p.exec();
  const failed = res?.find(([err]) => err);
  if (!res || failed) throw failed?.[0] ?? new Error(`${what} pipeline aborted`);
  return res.map(([, value]) => value);
}

/** 1-based position of a still-waiting request in its tenant's queue, or null once claimed (or gone). */
export async function queuePosition(redis: Redis, model: string, tenantId: string, rid: string): Promise<number | null> {
  const idx = await redis.lpos(keys.tenantQueue(model, tenantId), rid);
  return idx === null ? null : idx + 1;
}

/** True while a pool holds a lease on the request (it has started, so the queue deadline no longer applies). */
export async function isClaimed(redis: Redis, model: string, rid: string): Promise<boolean> {
  return (await redis.hexists(keys.owners(model), rid)) === 1;
}

/**
 * Marks the request cancelled and tells the pool holding it. The durable key comes
 * first: a pool that claims the request after the owner lookup below sees the key
 * when it starts the run (and every running pool re-reads it at each lease refresh).
 * The message goes only to the owner's shard channel; a request still queued has none.
 */
export async function cancelRequest(redis: Redis, rid: string, model: string, reason: string): Promise<void> {
  let owner: string | null;
  if (redis.isCluster) {
    // different slots: two steps, in this order
    await redis.set(keys.cancel(rid), reason, "EX", REQUEST_TTL_S);
    owner = await redis.hget(keys.owners(model), rid);
  } else {
    // one round trip; Redis runs them in this order
    const res = await execOrThrow(redis.pipeline().set(keys.cancel(rid), reason, "EX", REQUEST_TTL_S).hget(keys.owners(model), rid), "cancel");
    owner = res[1] as string | null;
  }
  if (owner === null) return;
  const poolId = owner.slice(0, owner.lastIndexOf(":"));
  await redis.spublish(cancelChannel(poolId), rid);
}
