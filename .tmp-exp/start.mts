import { Miniflare } from "miniflare";
let t = performance.now();
const mf = new Miniflare({
  workers: [
    { name: "main", modules: true, scriptPath: "/tmp/wb/entry-worker.js", modulesRoot: "/tmp/wb", compatibilityDate: "2026-04-01", compatibilityFlags: ["nodejs_compat", "enable_request_signal"], bindings: { REDIS_URL: "redis://127.0.0.1:1" } },
    { name: "bad", modules: true, scriptPath: "/tmp/wb/entry-worker.js", modulesRoot: "/tmp/wb", compatibilityDate: "2026-04-01", compatibilityFlags: ["nodejs_compat", "enable_request_signal"], bindings: { REDIS_URL: "http://x", KEEPALIVE_MS: "abc" } },
  ],
  port: 0,
});
const url = await mf.ready;
console.log("start ms", performance.now() - t);
t = performance.now();
let res = await fetch(new URL("/v1/models", url), { headers: { authorization: "Bearer x" } });
console.log(res.status, await res.text(), performance.now() - t);
const bad = await mf.getWorker("bad");
res = await bad.fetch("http://x/v1/models") as any;
console.log(res.status, await res.text());
t = performance.now();
await mf.dispose();
console.log("dispose ms", performance.now() - t);
