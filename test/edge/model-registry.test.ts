// The edge's served-model list on a real redis-server: cached, and when the cache
// expires under a burst, the burst shares one read of the pool registry.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { ModelRegistry } from "../../edge/models.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { registerPool } from "./helpers.js";

let server: RedisServer;
let r: Redis;
beforeAll(async () => {
  server = await startRedis();
  r = server.client();
});
afterAll(() => server?.stop());

const calls = async (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(await r.info("commandstats"))?.[1] ?? 0);

it("a burst at cache expiry reads the registry once, and every caller gets the list", async () => {
  await registerPool(r, "pool-a", ["m-1", "m-2"]);
  let clock = 1_000_000;
  const registry = new ModelRegistry(2_000, () => clock);
  expect((await registry.list(r)).map((m) => m.id)).toEqual(["m-1", "m-2"]);
  const before = await calls("mget");
  expect((await registry.list(r)).map((m) => m.id)).toEqual(["m-1", "m-2"]); // cached
  expect(await calls("mget")).toBe(before);

  clock += 2_000; // expired
  await registerPool(r, "pool-b", ["m-3"]);
  const lists = await Promise.all(Array.from({ length: 20 }, () => registry.list(r)));
  for (const l of lists) expect(l.map((m) => m.id)).toEqual(["m-1", "m-2", "m-3"]);
  expect(await calls("mget")).toBe(before + 1);
});

it("a failed read fails its callers and the next call reads again", async () => {
  const registry = new ModelRegistry(2_000, () => Date.now());
  const dead = server.client();
  dead.disconnect();
  const results = await Promise.allSettled([registry.list(dead), registry.list(dead)]);
  expect(results.map((x) => x.status)).toEqual(["rejected", "rejected"]);
  expect((await registry.list(r)).length).toBeGreaterThan(0);
});
