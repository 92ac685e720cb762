// The single-Redis shard subscriber on a real redis-server: a subscribe issued
// while its connection is still in ioredis's handshake (status "connect", before
// the SETNAME reply). SSUBSCRIBE may be written at once in that state, so the
// handshake's later commands meet a connection already in subscriber mode; the
// ready check's INFO being refused there made the pool exit at start (seen once
// in CI).
import type { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { shardSubscriber } from "../../contract/node/shard-subscriber.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

it("subscribes when asked during the connection's handshake, and receives without an error", async () => {
  const base = redis.client();
  // Catch the subscriber's own connection to act at its "connect" event.
  const opened: Redis[] = [];
  const duplicate = base.duplicate.bind(base);
  base.duplicate = ((...args: Parameters<Redis["duplicate"]>) => {
    const c = duplicate(...args);
    opened.push(c);
    return c;
  }) as Redis["duplicate"];
  const errors: string[] = [];
  const sub = shardSubscriber(base, (e) => errors.push(e.message));
  expect(opened).toHaveLength(1);
  await new Promise<void>((resolve, reject) => opened[0]!.once("connect", () => sub.subscribe("sg:test:ch").then(resolve, reject)));
  const received = new Promise<[string, string]>((resolve) => sub.onMessage((ch, m) => resolve([ch, m])));
  await new Promise<void>((resolve) => (opened[0]!.status === "ready" ? resolve() : opened[0]!.once("ready", () => resolve())));
  expect(await base.spublish("sg:test:ch", "hello")).toBe(1);
  expect(await received).toEqual(["sg:test:ch", "hello"]);
  expect(errors).toEqual([]);
  sub.close();
});
