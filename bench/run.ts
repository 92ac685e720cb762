// `npm run bench [-- --scenario streams --concurrency 64 --tokens 256]`
// Starts the whole system as separate processes (like `npm run dev`), runs the
// chosen scenarios with a progress bar, and writes bench/results/<name>.json
// and .md. Every scenario runs its baseline in the same run.
import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { startStack, freePort } from "../scripts/stack.js";
import { seedApiKey } from "../edge/tenants.js";
import { runStreams } from "./scenarios/streams.js";
import { runAdmission } from "./scenarios/admission.js";
import { writeResults, toMarkdown, type Table } from "./lib/report.js";

const { values: args } = parseArgs({
  options: {
    scenario: { type: "string", multiple: true },
    concurrency: { type: "string", default: "64" },
    tokens: { type: "string", default: "256" },
    workers: { type: "string", default: "2" },
    "decode-ms": { type: "string", default: "6" },
    name: { type: "string", default: "latest" },
  },
});
const scenarios = args.scenario ?? ["streams"];

async function main() {
  const stack = await startStack({
    simWorkers: Number(args.workers),
    edgePort: await freePort(),
    simArgs: ["--decode-ms-per-token", String(args["decode-ms"])],
    onLine: (name, line) => process.env.BENCH_VERBOSE && console.error(`[${name}] ${line}`),
  });
  const apiKey = `sk-bench-${randomBytes(12).toString("hex")}`;
  const redis = new Redis(stack.redisUrl);
  await seedApiKey(redis, { tenantId: "bench", tenantName: "Benchmark", key: apiKey });
  redis.disconnect();
  const model = "qwen3-sim";
  const tables: Table[] = [];
  const data: Record<string, unknown> = { started_at: new Date().toISOString(), args };
  try {
    if (scenarios.includes("streams")) {
      const r = await runStreams({
        baseUrl: stack.baseUrl,
        apiKey,
        model,
        workerAddrs: stack.workerAddrs,
        concurrency: Number(args.concurrency),
        tokens: Number(args.tokens),
      });
      data.streams = r.rows;
      tables.push(r.table);
    }
    if (scenarios.includes("admission")) {
      const r = await runAdmission({ redisUrl: stack.redisUrl, concurrency: 32, seconds: 5, rounds: 2 });
      data.admission = { rows: r.rows, added: r.added };
      tables.push(r.table);
    }
  } finally {
    await stack.stop();
  }
  const files = writeResults(String(args.name), data, tables);
  console.log("\n" + toMarkdown(tables));
  console.log(`\nwrote ${files.json} and ${files.md}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
