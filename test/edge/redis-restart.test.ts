// Redis going away and coming back: the edge answers 503 + Retry-After while it
// is down (fast, never a hang or a 500) and serves again once it is back.
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startNodeEdge, type NodeEdge } from "../../edge/entry-node.js";
import { seedApiKey } from "../../edge/tenants.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { waitFor } from "../../scripts/wait.js";

let redis: RedisServer;
let edge: NodeEdge;
const KEY = "sk-restart-000000001";

beforeAll(async () => {
  redis = await startRedis();
  await seedApiKey(redis.client(), { tenantId: "restart", key: KEY });
  edge = await startNodeEdge({ redisUrl: redis.url, port: 0, config: { modelCacheMs: 0 }, logger: pino({ level: "silent" }) });
});
afterAll(async () => {
  await edge?.close();
  await redis?.stop();
});

const models = () => fetch(`${edge.url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` }, signal: AbortSignal.timeout(10_000) });

it("answers 503 with Retry-After while Redis is down, and recovers when it is back", async () => {
  expect((await models()).status).toBe(200);
  await redis.kill();
  const t0 = performance.now();
  const down = await models();
  const ms = performance.now() - t0;
  expect(down.status).toBe(503);
  expect(down.headers.get("retry-after")).toBe("1");
  expect(((await down.json()) as { error: { code: string } }).error.code).toBe("service_unavailable");
  expect(ms).toBeLessThan(5_000);
  await redis.restart();
  // The data is gone (no persistence): the key is unknown now, which is a 401, not an error.
  const back = await waitFor(async () => {
    const r = await models();
    return r.status !== 503 ? r : undefined;
  }, "the edge to reconnect");
  expect(back.status).toBe(401);
  await seedApiKey(redis.client(), { tenantId: "restart", key: KEY });
  expect((await models()).status).toBe(200);
});
