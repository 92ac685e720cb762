// The live status page: static HTML + CSS + vanilla JS (no build step) that
// polls /status.json every second and redraws. Everything from the server is
// put in the DOM with textContent (tenant ids and error messages are data,
// never markup). With ADMIN_TOKEN set, open /status?token=<token>: the script
// sends the same token as a Bearer header on each poll.
export function statusPage(opts: { pollMs: number }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>speedgate pool status</title>
<style>
  :root { --bg:#0f1419; --panel:#182028; --line:#2a3540; --fg:#e6edf3; --dim:#8b98a5; --ok:#3fb950; --warn:#d29922; --bad:#f85149; --acc:#58a6ff; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--fg); }
  header { display:flex; align-items:baseline; gap:16px; padding:14px 20px; border-bottom:1px solid var(--line); }
  header h1 { font-size:18px; margin:0; }
  header .dim { color:var(--dim); }
  main { padding:16px 20px; display:grid; gap:16px; grid-template-columns: 1fr; }
  .cards { display:grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap:12px; }
  .card { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:10px 14px; }
  .card .v { font-size:24px; font-weight:600; font-variant-numeric: tabular-nums; }
  .card .k { color:var(--dim); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
  section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:10px 14px; }
  section h2 { font-size:14px; margin:2px 0 8px; color:var(--dim); text-transform:uppercase; letter-spacing:.05em; }
  table { width:100%; border-collapse:collapse; font-variant-numeric: tabular-nums; }
  th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); white-space:nowrap; }
  th { color:var(--dim); font-weight:500; font-size:12px; }
  td.num, th.num { text-align:right; }
  .badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; }
  .s-ready { background:rgba(63,185,80,.18); color:var(--ok); }
  .s-draining, .s-starting, .s-not_ready { background:rgba(210,153,34,.18); color:var(--warn); }
  .s-unreachable, .s-circuit_open { background:rgba(248,81,73,.18); color:var(--bad); }
  .bar { position:relative; height:8px; width:90px; background:var(--line); border-radius:4px; display:inline-block; vertical-align:middle; margin-right:6px; }
  .bar > i { position:absolute; left:0; top:0; bottom:0; background:var(--acc); border-radius:4px; }
  .empty { color:var(--dim); font-style:italic; }
  .err td { white-space:normal; }
  .err .code { color:var(--bad); font-weight:600; }
  #conn.bad { color:var(--bad); }
</style>
</head>
<body>
<header>
  <h1>speedgate pool <span id="pool-id" class="dim"></span></h1>
  <span id="models" class="dim"></span>
  <span style="flex:1"></span>
  <span id="conn" class="dim">connecting…</span>
</header>
<main>
  <div class="cards">
    <div class="card"><div class="k">in flight</div><div class="v" id="in-flight">–</div></div>
    <div class="card"><div class="k">tokens / s</div><div class="v" id="tps">–</div></div>
    <div class="card"><div class="k">queued (all pools)</div><div class="v" id="queued-total">–</div></div>
    <div class="card"><div class="k">ok / errors / cancelled</div><div class="v" id="outcomes">–</div></div>
    <div class="card"><div class="k">uptime</div><div class="v" id="uptime">–</div></div>
  </div>
  <section>
    <h2>Workers</h2>
    <table id="workers">
      <thead><tr><th>worker</th><th>model</th><th>state</th><th class="num">in flight</th><th class="num">running</th><th class="num">waiting</th><th>KV usage</th><th>cache hit rate</th><th class="num">tokens/s</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section>
    <h2>Queues per tenant</h2>
    <table id="queues">
      <thead><tr><th>model</th><th>tenant</th><th class="num">queued</th><th class="num">running here</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section>
    <h2>Recent errors</h2>
    <table id="errors" class="err">
      <thead><tr><th>time</th><th>kind</th><th>code</th><th>request</th><th>tenant</th><th>worker</th><th>message</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
