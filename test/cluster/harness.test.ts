// The cluster harness itself: 3 masters + 3 replicas answer through an ioredis
// Cluster, and a SIGKILLed master's replica takes over its slots.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisCluster, type RedisClusterServer } from "../../scripts/redis-cluster.js";
import { waitFor } from "../../scripts/wait.js";
import { keySlot } from "../../contract/node/key-slot.js";
import { keys } from "../../contract/queue/keys.js";

let cluster: RedisClusterServer;

beforeAll(async () => {
  cluster = await startRedisCluster();
});
afterAll(async () => {
  await cluster?.stop();
});

describe("redis cluster harness", () => {
  it("keySlot agrees with CLUSTER KEYSLOT (the readers group streams by it)", async () => {
    const node = cluster.direct(Number(cluster.seeds[0]!.split(":")[1]));
    for (const k of ["foo", "foo{}{bar}", "a{b}c{d}", keys.out("chatcmpl-1"), keys.jobs("qwen3-sim"), keys.apiKey("ab12"), "ü{ß}"]) {
      expect(keySlot(k), k).toBe(Number(await node.cluster("KEYSLOT", k)));
    }
  });

  it("serves keys of every slot and survives a master's SIGKILL", async () => {
    const c = cluster.client();
    const keys = Array.from({ length: 30 }, (_, i) => `k:{${i}}`);
    for (const k of keys) await c.set(k, k);
    const masters = new Set(await Promise.all(keys.map((k) => cluster.masterOf(k))));
    expect(masters.size).toBe(3);
    const victim = await cluster.masterOf(keys[0]!);
    await cluster.kill(victim);
    await cluster.waitHealthy();
    expect(await cluster.masterOf(keys[0]!)).not.toBe(victim);
    // the client finds the new master (written data may be lost with the master; writes work again)
    await waitFor(async () => (await c.set(keys[0]!, "after").catch(() => null)) === "OK", "a write to the failed-over slot");
    expect(await c.get(keys[0]!)).toBe("after");
  });
});
