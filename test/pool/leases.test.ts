// The lease keeper (pool/queue/leases.ts) on a real Redis: a write lease a real write
// refreshed lately is left alone (no empty append per request per round), a stale one
// is refreshed, a lost one is reported, and a lease nobody refreshes still expires.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { QueueClient } from "../../pool/queue/client.js";
import { extendAll, type HeldJob } from "../../pool/queue/leases.js";
import { keys } from "../../contract/queue/keys.js";
import { waitFor } from "../../scripts/wait.js";
import { enqueue, makeJob } from "./helpers.js";

let redis: RedisServer;
let r: Redis;
const model = "m-leases";
const LEASE_MS = 60_000;

beforeAll(async () => {
  redis = await startRedis();
  r = redis.client();
});
afterAll(async () => redis?.stop());

/** Claims and begins one job: its write lease is set to LEASE_MS. */
async function holdOne(q: QueueClient): Promise<HeldJob> {
  const job = makeJob({ model, tenant_id: "t" });
  await enqueue(r, job);
  const c = await q.claim(model, 1);
  if (!c.ok) throw new Error(c.error);
  const [held] = c.value;
  const b = await q.begin(held.rid, held.token, false);
  if (!b.ok) throw new Error(b.error);
  return { rid: held.rid, token: held.token, model };
}

describe("lease keeper", () => {
  it("skips write leases refreshed by a recent write and refreshes the others", async () => {
    const q = new QueueClient(r, "poolL", LEASE_MS);
    const fresh = await holdOne(q);
    const stale = await holdOne(q);
    const never = await holdOne(q);
    // Shorten every write lease, so a refresh is visible as a PTTL back near LEASE_MS.
    for (const h of [fresh, stale, never]) await r.pexpire(keys.writeLease(h.rid), 5_000);
    const now = 1_000_000;
    const { lost, error } = await extendAll(
      q,
      [
        { ...fresh, leaseRefreshedAt: now - 100 },
        { ...stale, leaseRefreshedAt: now - 20_000 },
        never,
      ],
      { now, freshMs: 10_000 },
    );
    expect(error).toBeUndefined();
    expect(lost).toEqual([]);
    expect(await r.pttl(keys.writeLease(fresh.rid))).toBeLessThanOrEqual(5_000);
    expect(await r.pttl(keys.writeLease(stale.rid))).toBeGreaterThan(5_000);
    expect(await r.pttl(keys.writeLease(never.rid))).toBeGreaterThan(5_000);
  });

  it("checkAll refreshes fresh leases too and reports a cancelled request (the durable cancel key)", async () => {
    const q = new QueueClient(r, "poolL", LEASE_MS);
    const fresh = await holdOne(q);
    const cancelled = await holdOne(q);
    await r.pexpire(keys.writeLease(fresh.rid), 5_000);
    await r.set(keys.cancel(cancelled.rid), "client_disconnected");
    const now = 1_000_000;
    const held = [
      { ...fresh, leaseRefreshedAt: now - 100 },
      { ...cancelled, leaseRefreshedAt: now - 100 },
    ];
    // A normal round leaves both alone (fresh), so it cannot see the cancel.
    expect((await extendAll(q, held, { now, freshMs: 10_000 })).cancelled).toEqual([]);
    const { cancelled: found, lost } = await extendAll(q, held, { now, freshMs: 10_000, checkAll: true });
    expect(lost).toEqual([]);
    expect(found).toEqual([cancelled.rid]);
    expect(await r.pttl(keys.writeLease(fresh.rid))).toBeGreaterThan(5_000);
  });

  it("reports a stale write lease taken by another owner as lost", async () => {
    const q = new QueueClient(r, "poolL", LEASE_MS);
    const held = await holdOne(q);
    await r.set(keys.writeLease(held.rid), "poolOther:2", "PX", LEASE_MS);
    const { lost } = await extendAll(q, [held], { now: 0, freshMs: 10_000 });
    expect(lost).toEqual([held.rid]);
  });

  it("a write lease nobody refreshes expires (a dead pool's requests can be taken over)", async () => {
    const q = new QueueClient(r, "poolDead", 200);
    const held = await holdOne(q);
    expect(await r.get(keys.writeLease(held.rid))).toBe(held.token);
    await waitFor(async () => (await r.exists(keys.writeLease(held.rid))) === 0, "the dead pool's write lease to expire");
  });
});
