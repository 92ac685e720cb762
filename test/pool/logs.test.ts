// One request id from the client's response header through the edge's log,
// the Redis job, the pool's log and the worker's gRPC request_id; and no API
// key or prompt text in any info-level log line of either process.
import { Writable } from "node:stream";
import { afterAll, beforeAll, expect, it } from "vitest";
import { pino } from "pino";
import { startNodeEdge, type NodeEdge } from "../../edge/entry-node.js";
import { seedApiKey } from "../../edge/tenants.js";
import { startPool, type PoolHandle } from "../../pool/main.js";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";

const KEY = "sk-logs-0123456789abcdef-SECRET";
const PROMPT = "LOG-PROMPT-MARKER-c0ffee please count to five";

let redis: RedisServer;
let sim: SimWorker;
let pool: PoolHandle;
let edge: NodeEdge;
const lines: string[] = [];

function sink(): Writable {
  return new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
}

beforeAll(async () => {
  redis = await startRedis();
  sim = await startSimWorker({ port: 0, decodeMsPerToken: 0.5, decodeMsPerRunning: 0 });
  pool = await startPool({ redisUrl: redis.url, workers: [sim.address] }, { logger: pino({ name: "pool", level: "info" }, sink()) });
  edge = await startNodeEdge({ redisUrl: redis.url, port: 0, config: { modelCacheMs: 0 }, logger: pino({ name: "edge", level: "info" }, sink()) });
  await seedApiKey(redis.client(), { tenantId: "acme", key: KEY });
});

afterAll(async () => {
  await edge?.close();
  await pool?.stop();
  await sim?.stop(100);
  await redis?.stop();
});

it("carries the request id edge -> Redis -> pool -> worker and logs the same fields on both sides", async () => {
  const started: string[] = [];
  sim.events.on("start", (rid: string) => started.push(rid));
  const res = await fetch(edge.url + "/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ model: pool.models[0], messages: [{ role: "user", content: PROMPT }], max_tokens: 8 }),
  });
  expect(res.status).toBe(200);
  const rid = res.headers.get("x-request-id")!;
  expect(rid).toMatch(/^chatcmpl-/);
  const body = (await res.json()) as { id: string };
  expect(body.id).toBe(rid);
  expect(started).toContain(rid); // the gRPC GenerateRequest.request_id

  const bad = await fetch(edge.url + "/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEY}-nope` },
    body: JSON.stringify({ model: pool.models[0], messages: [{ role: "user", content: PROMPT }] }),
  });
  expect(bad.status).toBe(401);

  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const edgeLine = parsed.find((l) => l.name === "edge" && l.msg === "request" && l.requestId === rid);
  const poolLine = parsed.find((l) => l.name === "pool" && l.msg === "request finished" && l.requestId === rid);
  expect(edgeLine).toMatchObject({ requestId: rid, tenant: "acme", model: pool.models[0], status: 200 });
  expect(poolLine).toMatchObject({ requestId: rid, tenant: "acme", model: pool.models[0], worker: sim.address, outcome: "ok" });
  expect(edgeLine!.completionTokens).toBe(poolLine!.completionTokens);

  // Nothing secret at info level, in either process.
  const all = lines.join("\n");
  expect(all).not.toContain(KEY);
  expect(all).not.toContain("LOG-PROMPT-MARKER");
  expect(all).not.toMatch(/count to five/);
});
