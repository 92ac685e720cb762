// Coalesced writes on a real redis-server (contract/node/coalesce-writes.ts): the
// commands one event-loop turn makes reach Redis in one read, replies still match
// their commands (plain, scripted, pipelined), and a reconnected socket is coalesced too.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { coalesceWrites } from "../../contract/node/coalesce-writes.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";

let server: RedisServer;
let probe: Redis;
beforeAll(async () => {
  server = await startRedis();
  probe = server.client();
});
afterAll(() => server?.stop());

/** Reads Redis made from its clients' sockets so far (INFO's own read included). */
const reads = async () => Number(/total_reads_processed:(\d+)/.exec(await probe.info("stats"))![1]);

/** 20 commands issued in one turn, of three kinds; resolves with the reads Redis made for them. */
async function burst(client: Redis): Promise<number> {
  await probe.flushall();
  const before = await reads();
  const pending = Array.from({ length: 20 }, (_, i) => {
    if (i % 3 === 0) return client.set(`k${i}`, `v${i}`).then(() => client.get(`k${i}`));
    if (i % 3 === 1) return client.eval("return ARGV[1]", 0, `s${i}`);
    return client.pipeline().incr(`n${i}`).get(`n${i}`).exec().then((r) => r![1]![1]);
  });
  const got = await Promise.all(pending);
  expect(got).toEqual(Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? `v${i}` : i % 3 === 1 ? `s${i}` : "1")));
  return (await reads()) - before - 1; // the second INFO's own read
}

it("one turn's commands reach Redis in one write, and after a reconnect too", async () => {
  const client = server.client();
  coalesceWrites(client);
  await client.ping();
  // 20 commands then the 7 SET-then-GET follow-ups: two turns, so two reads
  expect(await burst(client)).toBe(2);

  // Listen before the kill: under load the client can be ready again before restart() returns.
  // Not events.once: it rejects on the "error" events of the refused reconnects in between.
  const readyAgain = new Promise<void>((resolve) => client.once("ready", () => resolve()));
  await server.kill();
  await server.restart();
  await readyAgain;
  expect(await burst(client)).toBe(2);
});
