// REDIS_CLUSTER_NODES: parsed by both deployables and both edge runtimes, and a bad
// seed list is a clear config error.
import { describe, expect, it } from "vitest";
import { parseEdgeEnv } from "../../edge/env.js";
import { parsePoolEnv } from "../../pool/env.js";
import { parseHostPort } from "../../contract/env.js";
import { keySlot } from "../../contract/node/key-slot.js";

const warn = () => {};

describe("REDIS_CLUSTER_NODES", () => {
  it("selects a cluster on the Node edge, the Worker and the pool", () => {
    const e = parseEdgeEnv({ REDIS_CLUSTER_NODES: "10.0.0.1:7000, 10.0.0.2:7001" }, { runtime: "node", warn });
    expect(e.ok && e.value.redisClusterNodes).toEqual(["10.0.0.1:7000", "10.0.0.2:7001"]);
    // a Worker needs no REDIS_URL once it has seeds
    const w = parseEdgeEnv({ REDIS_CLUSTER_NODES: "10.0.0.1:7000" }, { runtime: "worker", warn });
    expect(w.ok && w.value.redisClusterNodes).toEqual(["10.0.0.1:7000"]);
    const none = parseEdgeEnv({}, { runtime: "worker", warn });
    expect(none.ok ? "" : none.error).toMatch(/^REDIS_URL: required .* or REDIS_CLUSTER_NODES/);
    const p = parsePoolEnv({ REDIS_CLUSTER_NODES: "redis-0.redis:6379", REDIS_PASSWORD: "pw" });
    expect(p.redisClusterNodes).toEqual(["redis-0.redis:6379"]);
    expect(p.redisPassword).toBe("pw");
  });

  it("is refused when malformed, naming the variable", () => {
    const bad = parseEdgeEnv({ REDIS_CLUSTER_NODES: "10.0.0.1" }, { runtime: "node", warn });
    expect(bad.ok ? "" : bad.error).toMatch(/REDIS_CLUSTER_NODES/);
    expect(() => parsePoolEnv({ REDIS_CLUSTER_NODES: "nohost" })).toThrow("REDIS_CLUSTER_NODES");
    expect(() => parsePoolEnv({})).toThrow(/REDIS_URL: required \(or REDIS_CLUSTER_NODES/);
  });

  it("parses seeds and computes Redis Cluster slots (hash tags included)", () => {
    expect(parseHostPort("[::1]:7000")).toEqual({ host: "::1", port: 7000 });
    expect(parseHostPort("redis-0.redis:6379")).toEqual({ host: "redis-0.redis", port: 6379 });
    // reference values from CLUSTER KEYSLOT
    expect(keySlot("foo")).toBe(12182);
    expect(keySlot("{user1000}.following")).toBe(keySlot("{user1000}.followers"));
    expect(keySlot("{user1000}.following")).toBe(3443);
  });
});
