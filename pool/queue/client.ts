// The pool's side of the Redis queue contract (contract/queue/README.md steps 2-6),
// over the scripts' typed wrappers (contract/queue/scripts/). ioredis errors become Result errors here.
import type { Redis } from "ioredis";
import { keys } from "../../contract/queue/keys.js";
import { ack } from "../../contract/queue/scripts/ack.js";
import { AppendBatcher } from "./append-batcher.js";
import type { Outcome, StreamCursor } from "../../contract/queue/scripts/append.js";
import { claim, type ClaimReply } from "../../contract/queue/scripts/claim.js";
import { extend } from "../../contract/queue/scripts/extend.js";
import { reap } from "../../contract/queue/scripts/reap.js";
import { JobSchema, type Job, type ResponseEvent, type Usage } from "../../contract/queue/messages.js";
import { settle } from "../../contract/queue/tenancy.js";
import { err, ok, type Result } from "../../contract/result.js";

export type ClaimStatus = "ok" | "expired" | "invalid";

export interface ClaimedJob {
  status: ClaimStatus;
  rid: string;
  model: string;
  /** Parsed job; undefined when status is "invalid" or the JSON fails the schema. */
  job: Job | undefined;
  /** Owner token "<poolId>:<attempt>", also the write-lease value. */
  token: string;
  /** 1 on the first claim, 2+ when another pool held it before. */
  attempt: number;
}

function redisError(e: unknown): string {
  return `redis: ${(e as Error)?.message ?? String(e)}`;
}

export type QueueOp = "claim" | "append" | "extend" | "ack" | "settle" | "reap" | "begin";

/** Told about every failed queue operation (a Redis failure, returned as a Result error). */
export interface QueueObserver {
  queueFailed(op: QueueOp, error: string): void;
}

export class QueueClient {
  /** the appends of an event-loop turn go out together (pool/queue/append-batcher.ts) */
  private readonly batcher: AppendBatcher;

  constructor(
    private readonly redis: Redis,
    private readonly poolId: string,
    private readonly leaseMs: number,
    private readonly observer?: QueueObserver,
  ) {
    this.batcher = new AppendBatcher(redis, leaseMs);
  }

  private fail(op: QueueOp, e: unknown): Result<never> {
    const message = typeof e === "string" ? e : redisError(e);
    this.observer?.queueFailed(op, message);
    return err(message);
  }

  async claim(model: string, max: number): Promise<Result<ClaimedJob[]>> {
    let replies: ClaimReply[];
    try {
      replies = await claim(this.redis, { model, poolId: this.poolId, leaseMs: this.leaseMs, max });
    } catch (e) {
      return this.fail("claim", e);
    }
    const out: ClaimedJob[] = [];
    for (const c of replies) {
      let status: ClaimStatus = c.status;
      const token = c.token;
      let job: Job | undefined;
      if (status !== "invalid") {
        try {
          const parsed = JobSchema.safeParse(JSON.parse(c.body));
          if (parsed.success) job = parsed.data;
          else status = "invalid";
        } catch {
          status = "invalid";
        }
      }
      out.push({ status, rid: c.rid, model, job, token, attempt: Number(token.slice(token.lastIndexOf(":") + 1)) });
    }
    return ok(out);
  }

  /**
   * Appends events fenced by the write lease; "fenced" = another pool owns the request now;
   * "cancelled" = (a lease refresh, no events) the client cancelled it.
   */
  append(rid: string, token: string, events: readonly ResponseEvent[]): Promise<Result<Outcome>> {
    return new Promise((resolve) => this.appendThen(rid, token, events, resolve));
  }

  /**
   * append() for the per-token path: the outcome goes to `done` (no promise per append).
   * `cursor`: the request's writer makes every write of this stream (AppendItem).
   */
  appendThen(rid: string, token: string, events: readonly ResponseEvent[], done: (r: Result<Outcome>) => void, cursor?: StreamCursor): void {
    this.batcher.add({ rid, token, events, cursor }, (r) => done(r instanceof Error ? this.fail("append", r) : ok(r)));
  }

  /** Extends the leases of held jobs; returns the rids lost to another owner. */
  async extend(model: string, held: readonly { rid: string; token: string }[]): Promise<Result<string[]>> {
    if (held.length === 0) return ok([]);
    try {
      return ok(await extend(this.redis, { model, leaseMs: this.leaseMs, held }));
    } catch (e) {
      return this.fail("extend", e);
    }
  }

  async ack(model: string, rid: string, token: string): Promise<Result<boolean>> {
    try {
      return ok(await ack(this.redis, { model, rid, token }));
    } catch (e) {
      return this.fail("ack", e);
    }
  }

  /**
   * Settles the request's quota reservation to what it really used (settle.lua,
   * idempotent): the pool always sees a request's end, even when its client is gone.
   */
  async settle(job: Job, usage: Usage): Promise<Result<boolean>> {
    try {
      const now = Date.now();
      const settled = await settle(this.redis, {
        rid: job.id,
        tenantId: job.tenant_id,
        keyId: job.key_id,
        keyScoped: job.key_scoped,
        admittedAt: job.admitted_at || job.enqueued_at,
        usage,
        now,
      });
      return ok(settled);
    } catch (e) {
      return this.fail("settle", e);
    }
  }

  /** Re-queues jobs whose lease lapsed (any pool's); returns their rids. */
  async reap(model: string, max = 100): Promise<Result<string[]>> {
    try {
      return ok(await reap(this.redis, { model, max }));
    } catch (e) {
      return this.fail("reap", e);
    }
  }

  /**
   * First step of running a claimed job: take the write lease (fencing out any previous
   * owner), see whether the client already cancelled, and read what was already sent
   * (only needed when a previous attempt may have written).
   */
  async begin(rid: string, token: string, readOut: boolean): Promise<Result<{ cancelled: boolean; out: ResponseEvent[] | unknown[] }>> {
    try {
      const p = this.redis.multi();
      p.set(keys.writeLease(rid), token, "PX", this.leaseMs);
      p.exists(keys.cancel(rid));
      if (readOut) p.xrange(keys.out(rid), "-", "+");
      const res = await p.exec();
      if (!res) return this.fail("begin", "redis: transaction aborted");
      for (const [e] of res) if (e) return this.fail("begin", e);
      const cancelled = (res[1][1] as number) === 1;
      const entries = readOut ? (res[2][1] as [string, string[]][]) : [];
      const out: unknown[] = [];
      for (const [, fields] of entries) {
        const i = fields.indexOf("e");
        if (i >= 0 && i + 1 < fields.length) {
          try {
            out.push(JSON.parse(fields[i + 1]));
          } catch {
            // an unreadable entry cannot be resumed from; ignore it
          }
        }
      }
      return ok({ cancelled, out });
    } catch (e) {
      return this.fail("begin", e);
    }
  }
}
