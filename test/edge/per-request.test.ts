// The Workers shape of EdgeDeps (one connection per request, XREAD BLOCK on
// it), driven through app.fetch on Node: the same app code must stream, and
// every per-request connection must be closed when its response ends.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createApp } from "../../edge/app.js";
import { workerDeps } from "../../edge/entry-worker.js";
import { FakePool, MODEL, SseReader, chatBody, registerPool, startHarnessRedisOnly, type RedisOnly } from "./helpers.js";

let env: RedisOnly;
let app: ReturnType<typeof createApp>;
let pool: FakePool;
let open = 0;
const KEY = "sk-worker-shape";

beforeAll(async () => {
  env = await startHarnessRedisOnly();
  await registerPool(env.r, "p", [MODEL]);
  await env.seed({ tenantId: "w", key: KEY });
  const deps = workerDeps(env.redis.url, { keepaliveMs: 50, modelCacheMs: 0 });
  const inner = deps.redis;
  deps.redis = async () => {
    const lease = await inner();
    open++;
    return { redis: lease.redis, release: () => (open--, lease.release()) };
  };
  app = createApp(deps);
  pool = new FakePool(env.redis);
});
afterAll(() => env?.stop());

const req = (body: string) =>
  app.fetch(new Request("http://edge/v1/chat/completions", { method: "POST", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body }));

it("streams through a per-request connection and closes it at the end", async () => {
  const res = await req(chatBody({ stream: true }));
  expect(res.status).toBe(200);
  const sse = new SseReader(res);
  expect((await sse.next())?.comment).toBe("queued position=1");
  expect(open).toBe(1);
  const job = await pool.claim("w");
  await pool.chunk(job.id, "per-", null);
  await pool.chunk(job.id, "request", "stop");
  await pool.done(job.id);
  const items = await sse.rest();
  let text = "";
  for (const it of items) if (it.data && it.data !== "[DONE]") text += JSON.parse(it.data).choices[0]?.delta?.content ?? "";
  expect(text).toBe("per-request");
  expect(open).toBe(0);
});

it("non-streaming and error responses release their connection too", async () => {
  const [res] = await Promise.all([req(chatBody()), pool.serve("w", ["ok"])]);
  expect(res.status).toBe(200);
  expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe("ok");
  const bad = await req("{");
  expect(bad.status).toBe(400);
  expect(open).toBe(0);
});
