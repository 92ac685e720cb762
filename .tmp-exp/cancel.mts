import { Miniflare } from "miniflare";
import { startRedis } from "../test/helpers/redis.js";
import { registerPool, FakePool, chatBody, SseReader } from "../test/edge/helpers.js";
import { seedApiKey } from "../edge/tenants.js";
import { keys } from "../proto/queue/keys.js";

const redis = await startRedis();
const r = redis.client();
await registerPool(r, "p", ["test-model"]);
await seedApiKey(r, { tenantId: "t", key: "sk-test", limits: { requests_per_minute: 100, tokens_per_minute: 100000 } });
const mf = new Miniflare({
  modules: true, scriptPath: "/tmp/wb/entry-worker.js", modulesRoot: "/tmp/wb",
  compatibilityDate: "2026-04-01",
  compatibilityFlags: ["nodejs_compat", "enable_request_signal"],
  bindings: { REDIS_URL: redis.url, KEEPALIVE_MS: process.env.KA ?? "200", MODEL_CACHE_MS: "0" },
  port: 0,
  handleRuntimeStdio(out, err) { out.on("data", (d) => process.stdout.write("[wd] " + d)); err.on("data", (d) => process.stderr.write("[wd!] " + d)); },
});
const url = await mf.ready;
const pool = new FakePool(redis);
const ctl = new AbortController();
const res = await fetch(new URL("/v1/chat/completions", url), { method: "POST", signal: ctl.signal, headers: { authorization: "Bearer sk-test", "content-type": "application/json" }, body: chatBody({ stream: true }) });
console.log(res.status, [...res.headers]);
const sse = new SseReader(res);
const job = await pool.claim("t");
await pool.chunk(job.id, "hi");
console.log(await sse.nextEvent());
const t0 = performance.now();
ctl.abort();
let n = 0;
const timer = setInterval(() => { if (!process.env.IDLE) pool.chunk(job.id, "x" + n++) }, 20);
while (!(await r.exists(keys.cancel(job.id)))) await new Promise((r) => setTimeout(r, 5));
clearInterval(timer);
console.log("cancel after", performance.now() - t0, "ms, chunks written", n);
await new Promise((r) => setTimeout(r, 300));
console.log("clients", (await r.client("LIST") as string).split("\n").length - 1);
await mf.dispose();
await redis.stop();
