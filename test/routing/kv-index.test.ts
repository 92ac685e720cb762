// (e) The KV-event index of the pool matches the worker's prefix cache: after
// stored events, after LRU evictions (removed events), after a clean reconnect, and
// (after a reconnect that missed events) it drops what it can no longer vouch for.
// "Matches" = same number of blocks as the worker caches, and for fresh prompts the
// index's predicted match equals the cached_tokens the worker then reports.
import { afterAll, beforeAll, expect, it } from "vitest";
import { xxh3 } from "@node-rs/xxhash";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import { WorkerClient } from "../../pool/workers/client.js";
import { KvIndex, QueryHashes } from "../../pool/routing/kv-index.js";
import { KvSubscriber } from "../../pool/routing/kv-subscriber.js";
import { contentHash, prefixHashes } from "../../pool/routing/kv-hash.js";
import { until } from "./helpers.js";

let sim: SimWorker;
let client: WorkerClient;
let index: KvIndex;
let sub: KvSubscriber;
const BS = 16;

beforeAll(async () => {
  // 64 blocks of 16 tokens: small enough that a few prompts force evictions.
  sim = await startSimWorker({ decodeMsPerToken: 1, decodeMsPerRunning: 0, kvCapacityTokens: 64 * BS, blockSize: BS });
  client = new WorkerClient(sim.address);
  index = new KvIndex({ defaultBlockSize: 64, approxCapacityBlocks: 1000 });
  sub = new KvSubscriber(sim.address, client, index);
  sub.start();
  await until(sub, "state", () => sub.state === "live", 5_000, "live subscription");
});
afterAll(async () => {
  sub?.stop();
  client?.close();
  await sim?.stop(100);
});

const range = (n: number, from: number) => Array.from({ length: n }, (_, i) => from + i);

/** Runs one generation; returns the worker's cached_tokens. */
async function gen(rid: string, ids: number[], maxNew = 3): Promise<number> {
  let cached = -1;
  const error = await client.generate(
    { requestId: rid, tokenized: { inputIds: ids }, samplingParams: { maxNewTokens: maxNew, temperature: 0 }, stream: true },
    { chunk: () => {}, complete: (c) => void (cached = c.cachedTokens) },
  );
  if (error) throw new Error(error.message);
  return cached;
}

/** Waits until the index has applied every batch the worker published. */
async function synced(): Promise<void> {
  await until(sub, "batch", () => sub.lastSeq === sim.stats().kvSequence, 5_000, `kv sequence ${sim.stats().kvSequence}`);
}

function expectIndexMatchesCache(): void {
  expect(index.events.get(sim.address)!.size).toBe(sim.stats().kv.cachedBlocks);
}

it("hashes blocks as smg does: XXH3-64 seed 1337 over LE u32 ids, rolling prefix over (prev LE || content LE)", () => {
  const ids = range(40, 1000);
  const le = (xs: number[]) => Buffer.from(Uint32Array.from(xs).buffer);
  const c0 = xxh3.xxh64(le(ids.slice(0, 16)), 1337n);
  const c1 = xxh3.xxh64(le(ids.slice(16, 32)), 1337n);
  expect(contentHash(ids, 0, 16)).toBe(c0);
  const pair = Buffer.alloc(16);
  pair.writeBigUInt64LE(c0, 0);
  pair.writeBigUInt64LE(c1, 8);
  expect(prefixHashes(ids, 16)).toEqual([c0, xxh3.xxh64(pair, 1337n)]); // the trailing partial block is ignored
});

it("learns the block size from the first stored block and tracks stored blocks", async () => {
  const a = range(100, 10_000);
  await gen("s1", a);
  await synced();
  expect(index.events.get(sim.address)!.blockSize).toBe(BS); // not the configured 64
  expectIndexMatchesCache();
  // A prompt extending `a`: the index predicts exactly what the worker reuses.
  const b = [...a, ...range(37, 50_000)];
  const predicted = index.match(sim.address, new QueryHashes(b));
  expect(predicted.source).toBe("events");
  expect(predicted.tokens).toBeGreaterThan(0);
  expect(await gen("s2", b)).toBe(predicted.tokens);
  await synced();
  expectIndexMatchesCache();
});

it("follows LRU evictions (removed events)", async () => {
  // 8 distinct prompts of ~10 blocks each overflow the 64-block cache.
  for (let i = 0; i < 8; i++) await gen(`e${i}`, range(161, 100_000 + i * 1000));
  await synced();
  expectIndexMatchesCache();
  // The oldest prompt was evicted, the newest is cached: predictions agree with the worker.
  for (const i of [0, 7]) {
    const p = [...range(161, 100_000 + i * 1000), 7, 7, 7];
    const predicted = index.match(sim.address, new QueryHashes(p)).tokens;
    expect(await gen(`q${i}`, p, 1)).toBe(predicted);
    await synced();
  }
  expectIndexMatchesCache();
});

it("after a clean reconnect the index still matches; after missed events it drops what it cannot vouch for", async () => {
  // Clean: the stream drops, comes back (100 ms backoff) and nothing was published meanwhile.
  sub.drop();
  await until(sub, "state", () => sub.state === "live", 5_000, "reconnected");
  await gen("r1", range(90, 200_000));
  await synced();
  expectIndexMatchesCache();

  // Missed: events are published while disconnected, so the next batch is a gap.
  const gaps: unknown[] = [];
  sub.on("gap", (g) => gaps.push(g));
  sub.drop();
  await gen("r2", range(90, 300_000)); // during the backoff: its stored events are lost to us
  await until(sub, "state", () => sub.state === "live", 5_000, "reconnected");
  await gen("r3", range(90, 400_000));
  await synced();
  expect(gaps.length).toBe(1);
  // Everything indexed is really cached (no stale blocks); what we missed is simply unknown.
  const ev = index.events.get(sim.address)!;
  expect(ev.size).toBeGreaterThan(0);
  expect(ev.size).toBeLessThanOrEqual(sim.stats().kv.cachedBlocks);
  const p = [...range(90, 400_000), 1, 2];
  expect(await gen("r4", p, 1)).toBe(index.match(sim.address, new QueryHashes(p)).tokens);
  expect(sub.reconnects).toBeGreaterThanOrEqual(2);
});

it("a worker without KV events (UNIMPLEMENTED) stops the subscription and the approximate index answers", async () => {
  const w = await startSimWorker({ kvEvents: false, decodeMsPerToken: 1 });
  const c = new WorkerClient(w.address);
  try {
    const idx = new KvIndex({ defaultBlockSize: BS, approxCapacityBlocks: 1000 });
    const s = new KvSubscriber(w.address, c, idx);
    s.start();
    await until(s, "state", () => s.state === "unimplemented", 5_000, "unimplemented");
    const ids = range(64, 5000);
    idx.recordSent(w.address, new QueryHashes(ids));
    expect(idx.match(w.address, new QueryHashes([...ids, 1, 2, 3]))).toEqual({ tokens: 64, source: "approx" });
    s.stop();
  } finally {
    c.close();
    await w.stop(100);
  }
});
