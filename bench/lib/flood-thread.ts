// The oversized scenario's flooding tenant, on a thread of its own. Writing ten 1 MB
// bodies and reading their answers keeps a client's event loop busy for several ms;
// on the scenario's own loop that time would be counted in the other tenant's TTFT,
// a cost of the load generator, not of the gateway. A separate client machine would
// not share a loop with the other tenant either.
import { Agent, request } from "node:http";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { bigPrompt } from "./big-prompt.js";

export type PromptKind = "words" | "x";

export interface FloodInit {
  url: string;
  apiKey: string;
  model: string;
  /** prompt size in bytes */
  bytes: number;
  /** distinct bodies per kind (a flood sends each once) */
  bodies: number;
  /** makes every prompt distinct from another run's */
  salt: number;
}

/** "alone": `count` refusals one after the other; "flood": every body at once. */
export interface FloodCommand {
  id: number;
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

function serveFlood(init: FloodInit): void {
  const url = new URL(init.url);
  const bodies = new Map<PromptKind, Buffer[]>();
  const bodiesOf = (kind: PromptKind) => {
    let b = bodies.get(kind);
    if (!b) {
      b = Array.from({ length: init.bodies }, (_, i) =>
        Buffer.from(JSON.stringify({ model: init.model, max_tokens: 16, messages: [{ role: "user", content: bigPrompt(kind, init.bytes, init.salt + i) }] })),
      );
      bodies.set(kind, b);
    }
    return b;
  };
  parentPort!.on("message", async (c: FloodCommand) => {
    const b = bodiesOf(c.kind);
    let results: Refusal[];
    if (c.mode === "flood") results = await Promise.all(b.map((body) => timeRefusal(url, init.apiKey, body)));
    else {
      results = [];
      for (let i = 0; i < (c.count ?? 1); i++) results.push(await timeRefusal(url, init.apiKey, b[i % b.length]!));
    }
    parentPort!.postMessage({ id: c.id, results });
  });
}

/** The flooding tenant's thread, as the scenario drives it. */
export interface FloodThread {
  run(kind: PromptKind, mode: FloodCommand["mode"], count?: number): Promise<Refusal[]>;
  close(): Promise<void>;
}

export function startFloodThread(init: FloodInit): FloodThread {
  // execArgv: [] — the entry registers tsx itself (inheriting `--import tsx` would load it twice).
  const worker = new Worker(new URL("./flood-thread-entry.mjs", import.meta.url), { workerData: { flood: init }, execArgv: [] });
  const waiting = new Map<number, { resolve: (r: Refusal[]) => void; reject: (e: Error) => void }>();
  let next = 0;
  worker.on("message", (m: { id: number; results: Refusal[] }) => {
    waiting.get(m.id)?.resolve(m.results);
    waiting.delete(m.id);
  });
  const failAll = (e: Error) => {
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  };
  worker.on("error", failAll);
  worker.on("exit", (code) => failAll(new Error(`flood thread exited (${code})`)));
  return {
    run(kind, mode, count) {
      const id = next++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, kind, mode, count } satisfies FloodCommand);
      });
    },
    close: () => worker.terminate().then(() => {}),
  };
}

if (!isMainThread && (workerData as { flood?: FloodInit } | undefined)?.flood) serveFlood((workerData as { flood: FloodInit }).flood);
