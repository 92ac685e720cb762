// append-many.lua and the pool's batcher on a real redis-server: several requests in one
// call, each fenced by its own write lease exactly as append.lua would decide, and one
// event-loop turn's appends sent as one command.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { edgeChannel, keys, REQUEST_TTL_S } from "../../contract/queue/keys.js";
import { appendMany, leaseRefreshMs, newStreamCursor, TTL_REFRESH_MS } from "../../contract/queue/scripts/append.js";
import type { ResponseEvent } from "../../contract/queue/messages.js";
import { AppendBatcher } from "../../pool/queue/append-batcher.js";
import { commandCalls, startRedis, type RedisServer } from "../helpers/redis.js";

let server: RedisServer;
let r: Redis;
beforeAll(async () => {
  server = await startRedis();
  r = server.client();
});
afterAll(() => server?.stop());

const chunk = (text: string): ResponseEvent => ({ type: "chunk", choices: [{ index: 0, text, token_ids: [1], finish_reason: null }] });

async function lease(rid: string, token: string) {
  await r.set(keys.writeLease(rid), token, "PX", 60_000);
}

it("writes, fences and reports cancels per request within one call", async () => {
  await lease("m-a", "pool-1:1");
  await lease("m-b", "pool-2:2"); // another pool took b over
  await lease("m-c", "pool-1:1");
  await r.set(keys.cancel("m-c"), "client_disconnected");
  await lease("m-d", "pool-1:1");
  const results = await appendMany(r, 5_000, [
    { rid: "m-a", token: "pool-1:1", events: [chunk("A1"), chunk("A2")] },
    { rid: "m-b", token: "pool-1:1", events: [chunk("B")] },
    { rid: "m-c", token: "pool-1:1", events: [] },
    { rid: "m-d", token: "pool-1:1", events: [] },
    { rid: "m-e", token: "pool-1:1", events: [chunk("E")] }, // no lease at all
  ]);
  expect(results).toEqual(["ok", "fenced", "cancelled", "ok", "fenced"]);
  const texts = (await r.xrange(keys.out("m-a"), "-", "+")).map(([, f]) => JSON.parse(f[1]!).choices[0].text);
  expect(texts).toEqual(["A1", "A2"]);
  expect(await r.exists(keys.out("m-b"), keys.out("m-e"))).toBe(0);
  expect(await r.pttl(keys.writeLease("m-d"))).toBeGreaterThan(0);
  expect(await r.pttl(keys.writeLease("m-d"))).toBeLessThanOrEqual(5_000);
  expect(await r.ttl(keys.out("m-a"))).toBeGreaterThan(0);
});

it("the batcher sends one turn's appends as one command and hands each caller its own result", async () => {
  await lease("t-1", "p:1");
  await lease("t-2", "p:1");
  const batcher = new AppendBatcher(r, 5_000);
  await batcher.append({ rid: "t-0", token: "p:1", events: [] }); // the script is loaded (EVALSHA then succeeds)
  const before = await commandCalls(r, "evalsha");
  const [one, two, three] = await Promise.all([
    batcher.append({ rid: "t-1", token: "p:1", events: [chunk("x")] }),
    batcher.append({ rid: "t-2", token: "p:1", events: [chunk("y")] }),
    batcher.append({ rid: "t-3", token: "p:1", events: [chunk("z")] }),
  ]);
  expect([one, two, three]).toEqual(["ok", "ok", "fenced"]);
  const after = await commandCalls(r, "evalsha");
  // one script call for the three
  expect(after - before).toBe(1);
  expect(await r.xlen(keys.out("t-1"))).toBe(1);
});

it("a failed call rejects every append it carried", async () => {
  const dead = server.client();
  dead.disconnect();
  const batcher = new AppendBatcher(dead, 5_000);
  const results = await Promise.allSettled([batcher.append({ rid: "f-1", token: "p:1", events: [] }), batcher.append({ rid: "f-2", token: "p:1", events: [] })]);
  expect(results.map((x) => x.status)).toEqual(["rejected", "rejected"]);
});

it("a caller whose callback throws does not keep the others of its call from their answers", async () => {
  await lease("x-1", "p:1");
  await lease("x-2", "p:1");
  const batcher = new AppendBatcher(r, 5_000);
  const thrown = new Promise<unknown>((resolve) => process.once("uncaughtException", resolve));
  const second = new Promise((resolve) => {
    batcher.add({ rid: "x-1", token: "p:1", events: [chunk("a")] }, () => {
      throw new Error("a bug in the first caller");
    });
    batcher.add({ rid: "x-2", token: "p:1", events: [chunk("b")] }, resolve);
  });
  expect(await second).toBe("ok");
  // the bug still surfaces, as an uncaught exception, once every caller is answered
  expect(String(await thrown)).toContain("a bug in the first caller");
});

