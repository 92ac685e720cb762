// The Node edge's pushed reader on a real redis-server, fed by the pool's own append
// scripts: a registered stream's entries arrive with no read at all; a reader that
// joins late (a resume) reads what came before and is pushed the rest; entries
// written without a push are caught up from the next message's "id before", or by
// the poll when no message comes; entries pushed while the subscriber was
// disconnected are read once it is back. Every reader gets every entry once, in order.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { keys, REQUEST_TTL_S } from "../../contract/queue/keys.js";
import { append, appendMany } from "../../contract/queue/scripts/append.js";
import { PushedStreamReader } from "../../edge/node/pushed-streams.js";
import type { ResponseSubscription } from "../../edge/streams/reader.js";
import { commandCalls, startRedis, type RedisServer } from "../helpers/redis.js";

let server: RedisServer;
let r: Redis;
beforeAll(async () => {
  server = await startRedis();
  r = server.client();
});
afterAll(() => server?.stop());

const TOKEN = "p:1";
const chunk = (text: string) => ({ type: "chunk" as const, choices: [{ index: 0, text, token_ids: [1], finish_reason: null }] });

/** The pool's write path: its write lease, then append.lua (or append-many.lua for several). */
async function write(rid: string, ...texts: string[]): Promise<void> {
  await r.set(keys.writeLease(rid), TOKEN, "PX", 30_000);
  expect(await append(r, { rid, token: TOKEN, leaseMs: 30_000, events: texts.map(chunk) })).toBe("ok");
}

/** What submit does for a new request: the reader's channel goes in before anything is written. */
async function register(rid: string, reader: PushedStreamReader): Promise<void> {
  await r.sadd(keys.pushTo(rid), reader.pushChannel);
  await r.expire(keys.pushTo(rid), REQUEST_TTL_S);
}

const xreadCalls = () => commandCalls(r, "xread");

/** Collects texts from `sub` until `n` arrived (each wait ends at the first entries). */
async function take(sub: ResponseSubscription, n: number): Promise<string[]> {
  const got: string[] = [];
  while (got.length < n) {
    const entries = await sub.next(5_000);
    if (entries.length === 0) throw new Error(`only ${got.length} of ${n} entries arrived: ${got.join(",")}`);
    for (const e of entries) got.push(e.event.type === "chunk" ? e.event.choices[0]!.text : e.event.type);
  }
  return got;
}

async function withReader(opts: { pollMs?: number }, f: (reader: PushedStreamReader, command: Redis) => Promise<void>): Promise<void> {
  const command = server.client();
  const reader = new PushedStreamReader(command, opts);
  await reader.start();
  try {
    await f(reader, command);
  } finally {
    await reader.close();
  }
}

it("a registered stream's entries are pushed: every one arrives, in order, with no XREAD", async () => {
  await withReader({ pollMs: 60_000 }, async (reader, command) => {
    const rids = ["push-a", "push-b"];
    for (const rid of rids) await register(rid, reader);
    const subs = rids.map((rid) => reader.open(command, keys.out(rid), "0", true));
    const before = await xreadCalls();
    await write("push-a", "A1", "A2");
    await r.set(keys.writeLease("push-b"), TOKEN, "PX", 30_000);
    // several requests in one call, as the pool batches them: one message carries both streams
    const published = await commandCalls(r, "spublish");
    expect(await appendMany(r, 30_000, [{ rid: "push-a", token: TOKEN, events: [chunk("A3")] }, { rid: "push-b", token: TOKEN, events: [chunk("B1"), chunk("B2")] }])).toEqual(["ok", "ok"]);
    expect((await commandCalls(r, "spublish")) - published).toBe(1);
    await write("push-a", "A4");
    expect(await take(subs[0]!, 4)).toEqual(["A1", "A2", "A3", "A4"]);
    expect(await take(subs[1]!, 2)).toEqual(["B1", "B2"]);
    expect(await xreadCalls()).toBe(before);
    // the channel outlives nothing: the push key has the request's TTL
    expect(await r.ttl(keys.pushTo("push-a"))).toBeGreaterThan(0);
    for (const s of subs) s.close();
  });
});

