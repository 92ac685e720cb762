// The oversized scenario's flooding tenant, on a thread of its own. Writing ten 1 MB
// bodies and reading their answers keeps a client's event loop busy for several ms;
// on the scenario's own loop that time would be counted in the other tenant's TTFT,
// a cost of the load generator, not of the gateway. A separate client machine would
// not share a loop with the other tenant either.
import { Agent, request } from "node:http";
import { Piscina } from "piscina";
import { bigPrompt } from "./big-prompt.js";

export type PromptKind = "words" | "x";

/** One task for the thread: "alone" sends `count` bodies one after the other, "flood" every body at once. */
export interface FloodTask {
  url: string;
  apiKey: string;
  model: string;
  /** prompt size in bytes */
  bytes: number;
  /** distinct bodies per kind (a flood sends each once) */
  bodies: number;
  /** makes every prompt distinct from another run's */
  salt: number;
  kind: PromptKind;
  mode: "alone" | "flood";
  count?: number;
}

export interface Refusal {
  ms: number;
  status: string;
}

/** keep-alive, as a client sending many requests would be */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/**
 * `body` is sent as is (JSON, serialized and encoded beforehand). node:http rather than
 * fetch: measured side by side on ten 1 MB refusals at once, fetch's handling of the body
 * added 15-35 ms to the p50 (80 vs 48 ms), which is the client's cost, not the gateway's.
 */
function timeRefusal(url: URL, apiKey: string, body: Buffer): Promise<Refusal> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        timeout: 180_000,
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", "content-length": body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          let code = "";
          try {
            code = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { error?: { code?: string } }).error?.code ?? "";
          } catch {}
          resolve({ ms: performance.now() - t0, status: `${res.statusCode}${code ? " " + code : ""}` });
        });
        res.on("error", (e) => resolve({ ms: performance.now() - t0, status: `http: ${e.name}` }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({ ms: performance.now() - t0, status: `http: ${e.message}` }));
    req.end(body);
  });
}

/** The bodies of each kind and salt, built once per thread (a 1 MB JSON body takes a while to build). */
const built = new Map<string, Buffer[]>();

function bodiesOf(t: FloodTask): Buffer[] {
  const key = `${t.kind}:${t.salt}:${t.bytes}:${t.bodies}:${t.model}`;
  let b = built.get(key);
  if (!b) {
    b = Array.from({ length: t.bodies }, (_, i) =>
      Buffer.from(JSON.stringify({ model: t.model, max_tokens: 16, messages: [{ role: "user", content: bigPrompt(t.kind, t.bytes, t.salt + i) }] })),
    );
    built.set(key, b);
  }
  return b;
}

/** The thread's task (piscina): the refusals' times, in the order sent. */
export default async function sendFlood(t: FloodTask): Promise<Refusal[]> {
  const url = new URL(t.url);
  const b = bodiesOf(t);
  if (t.mode === "flood") return Promise.all(b.map((body) => timeRefusal(url, t.apiKey, body)));
  const results: Refusal[] = [];
  for (let i = 0; i < (t.count ?? 1); i++) results.push(await timeRefusal(url, t.apiKey, b[i % b.length]!));
  return results;
}

/** The flooding tenant's thread. execArgv: [] — the entry registers tsx itself (inheriting `--import tsx` would load it twice). */
export const startFloodThread = () =>
  new Piscina<FloodTask, Refusal[]>({ filename: new URL("./flood-thread-entry.mjs", import.meta.url).href, minThreads: 1, maxThreads: 1, execArgv: [] });
