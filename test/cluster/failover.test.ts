// A Redis Cluster master dies (SIGKILL) while 50 streams are generating: the master
// owning the model's queue (jobs, leases, owners) and a third of the response streams.
// Its replica is promoted; every stream must end with exactly the fault-free text, or
// (for a request whose state was lost with the master) with a clean retryable error
// whose text so far is a prefix of the fault-free text: never a hang, never a
// duplicated token. The counts and the time to recover are printed.
import OpenAI from "openai";
import { afterAll, beforeAll, expect, it } from "vitest";
import { keys } from "../../contract/queue/keys.js";
import { expectedGeneration } from "../../sim/text-model.js";
import { startFullStack, SIM_MODEL, type FullStack } from "../helpers/full-stack.js";
import { waitFor } from "../../scripts/wait.js";

const KEY = "sk-cluster-failover-0001";
const STREAMS = 50;
const MAX_TOKENS = 200;
/** a stream not finished this long after the kill counts as hung */
const HANG_MS = 45_000;
let stack: FullStack;

beforeAll(async () => {
  stack = await startFullStack({ topology: "cluster", workers: 2, sim: { decodeMsPerToken: 25, decodeMsPerRunning: 0, maxRunning: 64 } });
  await stack.seed({ tenantId: "failover", key: KEY });
});
afterAll(async () => {
  await stack?.stop();
});

const chatPrompt = (user: string) => `<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n`;

function expectedText(user: string): string {
  const w = stack.workers[0]!;
  const gen = expectedGeneration(w.textModel, w.tokenizer.encode(chatPrompt(user)), { seed: 0, maxNewTokens: MAX_TOKENS });
  return w.tokenizer.decode(gen.outputIds);
}

interface Outcome {
  rid: string;
  text: string;
  error?: { status?: number; message: string };
  hung: boolean;
  endedAt: number;
}

it("SIGKILL of a master during 50 streams: each completes with the fault-free text or a clean retryable error", async () => {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: KEY, maxRetries: 0 });
  const prompts = Array.from({ length: STREAMS }, (_, i) => `Tell me story number ${i} about the sea.`);
  let chunked = 0;
  let allStarted!: () => void;
  const started = new Promise<void>((r) => (allStarted = r));
  const rids: string[] = [];
  const runs = prompts.map(async (content, i): Promise<Outcome> => {
    let text = "";
    let first = true;
    const signal = AbortSignal.timeout(HANG_MS + 30_000);
    try {
      const { data: stream, response } = await client.chat.completions
        .create({ model: SIM_MODEL, stream: true, max_tokens: MAX_TOKENS, temperature: 0, messages: [{ role: "user", content }] }, { signal })
        .withResponse();
      rids[i] = response.headers.get("x-request-id") ?? "";
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? "";
        if (first && text.length > 0) {
          first = false;
          if (++chunked === STREAMS) allStarted();
        }
      }
      return { rid: rids[i] ?? "", text, hung: false, endedAt: Date.now() };
    } catch (err) {
      if (first && ++chunked === STREAMS) allStarted();
      const e = err as { status?: number; message: string; name?: string };
      return { rid: rids[i] ?? "", text, error: { status: e.status, message: e.message }, hung: signal.aborted, endedAt: Date.now() };
    }
  });

  // Every stream is generating: kill the master holding the model's queue.
  await started;
  const cluster = stack.cluster!;
  const victim = await cluster.masterOf(keys.jobs(SIM_MODEL));
  const homes = await Promise.all(rids.map((rid) => cluster.masterOf(keys.out(rid))));
  const streamsOnVictim = homes.filter((p) => p === victim).length;
  const killedAt = Date.now();
  await cluster.kill(victim);
  await cluster.waitHealthy(30_000);
  const promotedAfter = Date.now() - killedAt;

  const results = await Promise.all(runs);
  const lastEnd = Math.max(...results.map((r) => r.endedAt)) - killedAt;
  const ok = results.filter((r, i) => !r.error && r.text === expectedText(prompts[i]!));
  const errored = results.filter((r) => r.error && !r.hung);
  const hung = results.filter((r) => r.hung);
  const wrong = results.filter((r, i) => !r.error && r.text !== expectedText(prompts[i]!));
  console.log(
    `failover: killed master :${victim} (queue slot, ${streamsOnVictim} of the response streams) under ${STREAMS} streams; replica promoted after ${promotedAfter} ms; ` +
      `all streams ended ${lastEnd} ms after the kill: ${ok.length} fault-free, ${errored.length} clean errors, ` +
      `${hung.length} hung, ${wrong.length} wrong text` +
      (errored.length ? `; errors: ${[...new Set(errored.map((r) => `${r.error!.status ?? "-"} ${r.error!.message.slice(0, 80)}`))].join(" | ")}` : ""),
  );
  // On a failure, show how the first wrong texts differ from the fault-free one.
  for (const r of wrong.slice(0, 3)) {
    const want = expectedText(prompts[results.indexOf(r)]!);
    let at = 0;
    while (at < r.text.length && r.text[at] === want[at]) at++;
    console.log(`wrong text ${r.rid}: ${r.text.length} vs ${want.length} chars, differs at ${at}: got ${JSON.stringify(r.text.slice(at, at + 40))}, want ${JSON.stringify(want.slice(at, at + 40))}`);
  }
  expect(streamsOnVictim).toBeGreaterThan(0);
  expect(hung).toHaveLength(0);
  expect(wrong).toHaveLength(0);
  results.forEach((r, i) => {
    // an error is retryable (5xx / 429, or a stream error event) and never repeats text
    if (r.error) {
      expect(expectedText(prompts[i]!).startsWith(r.text)).toBe(true);
      if (r.error.status !== undefined) expect(r.error.status === 429 || r.error.status >= 500).toBe(true);
    }
  });
  expect(ok.length + errored.length).toBe(STREAMS);
  // the system serves again afterwards
  await waitFor(async () => {
    const res = await client.chat.completions.create({ model: SIM_MODEL, max_tokens: 4, messages: [{ role: "user", content: "after" }] }).catch(() => null);
    return res?.choices[0]?.message.content !== undefined;
  }, "a request after the failover", 30_000, 200);
});
