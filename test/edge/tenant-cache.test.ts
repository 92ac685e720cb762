// The edge's per-process tenant records (edge/tenant-cache.ts) on a real redis-server:
// fresh for their cache time; past it (up to 10 of them) the old record answers while
// one read refreshes it; far past it, or for a deleted tenant, the record is read again.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { TenantCache } from "../../edge/tenant-cache.js";
import { seedApiKey } from "../../edge/tenants.js";
import { keys } from "../../contract/queue/keys.js";
import { commandCalls, startRedis, type RedisServer } from "../helpers/redis.js";

let server: RedisServer;
let r: Redis;
beforeAll(async () => {
  server = await startRedis();
  r = server.client();
});
afterAll(() => server?.stop());

const gets = () => commandCalls(r, "get");
const seed = (rpm: number) => seedApiKey(r, { tenantId: "t-1", key: "sk-tenant-cache-1", limits: { requests_per_minute: rpm } });

it("answers from a record past its cache time while one read refreshes it", async () => {
  await seed(10);
  let clock = 1_000_000;
  const cache = new TenantCache(1_000, () => clock);
  const rpm = async () => (await cache.get(r, "t-1"))?.limits.requests_per_minute;
  expect(await rpm()).toBe(10);
  const before = await gets();
  expect(await rpm()).toBe(10); // fresh: no read
  expect(await gets()).toBe(before);

  await seed(20);
  clock += 1_000;
  // past its cache time: the old record at once, and one refresh for a burst
  const burst = await Promise.all(Array.from({ length: 5 }, () => rpm()));
  expect(burst).toEqual([10, 10, 10, 10, 10]);
  expect(await gets()).toBe(before + 1);
  await cache.refreshed("t-1");
  expect(await rpm()).toBe(20);

  // far past its cache time: read before answering
  await seed(30);
  clock += 10_000;
  expect(await rpm()).toBe(30);
});

it("a deleted tenant is not answered from the cache once its refresh saw it gone", async () => {
  await seedApiKey(r, { tenantId: "t-2", key: "sk-tenant-cache-2" });
  let clock = 2_000_000;
  const cache = new TenantCache(1_000, () => clock);
  expect(await cache.get(r, "t-2")).not.toBeNull();
  await r.del(keys.tenant("t-2"));
  clock += 1_000;
  expect(await cache.get(r, "t-2")).not.toBeNull(); // the old record, while it is refreshed
  await cache.refreshed("t-2");
  expect(await cache.get(r, "t-2")).toBeNull();
});

it("with no cache time every request reads the record", async () => {
  await seedApiKey(r, { tenantId: "t-3", key: "sk-tenant-cache-3" });
  const cache = new TenantCache(0, () => Date.now());
  expect(await cache.get(r, "t-3")).not.toBeNull();
  await r.del(keys.tenant("t-3"));
  expect(await cache.get(r, "t-3")).toBeNull();
});
