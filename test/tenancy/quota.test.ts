// Quota admission and settlement against a real redis-server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { admit, settle, type Scope } from "../../contract/queue/tenancy.js";
import { keys } from "../../contract/queue/keys.js";

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server.stop();
});

const tenant = (id: string, limits: Scope["limits"]): Scope => ({ tenantId: id, keyId: null, limits });

describe("admit", () => {
  it("never admits more tokens per minute than the limit across concurrent connections", async () => {
    const conns = [server.client(), server.client(), server.client()];
    const now = Date.now();
    const limit = 10_000;
    let admitted = 0;
    await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        admit(conns[i % 3], { rid: `r${i}`, tenant: tenant("tpm", { tokens_per_minute: limit }), key: null, reserveTokens: 97, now }).then((r) => {
          if (r.ok) admitted += 97;
          else expect(r.reason).toBe("tokens");
        }),
      ),
    );
    expect(admitted).toBeLessThanOrEqual(limit);
    expect(admitted).toBeGreaterThan(limit - 97);
  });

  it("refunds the unused reservation at settle, once", async () => {
    const r = server.client();
    const now = Date.now();
    const t = tenant("refund", { tokens_per_minute: 1000 });
    expect((await admit(r, { rid: "a", tenant: t, key: null, reserveTokens: 900, now })).ok).toBe(true);
    expect((await admit(r, { rid: "b", tenant: t, key: null, reserveTokens: 200, now })).ok).toBe(false);
    const usage = { prompt_tokens: 50, completion_tokens: 50, cached_tokens: 10 };
    const base = { rid: "a", tenantId: "refund", keyId: null, keyScoped: false, admittedAt: now, usage, now };
    expect(await settle(r, base)).toBe(true);
    expect(await settle(r, base)).toBe(false);
    const ok = await admit(r, { rid: "b", tenant: t, key: null, reserveTokens: 200, now });
    expect(ok.ok).toBe(true);
    expect(ok.tokens.remaining).toBe(1000 - 100 - 200);
    const day = new Date(now).toISOString().slice(0, 10);
    expect(await r.hgetall(keys.usage("refund", day))).toEqual({ requests: "1", prompt_tokens: "50", completion_tokens: "50", cached_tokens: "10" });
  });

  it("releasing a reservation that never reached the queue frees it without counting a request", async () => {
    const r = server.client();
    const now = Date.now();
    const t = tenant("release", { tokens_per_minute: 100, max_concurrent_requests: 1 });
    expect((await admit(r, { rid: "q", tenant: t, key: null, reserveTokens: 100, now })).ok).toBe(true);
    const zero = { prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0 };
    expect(await settle(r, { rid: "q", tenantId: "release", keyId: null, keyScoped: false, admittedAt: now, usage: zero, now, countRequest: false })).toBe(true);
    expect((await admit(r, { rid: "q2", tenant: t, key: null, reserveTokens: 100, now })).ok).toBe(true);
    const day = new Date(now).toISOString().slice(0, 10);
    expect(await r.hget(keys.usage("release", day), "requests")).toBeNull();
  });

  it("limits requests per minute and reports when to retry", async () => {
    const r = server.client();
    const now = Date.now();
    const t = tenant("rpm", { requests_per_minute: 3 });
    for (const rid of ["1", "2", "3"]) expect((await admit(r, { rid, tenant: t, key: null, reserveTokens: 1, now })).ok).toBe(true);
    const no = await admit(r, { rid: "4", tenant: t, key: null, reserveTokens: 1, now: now + 1000 });
    expect(no).toMatchObject({ ok: false, reason: "requests", retryAfterMs: 59_000 });
    expect((await admit(r, { rid: "5", tenant: t, key: null, reserveTokens: 1, now: now + 60_001 })).ok).toBe(true);
  });

  it("reclaims a concurrency lease whose holder died when it expires", async () => {
    const r = server.client();
    const now = Date.now();
    const t = tenant("conc", { max_concurrent_requests: 1 });
    expect((await admit(r, { rid: "x", tenant: t, key: null, reserveTokens: 1, now, leaseMs: 5000 })).ok).toBe(true);
    expect((await admit(r, { rid: "y", tenant: t, key: null, reserveTokens: 1, now: now + 10, leaseMs: 5000 })).reason).toBe("concurrency");
    expect((await admit(r, { rid: "z", tenant: t, key: null, reserveTokens: 1, now: now + 5001, leaseMs: 5000 })).ok).toBe(true);
    expect(await r.zcard(keys.quota("conc", null).concurrency)).toBe(1);
    expect(await r.hlen(keys.reservations("conc"))).toBe(1);
  });

  it("enforces a key's tighter limits beside the tenant's, and the daily budget", async () => {
    const r = server.client();
    const now = Date.now();
    const t = tenant("keyed", { tokens_per_day: 1000 });
    const k: Scope = { tenantId: "keyed", keyId: "k1", limits: { requests_per_minute: 1 } };
    expect((await admit(r, { rid: "1", tenant: t, key: k, reserveTokens: 600, now })).ok).toBe(true);
    const second = await admit(r, { rid: "2", tenant: t, key: k, reserveTokens: 10, now });
    expect(second).toMatchObject({ ok: false, reason: "requests" });
    expect((await admit(r, { rid: "3", tenant: t, key: null, reserveTokens: 500, now })).reason).toBe("daily_tokens");
  });
});
