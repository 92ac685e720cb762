// The pool's queue scripts at the Redis level: fair claim, deadline, attempts,
// write-lease fencing, extend, ack and reap.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { QueueClient } from "../../pool/queue/client.js";
import { keys } from "../../contract/queue/keys.js";
import { enqueue, makeJob } from "./helpers.js";

let redis: RedisServer;
let r: Redis;
const model = "m-lua";

beforeAll(async () => {
  redis = await startRedis();
  r = redis.client();
});
afterAll(async () => redis?.stop());

describe("queue scripts", () => {
  it("claims fairly across tenants, bumps the attempt, answers expired jobs separately", async () => {
    const q = new QueueClient(r, "poolA", 60_000);
    // Tenant a queues 3 jobs before tenant b queues 1: b must not wait behind all of a's.
    const a = [0, 1, 2].map(() => makeJob({ model, tenant_id: "a", reserved_tokens: 100 }));
    const b = makeJob({ model, tenant_id: "b", reserved_tokens: 100 });
    const late = makeJob({ model, tenant_id: "c", deadline_at: Date.now() - 1000 });
    for (const j of a) await enqueue(r, j);
    await enqueue(r, b);
    await enqueue(r, late);
    const res = await q.claim(model, 10);
    if (!res.ok) throw new Error(res.error);
    const order = res.value.map((c) => c.rid);
    expect(order.indexOf(b.id)).toBeLessThan(order.indexOf(a[1].id));
    expect(res.value.find((c) => c.rid === late.id)?.status).toBe("expired");
    for (const c of res.value) {
      expect(c.attempt).toBe(1);
      expect(c.token).toBe("poolA:1");
      expect(c.job?.attempt).toBe(1);
      expect(await r.hget(keys.owners(model), c.rid)).toBe("poolA:1");
    }
    expect(await r.zcard(keys.activeTenants(model))).toBe(0);
  });

  it("fences appends by the write lease, reports lost leases, reaps to the head and acks only for the owner", async () => {
    const A = new QueueClient(r, "poolA", 100);
    const B = new QueueClient(r, "poolB", 60_000);
    const j1 = makeJob({ model, tenant_id: "x" });
    const j2 = makeJob({ model, tenant_id: "x" });
    await enqueue(r, j1);
    await enqueue(r, j2);
    const c = await A.claim(model, 1);
    if (!c.ok) throw new Error(c.error);
    const [held] = c.value;
    expect(held.rid).toBe(j1.id);
    const begin = await A.begin(held.rid, held.token, false);
    expect(begin.ok && begin.value.cancelled).toBe(false);
    expect(await A.append(held.rid, held.token, [{ type: "chunk", choices: [{ index: 0, text: "hi", token_ids: [1], finish_reason: null }] }])).toEqual({ ok: true, value: "ok" });
    expect(await r.ttl(keys.out(held.rid))).toBeGreaterThan(0);

    // A's lease lapses (set its expiry in the past rather than waiting); B reaps it.
    await r.zadd(keys.leases(model), 1, held.rid);
    const rr = await B.reap(model);
    if (!rr.ok) throw new Error(rr.error);
    const reaped = rr.value;
    expect(reaped).toEqual([j1.id]);
    // A's extend now reports it lost.
    expect(await A.extend(model, [{ rid: held.rid, token: held.token }])).toEqual({ ok: true, value: [held.rid] });
    // Back at the head of the tenant's list: B gets j1 before j2, with attempt 2.
    const c2 = await B.claim(model, 1);
    if (!c2.ok) throw new Error(c2.error);
    expect(c2.value[0].rid).toBe(j1.id);
    expect(c2.value[0].attempt).toBe(2);
    const b2 = await B.begin(j1.id, c2.value[0].token, true);
    expect(b2.ok && b2.value.out).toHaveLength(1);
    // A is fenced out of the stream and cannot ack.
    expect(await A.append(held.rid, held.token, [{ type: "done", usage: { prompt_tokens: 1, completion_tokens: 1, cached_tokens: 0 } }])).toEqual({ ok: true, value: "fenced" });
    expect(await A.ack(model, held.rid, held.token)).toEqual({ ok: true, value: false });
    expect(await B.ack(model, j1.id, c2.value[0].token)).toEqual({ ok: true, value: true });
    expect(await r.hexists(keys.jobs(model), j1.id)).toBe(0);
    expect(await r.xlen(keys.out(j1.id))).toBe(1);
  });
});