<script>
(() => {
  const POLL_MS = ${Math.max(100, Math.floor(opts.pollMs))};
  const token = new URLSearchParams(location.search).get("token");
  const headers = token ? { authorization: "Bearer " + token } : {};
  const $ = (id) => document.getElementById(id);
  let polls = 0;

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else e.setAttribute(k, v);
    }
    for (const c of kids) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }
  const pct = (x) => (x == null ? "–" : (100 * x).toFixed(1) + "%");
  function bar(x) {
    if (x == null) return el("span", { class: "empty" }, "–");
    const b = el("span", { class: "bar" }, el("i"));
    b.firstChild.style.width = Math.max(0, Math.min(100, 100 * x)) + "%";
    return el("span", {}, b, pct(x));
  }
  function fill(tbody, rows, cols, emptyText) {
    tbody.replaceChildren();
    if (rows.length === 0) {
      tbody.append(el("tr", {}, el("td", { colspan: String(cols), class: "empty" }, emptyText)));
    }
    for (const r of rows) tbody.append(r);
  }
  function uptime(ms) {
    const s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return h ? h + "h " + m + "m" : m ? m + "m " + (s % 60) + "s" : s + "s";
  }

  let lastRedisOk = true;
  function render(d) {
    lastRedisOk = d.redisOk;
    $("pool-id").textContent = d.poolId;
    $("models").textContent = d.models.join(", ");
    $("in-flight").textContent = d.inFlight;
    $("tps").textContent = d.tokensPerSecond.toFixed(1);
    $("queued-total").textContent = d.queues.reduce((a, q) => a + q.queued, 0);
    $("outcomes").textContent = (d.outcomes.ok || 0) + " / " + ((d.outcomes.error || 0) + (d.outcomes.abandoned || 0)) + " / " + (d.outcomes.cancelled || 0);
    $("uptime").textContent = uptime(d.now - d.startedAt);
    fill($("workers").tBodies[0], d.workers.map((w) => {
      const state = w.circuit === "open" ? "circuit_open" : w.draining ? "draining" : w.state;
      const l = w.load;
      return el("tr", { "data-worker": w.address, "data-state": state },
        el("td", {}, w.address),
        el("td", {}, w.model || "–"),
        el("td", {}, el("span", { class: "badge s-" + state, "data-field": "state" }, state.replace("_", " "))),
        el("td", { class: "num", "data-field": "in-flight" }, w.inFlight),
        el("td", { class: "num" }, l ? l.running : "–"),
        el("td", { class: "num" }, l ? l.waiting : "–"),
        el("td", {}, bar(l ? l.kvUsage : null)),
        el("td", { "data-field": "cache-hit-rate" }, bar(l ? l.cacheHitRate : null)),
        el("td", { class: "num" }, w.tokensPerSecond.toFixed(1)));
    }), 9, "no workers");
    fill($("queues").tBodies[0], d.queues.map((q) =>
      el("tr", { "data-queue": q.model + "/" + q.tenant },
        el("td", {}, q.model),
        el("td", {}, q.tenant),
        el("td", { class: "num", "data-field": "queued" }, q.queued),
        el("td", { class: "num", "data-field": "in-flight" }, q.inFlight))), 4, "nothing queued or running");
    fill($("errors").tBodies[0], d.errors.map((e) =>
      el("tr", {},
        el("td", {}, new Date(e.at).toLocaleTimeString()),
        el("td", {}, e.kind),
        el("td", { class: "code" }, e.code),
        el("td", {}, e.requestId || ""),
        el("td", {}, e.tenant || ""),
        el("td", {}, e.worker || ""),
        el("td", {}, e.message))), 7, "no recent errors");
  }

  async function poll() {
    try {
      const res = await fetch("status.json", { headers, cache: "no-store" });
      if (!res.ok) throw new Error("HTTP " + res.status);
      render(await res.json());
      polls++;
      document.body.dataset.polls = String(polls);
      const d = lastRedisOk;
      $("conn").className = d ? "dim" : "bad";
      $("conn").textContent = (d ? "live" : "live · Redis unreachable") + " · updated " + new Date().toLocaleTimeString();
    } catch (e) {
      $("conn").className = "bad";
      $("conn").textContent = "cannot reach the pool (" + e.message + ")";
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }
  poll();
})();
</script>
</body>
</html>
`;
}
