// The pool's append batcher on a real Redis Cluster: a turn's appends keep their own
// fencing per request (the keys span slots, so no append-many.lua), and appends made in
// separate callbacks of one event-loop turn reach each master in one write, not one each.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { startRedisCluster, type RedisClusterServer } from "../../scripts/redis-cluster.js";
import { connectRedis } from "../../contract/node/redis-connect.js";
import { keys } from "../../contract/queue/keys.js";
import { append } from "../../contract/queue/scripts/append.js";
import type { ResponseEvent } from "../../contract/queue/messages.js";
import { AppendBatcher } from "../../pool/queue/append-batcher.js";

let cluster: RedisClusterServer;
let r: Redis;
beforeAll(async () => {
  cluster = await startRedisCluster();
  // as the pool connects (pool/main.ts)
  r = connectRedis({ clusterNodes: cluster.seeds }, { enableAutoPipelining: true, maxRetriesPerRequest: 3 });
});
afterAll(async () => {
  r?.disconnect();
  await cluster?.stop();
});

const chunk = (text: string): ResponseEvent => ({ type: "chunk", choices: [{ index: 0, text, token_ids: [1], finish_reason: null }] });

/**
 * Counts the socket writes the client makes to each node while `run` runs (a server-side
 * count would also see replication acks and slot refreshes).
 */
async function writesByNode(run: () => Promise<unknown>): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  const nodes = (r as unknown as { nodes(role: string): Redis[] }).nodes("all");
  const restore = nodes.map((n) => {
    const stream = (n as unknown as { stream: { write: (...a: unknown[]) => boolean } }).stream;
    const write = stream.write;
    stream.write = (...a: unknown[]) => {
      counts.set(n.options.port!, (counts.get(n.options.port!) ?? 0) + 1);
      return write.apply(stream, a);
    };
    return () => (stream.write = write);
  });
  try {
    await run();
  } finally {
    restore.forEach((f) => f());
  }
  return counts;
}

/** Runs each task in its own setImmediate callback of one turn, as token messages arrive in separate I/O callbacks. */
function inSeparateCallbacks<T>(tasks: (() => Promise<T>)[]): Promise<T[]> {
  return Promise.all(tasks.map((task) => new Promise<T>((resolve, reject) => setImmediate(() => task().then(resolve, reject)))));
}

it("fences, cancels and writes each request on its own slot", async () => {
  await r.set(keys.writeLease("cb-a"), "p:1", "PX", 60_000);
  await r.set(keys.writeLease("cb-b"), "other:2", "PX", 60_000);
  await r.set(keys.writeLease("cb-c"), "p:1", "PX", 60_000);
  await r.set(keys.cancel("cb-c"), "client_disconnected");
  const batcher = new AppendBatcher(r, 5_000);
  const results = await inSeparateCallbacks([
    () => batcher.append({ rid: "cb-a", token: "p:1", events: [chunk("A1"), chunk("A2")] }),
    () => batcher.append({ rid: "cb-b", token: "p:1", events: [chunk("B")] }),
    () => batcher.append({ rid: "cb-c", token: "p:1", events: [] }),
    () => batcher.append({ rid: "cb-d", token: "p:1", events: [chunk("D")] }),
  ]);
  expect(results).toEqual(["ok", "fenced", "cancelled", "fenced"]);
  const texts = (await r.xrange(keys.out("cb-a"), "-", "+")).map(([, f]) => JSON.parse(f[1]!).choices[0].text);
  expect(texts).toEqual(["A1", "A2"]);
  expect(await r.exists(keys.out("cb-b"))).toBe(0);
  expect(await r.exists(keys.out("cb-d"))).toBe(0);
});

it("sends one turn's appends to each master in one write", async () => {
  const rids = Array.from({ length: 24 }, (_, i) => `cw-${i}`);
  for (const rid of rids) await r.set(keys.writeLease(rid), "p:1", "PX", 60_000);
  const masterOf = new Map<string, number>();
  for (const rid of rids) masterOf.set(rid, await cluster.masterOf(keys.out(rid)));
  const ports = [...new Set(masterOf.values())];
  expect(ports.length).toBe(3);
  const perMaster = (port: number) => rids.filter((rid) => masterOf.get(rid) === port).length;
  expect(Math.min(...ports.map(perMaster))).toBeGreaterThanOrEqual(3);
  // Load the script on every master first, both ways (a NOSCRIPT retry, or the SCRIPT LOAD
  // ioredis sends before a cluster client's first pipeline, would add reads).
  await Promise.all(rids.map((rid) => append(r, { rid, token: "p:1", leaseMs: 5_000, events: [], notify: true })));
  const batcher = new AppendBatcher(r, 5_000);
  await inSeparateCallbacks(rids.map((rid) => () => batcher.append({ rid, token: "p:1", events: [] })));

  // Baseline: plain appends from separate callbacks go out one write each.
  const unbatched = await writesByNode(() =>
    inSeparateCallbacks(rids.map((rid) => () => append(r, { rid, token: "p:1", leaseMs: 5_000, events: [chunk("x")], notify: true }))),
  );
  for (const port of ports) expect(unbatched.get(port), `unbatched writes to ${port}`).toBe(perMaster(port));

  let results: string[] = [];
  const batched = await writesByNode(async () => {
    results = await inSeparateCallbacks(rids.map((rid) => () => batcher.append({ rid, token: "p:1", events: [chunk("y")] })));
  });
  expect(results.every((x) => x === "ok")).toBe(true);
  for (const port of ports) expect(batched.get(port), `batched writes to ${port}`).toBe(1);
  for (const rid of rids) expect(await r.xlen(keys.out(rid))).toBe(2);
});
