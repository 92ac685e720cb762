// The fair queue on a saturated pool: tenant A keeps 10x more requests queued
// than tenant B, yet B gets its fair share of the served tokens and a short
// queue wait. Start-time fair queuing in claim.lua does this.
import { afterAll, beforeAll, expect, it } from "vitest";
import { startFullStack, SIM_MODEL, type FullStack } from "../helpers/full-stack.js";

let stack: FullStack;
beforeAll(async () => {
  // One worker and a pool that runs 4 requests at a time: everything else waits in Redis.
  stack = await startFullStack({ workers: 1, sim: { decodeMsPerToken: 2 }, pool: { maxInFlight: 4, claimBatch: 1 } });
  await stack.seed({ tenantId: "flood", key: "sk-flood-00000001" });
  await stack.seed({ tenantId: "quiet", key: "sk-quiet-00000001" });
});
afterAll(async () => {
  await stack?.stop();
});

interface Served {
  tenant: string;
  tokens: number;
  waitMs: number;
  doneAt: number;
}

/** One streamed request; wait = time to the first content token (queue wait + prefill). */
async function one(key: string, tenant: string): Promise<Served> {
  const t0 = performance.now();
  const res = await fetch(`${stack.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: SIM_MODEL, stream: true, stream_options: { include_usage: true }, max_tokens: 16, messages: [{ role: "user", content: "tick" }] }),
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let firstAt = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (!firstAt && text.includes('"content"')) firstAt = performance.now();
  }
  const usage = text
    .split("\n")
    .filter((l) => l.startsWith("data: {") && l.includes('"usage"'))
    .map((l) => JSON.parse(l.slice(6)).usage)
    .find(Boolean);
  return { tenant, tokens: usage.total_tokens, waitMs: firstAt - t0, doneAt: performance.now() };
}

it("a flooding tenant cannot starve a quiet one", async () => {
  const served: Served[] = [];
  let stop = false;
  const loop = async (key: string, tenant: string) => {
    while (!stop) {
      const s = await one(key, tenant);
      served.push(s);
      if (served.length >= 200) stop = true;
    }
  };
  // A keeps 40 requests outstanding, B keeps 4: 10x more queued.
  await Promise.all([
    ...Array.from({ length: 40 }, () => loop("sk-flood-00000001", "flood")),
    ...Array.from({ length: 4 }, () => loop("sk-quiet-00000001", "quiet")),
  ]);
  // Measure the steady state: skip the first completions (warm-up) and everything after the stop.
  const window = served.slice(20, 200);
  const tokens = (t: string) => window.filter((s) => s.tenant === t).reduce((n, s) => n + s.tokens, 0);
  const share = tokens("quiet") / (tokens("quiet") + tokens("flood"));
  const median = (t: string) => {
    const w = window.filter((s) => s.tenant === t).map((s) => s.waitMs).sort((a, b) => a - b);
    return w[Math.floor(w.length / 2)];
  };
  console.log(
    `quiet tenant's share of served tokens: ${(share * 100).toFixed(1)}% (fair: 50%); median wait quiet ${median("quiet").toFixed(0)} ms vs flood ${median("flood").toFixed(0)} ms`,
  );
  expect(Math.abs(share - 0.5)).toBeLessThanOrEqual(0.05);
  expect(median("quiet")).toBeLessThan(median("flood") / 3);
});
