// The stored-response scripts against a real Redis: the per-tenant byte limit
// (checked atomically at create), bytes given back by delete and by expiry,
// finish once, and a pending response whose stream is long gone read as failed.
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../../contract/queue/keys.js";
import { createStored, deleteStored, finishStored, readStored, storedBytes } from "../../edge/responses/store.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";

let redis: RedisServer;
let r: Redis;
beforeAll(async () => {
  redis = await startRedis();
  r = redis.client();
});
afterAll(async () => {
  await redis?.stop();
});

const NOW = 1_800_000_000_000;
const pending = (id: string, createdAt = NOW / 1000) => ({ id, object: "response", status: "in_progress", output: [], created_at: createdAt, model: "m" });
const items = [{ id: "msg_1", type: "message", role: "user", content: [{ type: "input_text", text: "x".repeat(100) }] }];
const size = (id: string) => JSON.stringify(pending(id)).length + JSON.stringify(items).length;

describe("stored-create / stored-delete", () => {
  it("stores within the limit, refuses past it without writing, and delete gives the bytes back", async () => {
    const t = "lim";
    const limit = size("resp_a") * 2 + 10;
    const put = (id: string) => createStored(r, { tenant: t, id, response: pending(id), items, ttlS: 60, limitBytes: limit, now: NOW });
    expect(await put("resp_a")).toBe(true);
    expect(await put("resp_b")).toBe(true);
    expect(await put("resp_c")).toBe(false);
    expect(await r.exists(keys.storedResponse(t, "resp_c"))).toBe(0);
    expect(await storedBytes(r, t)).toBe(size("resp_a") + size("resp_b"));
    expect(await deleteStored(r, t, "resp_a")).toBe(true);
    expect(await deleteStored(r, t, "resp_a")).toBe(false);
    expect(await storedBytes(r, t)).toBe(size("resp_b"));
    expect(await put("resp_c")).toBe(true);
    expect(await r.ttl(keys.storedResponse(t, "resp_c"))).toBeGreaterThan(50);
  });

  it("gives back the bytes of expired responses at the next create", async () => {
    const t = "exp";
    const limit = size("resp_a") + 10;
    expect(await createStored(r, { tenant: t, id: "resp_a", response: pending("resp_a"), items, ttlS: 60, limitBytes: limit, now: NOW })).toBe(true);
    expect(await createStored(r, { tenant: t, id: "resp_b", response: pending("resp_b"), items, ttlS: 60, limitBytes: limit, now: NOW + 1000 })).toBe(false);
    // 61 s later resp_a's time is up: its bytes count no more.
    expect(await createStored(r, { tenant: t, id: "resp_b", response: pending("resp_b"), items, ttlS: 60, limitBytes: limit, now: NOW + 61_000 })).toBe(true);
    expect(await storedBytes(r, t)).toBe(size("resp_b"));
  });
});

describe("finish", () => {
  it("writes the final object once from the terminal event, counting its bytes", async () => {
    const t = "fin";
    const id = "resp_fin";
    await createStored(r, { tenant: t, id, response: pending(id), items, ttlS: 60, limitBytes: null, now: NOW });
    expect(await finishStored(r, t, id, NOW)).toBeNull(); // no stream entries yet: still running
    const chunk = { type: "chunk", choices: [{ index: 0, text: "Hello", token_ids: [1], finish_reason: "stop" }] };
    await r.xadd(keys.out(id), "*", "e", JSON.stringify(chunk));
    await r.xadd(keys.out(id), "*", "e", JSON.stringify({ type: "done", usage: { prompt_tokens: 3, completion_tokens: 1, cached_tokens: 0 } }));
    const final = await finishStored(r, t, id, NOW);
    expect(final?.status).toBe("completed");
    expect(await finishStored(r, t, id, NOW)).toBeNull(); // already final
    const got = await readStored(r, t, id);
    expect(got!.response).toEqual(final);
    expect((got!.response.output as { content: { text: string }[] }[])[0]!.content[0]!.text).toBe("Hello");
    expect(await storedBytes(r, t)).toBe(JSON.stringify(final).length + JSON.stringify(items).length);
  });

  it("a pending response with no stream, older than any stream lives, reads as failed", async () => {
    const t = "lost";
    const id = "resp_lost";
    await createStored(r, { tenant: t, id, response: pending(id, NOW / 1000 - 3600), items, ttlS: 60, limitBytes: null, now: NOW });
    const final = await finishStored(r, t, id, NOW);
    expect(final?.status).toBe("failed");
    expect((await readStored(r, t, id))!.response.status).toBe("failed");
  });
});