/** Registers an edge channel for each of `rids` and collects the messages pushed to it. */
async function pushed(channel: string, ...rids: string[]): Promise<{ messages: string[]; close(): void }> {
  for (const rid of rids) await r.sadd(keys.pushTo(rid), channel);
  const sub = server.client();
  const messages: string[] = [];
  sub.on("smessage", (_ch: string, m: string) => messages.push(m));
  await sub.ssubscribe(channel);
  return { messages, close: () => sub.disconnect() };
}
const waitFor = async (cond: () => boolean) => {
  while (!cond()) await new Promise((resolve) => setImmediate(resolve));
};

it("an edge channel of this release gets one message per call, with every stream's part; an older edge's, one per stream", async () => {
  const rids = ["g-a", "g-b", "g-c"];
  for (const rid of rids) await lease(rid, "p:1");
  const current = await pushed(edgeChannel("grouped-test"), "g-a", "g-b");
  const older = await pushed("sg:edge:older-test:push", "g-b", "g-c");
  const before = await commandCalls(r, "spublish");
  const results = await appendMany(r, 5_000, [
    { rid: "g-a", token: "p:1", events: [chunk("A1"), chunk("A2")] },
    { rid: "g-b", token: "p:1", events: [chunk("B1")] },
    { rid: "g-c", token: "p:1", events: [chunk("C1")] },
  ]);
  expect(results).toEqual(["ok", "ok", "ok"]);
  // one SPUBLISH for the current edge's two streams, one per stream for the older edge
  expect((await commandCalls(r, "spublish")) - before).toBe(3);
  await waitFor(() => current.messages.length === 1 && older.messages.length === 2);
  const ids = async (rid: string) => (await r.xrange(keys.out(rid), "-", "+")).map(([id]) => id);
  const [a, b, c] = [await ids("g-a"), await ids("g-b"), await ids("g-c")];
  const part = (rid: string, entries: string[], texts: string[]) => [keys.out(rid), "0", ...entries.flatMap((id, i) => [id, JSON.stringify(chunk(texts[i]!))])].join("\n");
  expect(current.messages).toEqual([part("g-a", a, ["A1", "A2"]) + "\n\n" + part("g-b", b, ["B1"])]);
  expect(older.messages).toEqual([part("g-b", b, ["B1"]), part("g-c", c, ["C1"])]);
  current.close();
  older.close();
});

