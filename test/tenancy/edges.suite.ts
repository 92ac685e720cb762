// Quotas through the real path: three edges sharing one Redis (a redis-server in
// edges.test.ts, a Redis Cluster in test/cluster/tenancy.test.ts), a real pool and
// a simulated worker.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../../contract/queue/keys.js";
import { startFullStack, SIM_MODEL, type FullStack, type Topology } from "../helpers/full-stack.js";
import { waitFor } from "../../scripts/wait.js";
import { sha256Hex } from "../../edge/tenants.js";

export function edgesSuite(topology: Topology): void {
  let stack: FullStack;
  const ADMIN = "admin-token-for-tests-0123456789";

  beforeAll(async () => {
    stack = await startFullStack({ workers: 1, edge: { adminToken: ADMIN }, topology });
    await stack.addEdge({ adminToken: ADMIN });
    await stack.addEdge({ adminToken: ADMIN });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  function post(base: string, key: string, body: unknown, signal?: AbortSignal) {
    return fetch(`${base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal,
    });
  }

  const RATE_HEADERS = ["limit", "remaining", "reset"].flatMap((k) => [`x-ratelimit-${k}-requests`, `x-ratelimit-${k}-tokens`]);

  describe(`quotas across three edges sharing one Redis (${topology})`, () => {
    it("admits no more tokens per minute than the limit", async () => {
      const limit = 6000;
      await stack.seed({ tenantId: "tpm", key: "sk-tpm-000000001", limits: { tokens_per_minute: limit, requests_per_minute: 10_000 } });
      const body = { model: SIM_MODEL, max_tokens: 48, temperature: 0, messages: [{ role: "user", content: "Count the waves." }] };
      const results = await Promise.all(
        Array.from({ length: 150 }, async (_, i) => {
          const res = await post(stack.edges[i % 3].url, "sk-tpm-000000001", body);
          const json = (await res.json()) as { usage?: { total_tokens: number }; error?: { type: string; code: string } };
          return { status: res.status, json, headers: res.headers };
        }),
      );
      const ok = results.filter((r) => r.status === 200);
      const limited = results.filter((r) => r.status === 429);
      expect(ok.length + limited.length).toBe(150);
      expect(ok.length).toBeGreaterThan(0);
      expect(limited.length).toBeGreaterThan(0);
      const used = ok.reduce((n, r) => n + r.json.usage!.total_tokens, 0);
      const overshoot = Math.max(0, used - limit) / limit;
      console.log(`tpm limit ${limit}: admitted ${ok.length}/150, used ${used} tokens, overshoot ${(overshoot * 100).toFixed(2)}%`);
      expect(overshoot).toBe(0);
      for (const r of limited) {
        expect(r.json.error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
        expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
        // nothing of a refused request stays in Redis (on a single Redis the admission went
        // out with the meta and the enqueue, and the enqueue's gate deleted them)
        const rid = r.headers.get("x-request-id")!;
        for (const k of [keys.meta(rid), keys.pushTo(rid), keys.out(rid)]) expect(await stack.r.exists(k), k).toBe(0);
        expect(await stack.r.hexists(keys.jobs(SIM_MODEL), rid)).toBe(0);
      }
      for (const r of results) for (const h of RATE_HEADERS) expect(r.headers.get(h), h).not.toBeNull();
    });

    it("puts consistent rate-limit headers on streamed and non-streamed responses", async () => {
      await stack.seed({ tenantId: "hdr", key: "sk-hdr-000000001", limits: { requests_per_minute: 50, tokens_per_minute: 100_000 } });
      const client = new OpenAI({ baseURL: `${stack.edges[1].url}/v1`, apiKey: "sk-hdr-000000001", maxRetries: 0 });
      const plain = await client.chat.completions
        .create({ model: SIM_MODEL, max_tokens: 4, messages: [{ role: "user", content: "a" }] })
        .withResponse();
      const streamed = await client.chat.completions
        .create({ model: SIM_MODEL, max_tokens: 4, stream: true, messages: [{ role: "user", content: "b" }] })
        .withResponse();
      for await (const _ of streamed.data);
      const h1 = plain.response.headers;
      const h2 = streamed.response.headers;
      expect(h1.get("x-ratelimit-limit-requests")).toBe("50");
      expect(h2.get("x-ratelimit-limit-requests")).toBe("50");
      expect(Number(h1.get("x-ratelimit-remaining-requests"))).toBe(49);
      expect(Number(h2.get("x-ratelimit-remaining-requests"))).toBe(48);
      expect(Number(h2.get("x-ratelimit-remaining-tokens"))).toBeLessThan(Number(h1.get("x-ratelimit-remaining-tokens")));
      expect(h2.get("x-ratelimit-reset-requests")).toMatch(/^\d+(ms|s|m\d+s)$/);
    });

    it("500 streams cancelled at random points leave no concurrency lease and no reservation behind", async () => {
      await stack.seed({ tenantId: "cxl", key: "sk-cxl-000000001", limits: { max_concurrent_requests: 1000, tokens_per_minute: 10_000_000 } });
      let seed = 42;
      const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      await Promise.all(
        Array.from({ length: 500 }, async (_, i) => {
          const ac = new AbortController();
          const stopAfter = Math.floor(rand() * 12); // 0 = right after the headers, while queued
          const body = { model: SIM_MODEL, stream: true, max_tokens: 64, messages: [{ role: "user", content: `story ${i}` }] };
          const res = await post(stack.edges[i % 3].url, "sk-cxl-000000001", body, ac.signal);
          expect(res.status).toBe(200);
          let events = 0;
          try {
            const reader = res.body!.getReader();
            while (events < stopAfter) {
              const { done, value } = await reader.read();
              if (done) break;
              events += (new TextDecoder().decode(value).match(/^data: /gm) ?? []).length;
            }
          } finally {
            ac.abort();
          }
        }),
      );
      const q = keys.quota("cxl", null);
      const leftovers = await waitFor(
        async () => {
          const [leases, reservations] = await Promise.all([stack.r.zcard(q.concurrency), stack.r.hlen(keys.reservations("cxl"))]);
          return leases === 0 && reservations === 0 ? { leases, reservations } : undefined;
        },
        "every cancelled request to be settled",
        60_000,
        50,
      );
      expect(leftovers).toEqual({ leases: 0, reservations: 0 });
      // What stays charged in the minute window is what was generated, never a reservation.
      const day = new Date().toISOString().slice(0, 10);
      const usage = await stack.r.hgetall(keys.usage("cxl", day));
      const windowSum = Number(await stack.r.hget(q.tokAmounts, "@sum"));
      expect(Number(usage.requests)).toBe(500);
      expect(windowSum).toBe(Number(usage.prompt_tokens) + Number(usage.completion_tokens));
    });

    it("an edge admits with the key record it read before, and still refuses the key at once once it is changed or revoked", async () => {
      const key = "sk-guard-00000001";
      await stack.seed({ tenantId: "guard", key, limits: { requests_per_minute: 1000 } });
      const edge = stack.edges[0].url;
      const body = { model: SIM_MODEL, max_tokens: 2, messages: [{ role: "user", content: "hi" }] };
      const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
      expect((await post(edge, key, body)).status).toBe(200); // this edge reads the record
      const recordKey = keys.apiKey(await sha256Hex(key));
      if (topology === "single") {
        // and its next request does not: admit.lua's key guard compares the stored record
        const monitor = await stack.r.monitor();
        const reads: string[] = [];
        monitor.on("monitor", (_time: string, args: string[], source: string) => {
          if (args.includes(recordKey)) reads.push(`${source === "lua" ? "lua " : ""}${args[0]!.toLowerCase()}`);
        });
        expect((await post(edge, key, body)).status).toBe(200);
        monitor.disconnect();
        expect(reads).toEqual(["evalsha", "lua get"]); // the guard's own GET, inside admit.lua
      }
      // New limits apply on the very next request: the guard refuses the old record, the edge reads the new one.
      const record = JSON.parse((await stack.r.get(recordKey))!) as { limits: Record<string, number | null> };
      await stack.r.set(recordKey, JSON.stringify({ ...record, limits: { ...record.limits, tokens_per_minute: 1 } }));
      const limited = await post(edge, key, body);
      expect(limited.status).toBe(429);
      expect(await errorCode(limited)).toBe("rate_limit_exceeded");
      await stack.r.set(recordKey, JSON.stringify(record));
      expect((await post(edge, key, body)).status).toBe(200);
      // Revoked: refused on the next request, whatever else is wrong with it, and nothing of it stays.
      await stack.r.set(recordKey, JSON.stringify({ ...record, revoked: true }));
      const refused = await post(edge, key, body);
      expect(refused.status).toBe(401);
      expect(await errorCode(refused)).toBe("invalid_api_key");
      const rid = refused.headers.get("x-request-id")!;
      for (const k of [keys.meta(rid), keys.pushTo(rid), keys.out(rid)]) expect(await stack.r.exists(k), k).toBe(0);
      expect(await stack.r.hexists(keys.jobs(SIM_MODEL), rid)).toBe(0);
      expect(await stack.r.hexists(keys.reservations("guard"), rid)).toBe(0);
      await stack.r.set(recordKey, JSON.stringify(record));
      expect((await post(edge, key, body)).status).toBe(200); // cached again
      await stack.r.set(recordKey, JSON.stringify({ ...record, revoked: true }));
      const badBody = await fetch(`${edge}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: "{not json",
      });
      expect(badBody.status).toBe(401);
      expect(await errorCode(badBody)).toBe("invalid_api_key");
      const unknownModel = await post(edge, key, { ...body, model: "no-such-model" });
      expect(unknownModel.status).toBe(401);
    });

    it("a key revoked through the admin API stops working on the next request", async () => {
      const admin = (method: string, path: string, body?: unknown) =>
        fetch(`${stack.edges[2].url}/admin/v1${path}`, {
          method,
          headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      const tenant = (await (await admin("POST", "/tenants", { name: "revokee", limits: { requests_per_minute: 100 } })).json()) as { id: string };
      const created = (await (await admin("POST", `/tenants/${tenant.id}/keys`, { name: "ci" })).json()) as { key: string; key_id: string };
      expect(created.key).toMatch(/^sk-sg-/);
      const body = { model: SIM_MODEL, max_tokens: 2, messages: [{ role: "user", content: "hi" }] };
      expect((await post(stack.edges[0].url, created.key, body)).status).toBe(200);
      expect((await admin("DELETE", `/tenants/${tenant.id}/keys/${created.key_id}`)).status).toBe(200);
      const after = await post(stack.edges[1].url, created.key, body);
      expect(after.status).toBe(401);
      expect(((await after.json()) as { error: { code: string } }).error.code).toBe("invalid_api_key");
      const listed = (await (await admin("GET", `/tenants/${tenant.id}/keys`)).json()) as { data: { key_id: string; revoked: boolean }[] };
      expect(listed.data).toEqual([expect.objectContaining({ key_id: created.key_id, revoked: true })]);
      expect(JSON.stringify(listed)).not.toContain(created.key);
      const usage = (await (await admin("GET", `/tenants/${tenant.id}/usage?days=1`)).json()) as { data: { requests: number }[] };
      expect(usage.data[0].requests).toBe(1);
    });
  });
}
