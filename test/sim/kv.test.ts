// Paged KV cache with prefix reuse, LRU eviction and SubscribeKvEvents.
import { afterEach, describe, expect, it } from "vitest";
import { grpc } from "../../pool/workers/grpc-bridge.js";
import type { KvEventBatch } from "../../contract/grpc/tokenspeed/common_pb.js";
import { startSimWorker, type SimOptions } from "../../sim/server.js";
import { byChoice, collect, schedulerClient } from "./helpers.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function worker(opts: SimOptions = {}) {
  const w = await startSimWorker({ decodeMsPerToken: 1, decodeMsPerRunning: 0, ...opts });
  const client = schedulerClient(w.address);
  cleanups.push(() => w.stop(), () => client.close());
  return { w, client };
}

/** Subscribes and resolves once the response headers arrived (the subscription is live). */
async function subscribe(client: ReturnType<typeof schedulerClient>) {
  const call = client.subscribeKvEvents({ startSequenceNumber: 0n });
  const batches: KvEventBatch[] = [];
  const waiters: { pred: () => boolean; resolve: () => void }[] = [];
  call.on("data", (b: KvEventBatch) => {
    batches.push(b);
    for (const wt of waiters.splice(0)) {
      if (wt.pred()) wt.resolve();
      else waiters.push(wt);
    }
  });
  call.on("error", () => {});
  cleanups.push(() => call.cancel());
  await new Promise<void>((resolve) => call.once("metadata", () => resolve()));
  const events = () => batches.flatMap((b) => b.events);
  /** Resolves when pred() holds over what arrived so far (checked per batch); times out after 5 s. */
  const until = (pred: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      if (pred()) return resolve();
      const t = setTimeout(() => reject(new Error(`condition not met; ${batches.length} batches`)), 5000);
      waiters.push({ pred, resolve: () => (clearTimeout(t), resolve()) });
    });
  return { call, batches, events, until };
}

const range = (n: number, from: number) => Array.from({ length: n }, (_, i) => from + i);

async function complete(client: ReturnType<typeof schedulerClient>, requestId: string, inputIds: number[], maxNewTokens: number) {
  const { frames, error } = await collect(client.generate({ requestId, tokenized: { inputIds }, samplingParams: { maxNewTokens } }));
  if (error) throw error;
  return byChoice(frames).get(0)!.complete!;
}

describe("prefix cache", () => {
  it("a second request sharing a long prefix reports block-aligned cached_tokens", async () => {
    const { client } = await worker();
    const shared = range(100, 500);
    const first = await complete(client, "p1", [...shared, ...range(20, 9000)], 4);
    expect(first.cachedTokens).toBe(0);
    const second = await complete(client, "p2", [...shared, ...range(20, 7000)], 4);
    expect(second.cachedTokens).toBe(96); // 6 full blocks of 16
  });

  it("multi-turn: a prompt extending the previous prompt + answer hits the answer's blocks too", async () => {
    const { client } = await worker();
    const p1 = range(50, 300);
    const a1 = await complete(client, "t1", p1, 30);
    const p2 = [...p1, ...a1.outputIds, ...range(10, 4000)];
    const second = await complete(client, "t2", p2, 4);
    // Everything computed in turn 1 (prompt + answer) is cached in full blocks.
    const fullBlocks = Math.floor((p1.length + a1.outputIds.length) / 16);
    expect(second.cachedTokens).toBe(fullBlocks * 16);
    expect(second.cachedTokens).toBeGreaterThan(p1.length);
  });
});

describe("SubscribeKvEvents", () => {
  it("stored chains carry real block tokens and consistent parent hashes; sequence numbers from 1", async () => {
    const { client } = await worker();
    const sub = await subscribe(client);
    const prompt = range(100, 2000);
    await complete(client, "k1", prompt, 5);
    const stored = () => sub.events().filter((e) => e.data.case === "stored");
    await sub.until(() => stored().length > 0);
    const prompt2 = [...prompt.slice(0, 64), ...range(40, 60000)];
    await complete(client, "k2", prompt2, 5);
    // k2 stores blocks 4.. of its own prompt, chained onto k1's block 3.
    await sub.until(() => stored().some((e) => e.data.case === "stored" && e.data.value.blocks.some((b) => b.tokenIds[0] === 60000)));

    expect(sub.batches.map((b) => Number(b.sequenceNumber))).toEqual(range(sub.batches.length, 1));
    expect(sub.events().map((e) => Number(e.eventId))).toEqual(range(sub.events().length, 1));
    expect(sub.batches.every((b) => b.dpRank === 0 && b.timestamp > 1e9)).toBe(true);

    const known = new Map<bigint, number[]>();
    for (const e of stored()) {
      if (e.data.case !== "stored") continue;
      const { parentBlockHash, blocks } = e.data.value;
      if (parentBlockHash !== undefined) expect(known.has(parentBlockHash)).toBe(true);
      for (const b of blocks) {
        expect(b.blockSize).toBe(16);
        expect(b.tokenIds).toHaveLength(16);
        expect(known.has(b.blockHash)).toBe(false);
        known.set(b.blockHash, b.tokenIds);
      }
    }
    // k1's first stored chain is a root holding the prompt's 6 full blocks in order.
    const first = stored()[0].data.value as { parentBlockHash?: bigint; blocks: { tokenIds: number[]; blockHash: bigint }[] };
    expect(first.parentBlockHash).toBeUndefined();
    expect(first.blocks.slice(0, 6).map((b) => b.tokenIds)).toEqual(range(6, 0).map((i) => prompt.slice(i * 16, i * 16 + 16)));
    // k2's chain extends k1's 4th block (64 shared tokens).
    const k2 = stored().find((e) => e.data.case === "stored" && e.data.value.blocks[0].tokenIds[0] === prompt2[64])!;
    expect(k2.data.case === "stored" && k2.data.value.parentBlockHash).toBe(first.blocks[3].blockHash);
  });

  it("eviction in a tiny cache emits removed (leaf first); FlushCache emits cleared", async () => {
    const { client } = await worker({ kvCapacityTokens: 256 }); // 16 blocks
    const sub = await subscribe(client);
    await complete(client, "e1", range(150, 100), 20); // 170 tokens -> 10 full blocks cached
    const storedHashes = () =>
      sub.events().flatMap((e) => (e.data.case === "stored" ? e.data.value.blocks.map((b) => b.blockHash) : []));
    await sub.until(() => storedHashes().length === 10);
    const e1Hashes = storedHashes();
    await complete(client, "e2", range(150, 20000), 20); // needs 11 pages: only 6 free -> evicts 5
    const removed = () => sub.events().flatMap((e) => (e.data.case === "removed" ? e.data.value.blockHashes : []));
    await sub.until(() => removed().length >= 5);
    expect(removed().slice(0, 5)).toEqual(e1Hashes.slice(5).reverse());

    expect((await client.flushCache({ timeoutS: 1 })).success).toBe(true);
    await sub.until(() => sub.events().some((e) => e.data.case === "cleared"));
    expect(sub.events().at(-1)!.data.case).toBe("cleared");
    expect(sub.batches.map((b) => Number(b.sequenceNumber))).toEqual(range(sub.batches.length, 1));
    // After the flush nothing is cached.
    expect((await complete(client, "e3", range(150, 100), 2)).cachedTokens).toBe(0);
  });

  it("kvEvents: false => UNIMPLEMENTED", async () => {
    const { client } = await worker({ kvEvents: false });
    const res = await collect(client.subscribeKvEvents({}));
    expect(res.error?.code).toBe(grpc.status.UNIMPLEMENTED);
  });
});
