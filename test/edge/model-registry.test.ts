// The edge's served-model list on a real redis-server: cached, and when the cache
// expires under a burst, the burst shares one read of the pool registry. A request
// finds its model in a list past its cache time while one read refreshes it, but not
// one far past it, and a model that list lacks is looked up fresh.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { ModelRegistry } from "../../edge/models.js";
import { keys } from "../../contract/queue/keys.js";
import { commandCalls, startRedis, type RedisServer } from "../helpers/redis.js";
import { registerPool } from "./helpers.js";

let server: RedisServer;
let r: Redis;
beforeAll(async () => {
  server = await startRedis();
  r = server.client();
});
afterAll(() => server?.stop());

const calls = (cmd: string) => commandCalls(r, cmd);

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

it("a request is served from a list past its cache time while it is refreshed; a model it lacks is read fresh", async () => {
  await registerPool(r, "pool-c", ["s-1"]);
  let clock = 2_000_000;
  const registry = new ModelRegistry(2_000, () => clock);
  const ids = async () => (await registry.list(r)).map((m) => m.id);
  expect(await ids()).toContain("s-1");

  // s-1's pool leaves and s-2's arrives; the list is now past its cache time
  await r.zrem(keys.pools(), "pool-c");
  await registerPool(r, "pool-d", ["s-2"]);
  clock += 2_000;
  const reads = await calls("zrangebyscore");
  expect((await registry.findForRequest(r, "s-1"))?.id).toBe("s-1"); // from the old list, at once
  expect(await calls("zrangebyscore")).toBe(reads + 1); // the one refresh it started
  expect(await ids()).toEqual(expect.arrayContaining(["s-2"])); // done: the list is fresh now
  expect(await ids()).not.toContain("s-1");
  expect(await registry.findForRequest(r, "s-1")).toBeNull();

  // a model the old list lacks is looked up, not refused from the old list
  await registerPool(r, "pool-e", ["s-3"]);
  clock += 2_000;
  expect((await registry.findForRequest(r, "s-3"))?.id).toBe("s-3");

  // a list far past its cache time answers nothing before it is read again
  await r.zrem(keys.pools(), "pool-e");
  clock += 20_000;
  expect(await registry.findForRequest(r, "s-3")).toBeNull();
});

it("with no cache time every request reads the registry", async () => {
  await registerPool(r, "pool-f", ["u-1"]);
  const registry = new ModelRegistry(0, () => Date.now());
  expect((await registry.findForRequest(r, "u-1"))?.id).toBe("u-1");
  await r.zrem(keys.pools(), "pool-f");
  expect(await registry.findForRequest(r, "u-1")).toBeNull();
});
