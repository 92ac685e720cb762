// The Node edge's multiplexed reader on a real redis-server: a reader that joins a
// stream from an earlier entry (a resume from "0" while the original relay is still
// attached) gets every entry in order, even when the XREAD already in flight (started
// from the original reader's later cursor) returns before the reader list is rebuilt;
// and a burst of new streams interrupts the blocked XREAD once, not once each.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { MultiplexedStreamReader } from "../../edge/streams/multiplexed.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";

let server: RedisServer;
let r: Redis;
beforeAll(async () => {
  server = await startRedis();
  r = server.client();
});
afterAll(() => server?.stop());

const entry = (text: string) => JSON.stringify({ type: "chunk", choices: [{ index: 0, text, token_ids: [1], finish_reason: null }] });
const texts = (entries: { event: { type: string; choices?: { text: string }[] } }[]) => entries.map((e) => e.event.choices?.[0]?.text);

it("a reader joining from an earlier entry misses nothing while an XREAD is in flight", async () => {
  const command = server.client();
  // Hold CLIENT UNBLOCK until the new entry is written, so the in-flight XREAD (from the
  // first reader's cursor) returns it before the reader list is rebuilt: the race, made sure.
  let releaseUnblock!: () => void;
  const unblockHeld = new Promise<void>((res) => (releaseUnblock = res));
  const client = command.client.bind(command);
  command.client = (async (...args: Parameters<Redis["client"]>) => {
    if (String(args[0]).toUpperCase() === "UNBLOCK") await unblockHeld;
    return client(...args);
  }) as Redis["client"];
  const reader = new MultiplexedStreamReader(command, { blockMs: 5_000 });
  try {
    const key = "sg:test:{r:join}:out";
    await r.xadd(key, "*", "e", entry("A"));
    await r.xadd(key, "*", "e", entry("B"));
    const first = reader.open(command, key, "0");
    expect(texts(await first.next(2_000))).toEqual(["A", "B"]);
    // the reader now blocks from B's id; a second reader joins from the start
    const pending = first.next(2_000);
    const second = reader.open(command, key, "0");
    await r.xadd(key, "*", "e", entry("C"));
    expect(texts(await pending)).toEqual(["C"]);
    releaseUnblock();
    const got: string[] = [];
    while (got.length < 3) got.push(...(texts(await second.next(2_000)) as string[]));
    expect(got).toEqual(["A", "B", "C"]);
    first.close();
    second.close();
  } finally {
    releaseUnblock();
    await reader.close();
  }
});

it("a burst of streams opened while the XREAD blocks interrupts it once, and every stream gets its entries", async () => {
  const command = server.client();
  let unblocks = 0;
  const client = command.client.bind(command);
  command.client = (async (...args: Parameters<Redis["client"]>) => {
    if (String(args[0]).toUpperCase() === "UNBLOCK") unblocks++;
    return client(...args);
  }) as Redis["client"];
  // a wide join window: the 20 arrivals below, 2 ms apart, all come within it
  const reader = new MultiplexedStreamReader(command, { blockMs: 5_000, joinDelayMs: 1_000 });
  const blockedOnXread = async () => {
    while (!/cmd=xread.*flags=b|flags=b.*cmd=xread/.test(String(await r.client("LIST")))) await new Promise((res) => setImmediate(res));
  };
  try {
    const first = reader.open(command, "sg:test:{r:burst-0}:out", "0");
    const firstWait = first.next(5_000);
    await blockedOnXread();
    const subs = [];
    const waits = [];
    for (let i = 1; i <= 20; i++) {
      const sub = reader.open(command, `sg:test:{r:burst-${i}}:out`, "0");
      subs.push(sub);
      waits.push(sub.next(5_000));
      await new Promise((res) => setTimeout(res, 2)); // the load: arrivals spread over time, not one turn
    }
    for (let i = 1; i <= 20; i++) await r.xadd(`sg:test:{r:burst-${i}}:out`, "*", "e", entry(`t${i}`));
    const got = (await Promise.all(waits)).map(texts);
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => [`t${i + 1}`]));
    expect(unblocks).toBe(1);
    await r.xadd("sg:test:{r:burst-0}:out", "*", "e", entry("t0"));
    expect(texts(await firstWait)).toEqual(["t0"]);
    for (const s of [first, ...subs]) s.close();
  } finally {
    await reader.close();
  }
});