describe("a writer's cursor (its last id and when it refreshed the lease and the TTLs)", () => {
  const channel = "sg:edge:cursor-test:push";

  it("moves to each write's last id; the pushed id before is the stream's previous entry, read or known", async () => {
    const rid = "c-ids";
    await lease(rid, "p:1");
    const edge = await pushed(channel, rid);
    const cursor = newStreamCursor();
    expect(await appendMany(r, 5_000, [{ rid, token: "p:1", events: [chunk("a")] }])).toEqual(["ok"]); // another writer, no cursor
    expect(await appendMany(r, 5_000, [{ rid, token: "p:1", events: [chunk("b"), chunk("c")], cursor }])).toEqual(["ok"]);
    expect(await appendMany(r, 5_000, [{ rid, token: "p:1", events: [chunk("d")], cursor }])).toEqual(["ok"]);
    const ids = (await r.xrange(keys.out(rid), "-", "+")).map(([id]) => id);
    expect(cursor.lastId).toBe(ids[3]);
    await waitFor(() => edge.messages.length === 3);
    // [out key, id before, id, json, ...]: each message starts right after the one before
    const messages = edge.messages.map((m) => m.split("\n"));
    expect(messages.map((m) => m[1])).toEqual(["0", ids[0], ids[2]]);
    expect(messages.map((m) => m.filter((_, i) => i >= 2 && i % 2 === 0))).toEqual([[ids[0]], [ids[1], ids[2]], [ids[3]]]);
    edge.close();
  });

  it("refreshes the stream's and the push key's TTLs at its first write and then every TTL_REFRESH_MS", async () => {
    const rid = "c-ttl";
    await lease(rid, "p:1");
    const edge = await pushed(channel, rid);
    const cursor = newStreamCursor();
    const t0 = 1_000_000;
    await appendMany(r, 5_000, [{ rid, token: "p:1", events: [chunk("a")], cursor }], t0);
    expect(cursor.ttlRefreshedAt).toBe(t0);
    expect(await r.ttl(keys.out(rid))).toBeGreaterThan(REQUEST_TTL_S - 5);
    expect(await r.ttl(keys.pushTo(rid))).toBeGreaterThan(REQUEST_TTL_S - 5);
    await r.expire(keys.out(rid), 100);
    await r.expire(keys.pushTo(rid), 100);
    await appendMany(r, 5_000, [{ rid, token: "p:1", events: [chunk("b")], cursor }], t0 + TTL_REFRESH_MS - 1);
    expect(await r.ttl(keys.out(rid))).toBeLessThanOrEqual(100);
    expect(await r.ttl(keys.pushTo(rid))).toBeLessThanOrEqual(100);
    await appendMany(r, 5_000, [{ rid, token: "p:1", events: [chunk("c")], cursor }], t0 + TTL_REFRESH_MS);
    expect(await r.ttl(keys.out(rid))).toBeGreaterThan(REQUEST_TTL_S - 5);
    expect(await r.ttl(keys.pushTo(rid))).toBeGreaterThan(REQUEST_TTL_S - 5);
    expect(cursor.ttlRefreshedAt).toBe(t0 + TTL_REFRESH_MS);
    edge.close();
  });

  it("a stream lost under a cursor (a restart) starts again with its TTL, and is pushed as new", async () => {
    const rid = "c-lost";
    await lease(rid, "p:1");
    const edge = await pushed(channel, rid);
    const cursor = newStreamCursor();
    const now = Date.now();
    await appendMany(r, 5_000, [{ rid, token: "p:1", events: [chunk("a")], cursor }], now);
    await r.del(keys.out(rid));
    expect(await appendMany(r, 5_000, [{ rid, token: "p:1", events: [chunk("b")], cursor }], now + 1)).toEqual(["ok"]);
    expect(await r.xlen(keys.out(rid))).toBe(1);
    expect(await r.ttl(keys.out(rid))).toBeGreaterThan(REQUEST_TTL_S - 5);
    await waitFor(() => edge.messages.length === 2);
    expect(edge.messages[1]!.split("\n")[1]).toBe("0");
    // lost again, and this write is due to refresh the TTLs: also pushed as new
    await r.del(keys.out(rid));
    expect(await appendMany(r, 5_000, [{ rid, token: "p:1", events: [chunk("c")], cursor }], now + TTL_REFRESH_MS + 1)).toEqual(["ok"]);
    expect(await r.ttl(keys.out(rid))).toBeGreaterThan(REQUEST_TTL_S - 5);
    await waitFor(() => edge.messages.length === 3);
    expect(edge.messages[2]!.split("\n")[1]).toBe("0");
    edge.close();
  });

  it("refreshes the write lease at its first write and then every leaseRefreshMs; a write without a cursor always does", async () => {
    const rid = "c-lease";
    await lease(rid, "p:1");
    const cursor = newStreamCursor();
    const t0 = 2_000_000;
    const write = (at: number, c = cursor) => appendMany(r, 5_000, [{ rid, token: "p:1", events: [chunk("x")], cursor: c }], at);
    const pttl = () => r.pttl(keys.writeLease(rid));
    await write(t0);
    expect(await pttl()).toBeLessThanOrEqual(5_000);
    expect(cursor.leaseRefreshedAt).toBe(t0);
    await lease(rid, "p:1"); // 60 s again: a write that does not refresh leaves it so
    await write(t0 + leaseRefreshMs(5_000) - 1);
    expect(await pttl()).toBeGreaterThan(5_000);
    expect(cursor.leaseRefreshedAt).toBe(t0);
    await write(t0 + leaseRefreshMs(5_000));
    expect(await pttl()).toBeLessThanOrEqual(5_000);
    expect(cursor.leaseRefreshedAt).toBe(t0 + leaseRefreshMs(5_000));
    await lease(rid, "p:1");
    expect(await appendMany(r, 5_000, [{ rid, token: "p:1", events: [chunk("y")] }])).toEqual(["ok"]);
    expect(await pttl()).toBeLessThanOrEqual(5_000);
    // fenced: nothing moves
    await r.set(keys.writeLease(rid), "p:2", "PX", 60_000);
    expect(await write(t0 + 10 * leaseRefreshMs(5_000))).toEqual(["fenced"]);
    expect(cursor.leaseRefreshedAt).toBe(t0 + leaseRefreshMs(5_000));
  });
});
