// Measures one streaming request: time to first token, inter-token gaps and
// token count, for the full HTTP path and for a direct gRPC call alike.
import { round, summarize } from "./stats.js";

export interface StreamSample {
  ttftMs: number;
  /** gaps between successive content events, ms */
  itlMs: number[];
  /** direct gRPC only: gaps between the frames that add visible text (see direct.ts) */
  textItlMs?: number[];
  tokens: number;
  totalMs: number;
  error?: string;
}

/** Runs `count` tasks with at most `concurrency` in flight; `onDone` is called after each. */
export async function runConcurrent<T>(count: number, concurrency: number, task: (i: number) => Promise<T>, onDone?: () => void): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
      onDone?.();
    }
  });
  await Promise.all(lanes);
  return results;
}

/** Consumes an OpenAI SSE stream from fetch and times it. Token count comes from the final usage chunk. */
export async function timeSseStream(url: string, apiKey: string, body: unknown): Promise<StreamSample> {
  const start = performance.now();
  let first = -1;
  let last = -1;
  const itl: number[] = [];
  let tokens = 0;
  const res = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok || !res.body) return { ttftMs: NaN, itlMs: [], tokens: 0, totalMs: NaN, error: `HTTP ${res.status}: ${await res.text()}` };
  const decoder = new TextDecoder();
  let buf = "";
  for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(part, { stream: true });
    let cut: number;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const event = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      for (const line of event.split("\n")) {
        if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
        const msg = JSON.parse(line.slice(6));
        if (msg.usage) tokens = msg.usage.completion_tokens;
        const content = msg.choices?.[0]?.delta?.content ?? msg.choices?.[0]?.text;
        if (content) {
          const now = performance.now();
          if (first < 0) first = now;
          else itl.push(now - last);
          last = now;
        }
      }
    }
  }
  return { ttftMs: first - start, itlMs: itl, tokens, totalMs: performance.now() - start };
}

/** The figures every streaming scenario reports for a set of samples (errors excluded from the latencies). */
export function summarizeStreams(samples: readonly StreamSample[], wallMs: number) {
  const ok = samples.filter((s) => !s.error);
  const ttft = summarize(ok.map((s) => s.ttftMs));
  const itl = summarize(ok.flatMap((s) => s.itlMs));
  const textItl = ok.some((s) => s.textItlMs) ? summarize(ok.flatMap((s) => s.textItlMs ?? [])) : undefined;
  const e2e = summarize(ok.map((s) => s.totalMs));
  const tokens = ok.reduce((n, s) => n + s.tokens, 0);
  return {
    requests: samples.length,
    errors: samples.length - ok.length,
    firstError: samples.find((s) => s.error)?.error,
    ttft_p50_ms: round(ttft.p50),
    ttft_p99_ms: round(ttft.p99),
    itl_p50_ms: round(itl.p50),
    itl_p99_ms: round(itl.p99),
    ...(textItl ? { text_itl_p99_ms: round(textItl.p99) } : {}),
    e2e_p50_ms: round(e2e.p50, 0),
    tokens,
    tokens_per_s: round((tokens / wallMs) * 1000, 0),
    wall_ms: round(wallMs, 0),
  };
}

export type StreamSummary = ReturnType<typeof summarizeStreams>;
