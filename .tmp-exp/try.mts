import { Miniflare } from "miniflare";
import { startRedis } from "../test/helpers/redis.js";
import { registerPool, FakePool, chatBody, SseReader } from "../test/edge/helpers.js";
import { seedApiKey } from "../edge/tenants.js";
import { readFileSync } from "node:fs";

const redis = await startRedis();
const r = redis.client();
await registerPool(r, "p", ["test-model"]);
await seedApiKey(r, { tenantId: "t", key: "sk-test" });
const mf = new Miniflare({
  modules: true, scriptPath: "/tmp/wb/entry-worker.js", modulesRoot: "/tmp/wb",
  compatibilityDate: "2026-04-01",
  compatibilityFlags: ["nodejs_compat", "enable_request_signal"],
  bindings: { REDIS_URL: redis.url, KEEPALIVE_MS: "200", MODEL_CACHE_MS: "0" },
  port: 0,
  handleRuntimeStdio(out, err) { out.on("data", (d) => process.stdout.write("[wd] " + d)); err.on("data", (d) => process.stderr.write("[wd!] " + d)); },
});
const url = await mf.ready;
console.log("ready", url.href);
let res = await fetch(new URL("/v1/models", url), { headers: { authorization: "Bearer sk-test" } });
console.log(res.status, await res.text());
const pool = new FakePool(redis);
res = await fetch(new URL("/v1/chat/completions", url), { method: "POST", headers: { authorization: "Bearer sk-test", "content-type": "application/json" }, body: chatBody({ stream: true }) });
console.log(res.status, [...res.headers]);
const sse = new SseReader(res);
const job = await pool.claim("t");
await pool.chunk(job.id, "hi", "stop"); await pool.done(job.id);
console.log(await sse.rest());
console.log("clients", await r.client("LIST"));
await mf.dispose();
await redis.stop();
