// The env schemas' rules: empty = unset, bad values name the variable,
// deprecated Worker names still work (with one warning), defaults agree with
// the config schemas.
import { beforeEach, describe, expect, it } from "vitest";
import { resetAliasWarnings } from "../../contract/env.js";
import { EdgeConfigSchema } from "../../edge/config.js";
import { parseEdgeEnv } from "../../edge/env.js";
import { PoolConfigSchema } from "../../pool/config.js";
import { parsePoolEnv } from "../../pool/env.js";

const REDIS = "redis://127.0.0.1:6390";

describe("edge env", () => {
  beforeEach(() => resetAliasWarnings());

  it("an empty variable is unset (ADMIN_TOKEN= no longer stops the edge)", () => {
    const r = parseEdgeEnv({ ADMIN_TOKEN: "", EDGE_KEEPALIVE_MS: "", EDGE_PORT: " " }, { runtime: "node" });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.config.adminToken).toBeUndefined();
    expect(r.value.config.keepaliveMs).toBe(15_000);
    expect(r.value.env.EDGE_PORT).toBe(8080);
  });

  it("defaults equal the config schema's, and every config field is reachable", () => {
    const r = parseEdgeEnv({}, { runtime: "node" });
    expect(r.ok && EdgeConfigSchema.parse(r.value.config)).toEqual(EdgeConfigSchema.parse({}));
    const set = parseEdgeEnv(
      { EDGE_TENANT_CACHE_MS: "5", EDGE_DEFAULT_MAX_TOKENS: "77", EDGE_RETRY_AFTER_S: "9", EDGE_QUOTAS: "off" },
      { runtime: "node" },
    );
    expect(set.ok && set.value.config).toMatchObject({ tenantCacheMs: 5, defaultReserveOutputTokens: 77, retryAfterS: 9 });
    expect(set.ok && set.value.env.EDGE_QUOTAS).toBe(false);
    const keys = Object.keys(EdgeConfigSchema.shape).sort();
    expect(set.ok && Object.keys(set.value.config).sort()).toEqual(keys);
  });

  it("a bad number is an error naming the variable and quoting the value", () => {
    const r = parseEdgeEnv({ EDGE_MAX_BODY_BYTES: "4MB", EDGE_PORT: "70000" }, { runtime: "node" });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toContain('EDGE_MAX_BODY_BYTES: expected an integer, got "4MB"');
    expect(r.error).toContain("EDGE_PORT: must be ≤ 65535");
  });

  it("REDIS_URL is required on Workers only", () => {
    expect(parseEdgeEnv({}, { runtime: "node" }).ok).toBe(true);
    const w = parseEdgeEnv({}, { runtime: "worker" });
    expect(w.ok ? "" : w.error).toMatch(/^REDIS_URL: required/);
  });

  it("a deprecated Workers name works and warns once", () => {
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    const r = parseEdgeEnv({ REDIS_URL: REDIS, KEEPALIVE_MS: "250", MAX_QUEUED: "3" }, { runtime: "worker", warn });
    expect(r.ok && r.value.config).toMatchObject({ keepaliveMs: 250, defaultMaxQueued: 3 });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain("KEEPALIVE_MS is deprecated");
    expect(warnings[0]).toContain("EDGE_KEEPALIVE_MS");
    parseEdgeEnv({ REDIS_URL: REDIS, KEEPALIVE_MS: "250" }, { runtime: "worker", warn });
    expect(warnings).toHaveLength(2);
  });

  it("the new name wins over a deprecated one; a bad deprecated value names both", () => {
    const r = parseEdgeEnv({ KEEPALIVE_MS: "250", EDGE_KEEPALIVE_MS: "500" }, { runtime: "node", warn: () => {} });
    expect(r.ok && r.value.config.keepaliveMs).toBe(500);
    const bad = parseEdgeEnv({ KEEPALIVE_MS: "soon" }, { runtime: "node", warn: () => {} });
    expect(bad.ok ? "" : bad.error).toContain("EDGE_KEEPALIVE_MS (set as deprecated KEEPALIVE_MS)");
  });
});

describe("pool env", () => {
  it("defaults equal the config schema's", () => {
    const cfg = parsePoolEnv({ REDIS_URL: REDIS, POOL_ID: "p1", POOL_HTTP_PORT: "off" });
    expect(cfg).toEqual(PoolConfigSchema.parse({ redisUrl: REDIS, poolId: "p1" }));
  });

  it("an empty variable is unset; lists, maps and booleans are parsed", () => {
    const cfg = parsePoolEnv({
      REDIS_URL: REDIS,
      ADMIN_TOKEN: "",
      LEASE_MS: "",
      WORKERS: "a:1, b:2,,",
      TOOL_PARSERS: "m1=qwen3, m2=none",
      KV_EVENTS: "off",
      HUNG_GAP_FACTOR: "2.5",
    });
    expect(cfg.adminToken).toBeUndefined();
    expect(cfg.leaseMs).toBe(10_000);
    expect(cfg.workers).toEqual(["a:1", "b:2"]);
    expect(cfg.toolParsers).toEqual({ m1: "qwen3", m2: "none" });
    expect(cfg.routing.kvEvents).toBe(false);
    expect(cfg.hung.gapFactor).toBe(2.5);
    expect(cfg.httpPort).toBe(9464);
  });

  it("a bad value is an error naming the variable", () => {
    expect(() => parsePoolEnv({ REDIS_URL: REDIS, LEASE_MS: "10s" })).toThrow('LEASE_MS: expected an integer, got "10s"');
    expect(() => parsePoolEnv({ REDIS_URL: REDIS, KV_EVENTS: "maybe" })).toThrow("KV_EVENTS: expected on/off");
    expect(() => parsePoolEnv({})).toThrow("REDIS_URL");
  });
});
