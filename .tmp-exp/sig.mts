import { Miniflare } from "miniflare";
const script = `
export default {
  async fetch(req, env, ctx) {
    const url = new URL(req.url);
    const t0 = Date.now();
    let p = new Promise((res) => req.signal.addEventListener("abort", () => { console.log("ABORT fired after", Date.now() - t0); res(); }));
    ctx.waitUntil(p);
    if (url.pathname === "/wait") { await new Promise((r) => setTimeout(r, 3000)); console.log("wait done, aborted=", req.signal.aborted); return new Response("late"); }
    return new Response("ok");
  }
}`;
const mf = new Miniflare({ modules: true, script, compatibilityDate: "2026-04-01", compatibilityFlags: ["nodejs_compat", "enable_request_signal"], port: 0,
  unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
  handleRuntimeStdio(out, err) { out.on("data", (d) => process.stdout.write("[wd] " + d)); err.on("data", (d) => process.stdout.write("[wd!] " + d)); } });
const url = await mf.ready;
const direct = await mf.unsafeGetDirectURL();
console.log(url.href, direct.href);
for (const base of [url, direct]) {
  const ctl = new AbortController();
  const p = fetch(new URL("/wait", base), { signal: ctl.signal }).catch((e) => console.log("client:", e.name));
  await new Promise((r) => setTimeout(r, 300));
  console.log("aborting", base.href);
  ctl.abort();
  await p;
  await new Promise((r) => setTimeout(r, 3500));
}
await mf.dispose();