it("a reader that joins late (a resume) reads the earlier entries and is pushed the rest, beside the original reader", async () => {
  await withReader({ pollMs: 60_000 }, async (reader, command) => {
    const rid = "push-join";
    await register(rid, reader);
    const first = reader.open(command, keys.out(rid), "0", true);
    await write(rid, "A", "B");
    expect(await take(first, 2)).toEqual(["A", "B"]);
    const second = reader.open(command, keys.out(rid), "0"); // not registered: reads from its cursor
    await write(rid, "C");
    expect(await take(first, 1)).toEqual(["C"]);
    expect(await take(second, 3)).toEqual(["A", "B", "C"]);
    await write(rid, "D");
    expect(await take(first, 1)).toEqual(["D"]);
    expect(await take(second, 1)).toEqual(["D"]);
    first.close();
    second.close();
  });
});

it("entries written without a push are read when the next message's 'id before' is past the cursor", async () => {
  await withReader({ pollMs: 60_000 }, async (reader, command) => {
    const rid = "push-gap";
    await register(rid, reader);
    const sub = reader.open(command, keys.out(rid), "0", true);
    await write(rid, "A");
    expect(await take(sub, 1)).toEqual(["A"]);
    // a writer that does not push (an older pool's script)
    await r.xadd(keys.out(rid), "*", "e", JSON.stringify(chunk("B")));
    await r.xadd(keys.out(rid), "*", "e", JSON.stringify(chunk("C")));
    await write(rid, "D");
    expect(await take(sub, 3)).toEqual(["B", "C", "D"]);
    sub.close();
  });
});

it("a stream no message reaches is read by the poll", async () => {
  await withReader({ pollMs: 100 }, async (reader, command) => {
    const rid = "push-poll";
    const sub = reader.open(command, keys.out(rid), "0", true);
    await r.xadd(keys.out(rid), "*", "e", JSON.stringify(chunk("late")));
    expect(await take(sub, 1)).toEqual(["late"]);
    sub.close();
  });
});

it("entries pushed while the subscriber was disconnected are read once it is back", async () => {
  await withReader({ pollMs: 60_000 }, async (reader, command) => {
    const rid = "push-reconnect";
    await register(rid, reader);
    const sub = reader.open(command, keys.out(rid), "0", true);
    await write(rid, "A");
    expect(await take(sub, 1)).toEqual(["A"]);
    const back = new Promise<void>((resolve) => {
      // resubscribed once the push connection is ready again (our own listener runs after the reader's)
      const sub = (reader as unknown as { subscriber: Redis }).subscriber;
      sub.once("ready", () => resolve());
    });
    await r.client("KILL", "TYPE", "pubsub");
    await write(rid, "B", "C"); // nobody is subscribed: this message is lost
    await back;
    expect(await take(sub, 2)).toEqual(["B", "C"]);
    await write(rid, "D");
    expect(await take(sub, 1)).toEqual(["D"]);
    sub.close();
  });
});

it("a message for a stream nobody here relays, or a malformed one, is ignored", async () => {
  await withReader({ pollMs: 60_000 }, async (reader, command) => {
    const rid = "push-other";
    await register(rid, reader);
    const sub = reader.open(command, keys.out(rid), "0", true);
    await r.spublish(reader.pushChannel, "garbage");
    await r.spublish(reader.pushChannel, `${keys.out("nobody")}\n0\n1-0\n{}`);
    // truncated messages naming the stream this reader relays: nothing after the key, no entry
    await r.spublish(reader.pushChannel, keys.out(rid));
    await r.spublish(reader.pushChannel, `${keys.out(rid)}\n0`);
    await write(rid, "A");
    expect(await take(sub, 1)).toEqual(["A"]);
    sub.close();
  });
});
