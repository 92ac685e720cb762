// WORKERS_DNS discovery (pool/workers/dns-discovery.ts) against real simulated workers over
// loopback gRPC: the system resolver turns "localhost:port" into a joined, ready worker; an
// injected resolver whose answer changes drives joins and graceful drains, the way a headless
// Service's answer changes as TokenSpeed pods come and go (same port, different IPs: here
// 127.0.0.1/2/3, all loopback on Linux). Waits are conditions on real state, never sleeps.
import { Writable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import { WorkerRegistry } from "../../pool/workers/registry.js";
import { createRouter, DEFAULT_ROUTING } from "../../pool/routing/policies.js";
import { DnsDiscovery, parseDnsTarget, systemResolver, workerAddress, type HostResolver } from "../../pool/workers/dns-discovery.js";
import { parsePoolEnv } from "../../pool/env.js";
import { waitFor } from "../../scripts/wait.js";

/** A logger whose lines the test can read. */
function captureLogger() {
  const lines: { msg: string; [k: string]: unknown }[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: pino({ level: "info" }, sink), lines };
}

function newRegistry(static_: string[] = []) {
  const { log, lines } = captureLogger();
  const registry = new WorkerRegistry(static_, createRouter({ ...DEFAULT_ROUTING, policy: "round_robin" }), log);
  registry.start(100);
  registries.push(registry);
  return { registry, log, lines };
}

/** A resolver the test steers: set `answer` (or make it throw). */
function steeredResolver() {
  const r = { answer: [] as string[], fail: undefined as string | undefined, asked: [] as string[] };
  const resolve: HostResolver = async (host) => {
    r.asked.push(host);
    if (r.fail) throw new Error(r.fail);
    return [...r.answer];
  };
  return { r, resolve };
}

const sims: SimWorker[] = [];
const registries: WorkerRegistry[] = [];
const discoveries: DnsDiscovery[] = [];
let port: number; // one port, three loopback IPs: a headless Service's shape
const ips = ["127.0.0.1", "127.0.0.2", "127.0.0.3"];
const addr = (i: number) => `${ips[i]}:${port}`;

beforeAll(async () => {
  const first = await startSimWorker({ host: ips[0], port: 0, decodeMsPerToken: 1, decodeMsPerRunning: 0 });
  port = first.port;
  sims.push(first);
  for (const ip of ips.slice(1)) sims.push(await startSimWorker({ host: ip, port, decodeMsPerToken: 1, decodeMsPerRunning: 0 }));
});
afterEach(() => {
  for (const d of discoveries.splice(0)) d.stop();
  for (const r of registries.splice(0)) r.stop();
});
afterAll(async () => {
  await Promise.all(sims.map((s) => s.stop(100)));
});

const ready = (registry: WorkerRegistry, a: string) =>
  waitFor(async () => registry.get(a)?.state === "ready", `${a} ready`, 10_000);

describe("target parsing and config", () => {
  it("parses host:port and formats IPv4/IPv6 worker addresses", () => {
    expect(parseDnsTarget("tokenspeed.default.svc.cluster.local:50051")).toEqual({ host: "tokenspeed.default.svc.cluster.local", port: 50051 });
    for (const bad of ["tokenspeed", "tokenspeed:", ":50051", "a:b", "grpc://x:1", "x:0", "x:70000"]) expect(() => parseDnsTarget(bad)).toThrow(/WORKERS_DNS must be host:port/);
    expect(workerAddress("10.1.2.3", 50051)).toBe("10.1.2.3:50051");
    expect(workerAddress("fd00::1", 50051)).toBe("[fd00::1]:50051");
  });

  it("reads WORKERS_DNS and WORKERS_DNS_INTERVAL_MS (default 5000) from the environment", () => {
    const base = { REDIS_URL: "redis://127.0.0.1:6379" };
    expect(parsePoolEnv(base)).toMatchObject({ workersDns: undefined, workersDnsIntervalMs: 5_000 });
    expect(parsePoolEnv({ ...base, WORKERS_DNS: "tokenspeed:50051", WORKERS_DNS_INTERVAL_MS: "250" })).toMatchObject({
      workersDns: "tokenspeed:50051",
      workersDnsIntervalMs: 250,
    });
    expect(() => parsePoolEnv({ ...base, WORKERS_DNS: "tokenspeed" })).toThrow(/WORKERS_DNS must be host:port/);
  });
});

describe("DNS discovery with real workers", () => {
  it("the system resolver turns localhost:port into a joined, ready worker", async () => {
    expect(await systemResolver("localhost")).toContain("127.0.0.1");
    const { registry, log } = newRegistry();
    const dns = new DnsDiscovery(registry, log, { target: `localhost:${port}` });
    discoveries.push(dns);
    const t = await dns.tick();
    expect(t.ok).toBe(true);
    expect(dns.addresses).toContain(addr(0));
    await ready(registry, addr(0));
    expect(registry.get(addr(0))?.model).toBe(sims[0].model);
    // It serves: the router picks it.
    expect(registry.pick({ requestId: "r1", model: sims[0].model, inputIds: [1, 2, 3] })?.address).toBe(addr(0));
  });

  it("joins workers that appear and drains those that vanish, letting open calls finish", async () => {
    const { registry, log, lines } = newRegistry();
    const { r, resolve } = steeredResolver();
    const dns = new DnsDiscovery(registry, log, { target: `tokenspeed.test.svc:${port}`, resolver: resolve });
    discoveries.push(dns);

    r.answer = [ips[0], ips[1]];
    expect(await dns.tick()).toEqual({ ok: true, addresses: [addr(0), addr(1)], added: [addr(0), addr(1)], removed: [] });
    expect(r.asked).toEqual(["tokenspeed.test.svc"]);
    await Promise.all([ready(registry, addr(0)), ready(registry, addr(1))]);

    // Same answer in another order: nothing changes.
    r.answer = [ips[1], ips[0]];
    expect(await dns.tick()).toMatchObject({ ok: true, added: [], removed: [] });

    // Worker 1 holds an open call when it vanishes: it gets no new work, and leaves once idle.
    const w1 = registry.get(addr(1))!;
    const call = registry.beginCall(w1, { requestId: "open", model: w1.model!, inputIds: [1] }, new AbortController().signal);
    r.answer = [ips[0], ips[2]];
    expect(await dns.tick()).toMatchObject({ ok: true, added: [addr(2)], removed: [addr(1)] });
    expect(registry.get(addr(1))?.draining).toBe(true);
    await ready(registry, addr(2));
    for (let i = 0; i < 6; i++) expect(registry.pick({ requestId: `p${i}`, model: w1.model!, inputIds: [i] })?.address).not.toBe(addr(1));

    // It reappears while still finishing: not joined twice; joined again once it has left.
    r.answer = [ips[0], ips[1], ips[2]];
    expect(await dns.tick()).toMatchObject({ ok: true, added: [], removed: [] });
    registry.endCall(call, "ok");
    await waitFor(async () => registry.get(addr(1)) === undefined, "worker 1 removed once idle");
    expect(await dns.tick()).toMatchObject({ ok: true, added: [addr(1)], removed: [] });
    await ready(registry, addr(1));
    expect(registry.get(addr(1))?.draining).toBe(false);
    expect(lines.some((l) => l.msg === "WORKERS_DNS answer changed")).toBe(true);
  });

  it("a failed or empty resolution keeps the current workers and logs once", async () => {
    const { registry, log, lines } = newRegistry();
    const { r, resolve } = steeredResolver();
    const dns = new DnsDiscovery(registry, log, { target: `tokenspeed:${port}`, resolver: resolve });
    discoveries.push(dns);
    r.answer = [ips[0], ips[1]];
    await dns.tick();

    r.fail = "queryA ESERVFAIL tokenspeed";
    expect(await dns.tick()).toEqual({ ok: false, error: "resolving tokenspeed: queryA ESERVFAIL tokenspeed" });
    expect(await dns.tick()).toMatchObject({ ok: false });
    r.fail = undefined;
    r.answer = [];
    expect(await dns.tick()).toEqual({ ok: false, error: "resolving tokenspeed: no addresses" });
    expect(registry.workers.map((w) => [w.address, w.draining])).toEqual([
      [addr(0), false],
      [addr(1), false],
    ]);
    const warns = lines.filter((l) => l.msg.startsWith("WORKERS_DNS resolution failed"));
    expect(warns.map((l) => l.err)).toEqual(["resolving tokenspeed: queryA ESERVFAIL tokenspeed", "resolving tokenspeed: no addresses"]);

    r.answer = [ips[0]];
    expect(await dns.tick()).toMatchObject({ ok: true, removed: [addr(1)] });
    expect(lines.some((l) => l.msg === "WORKERS_DNS resolves again")).toBe(true);
  });

  it("leaves static WORKERS entries alone and re-resolves on its interval", async () => {
    const { registry, log } = newRegistry([addr(0)]);
    const { r, resolve } = steeredResolver();
    const dns = new DnsDiscovery(registry, log, { target: `tokenspeed:${port}`, resolver: resolve });
    discoveries.push(dns);
    r.answer = [ips[0], ips[1]];
    dns.start(20);
    await waitFor(async () => registry.get(addr(1))?.state === "ready", "worker 1 joined by the timer", 10_000);
    expect(dns.addresses).toEqual([addr(1)]); // addr(0) came from WORKERS: not DNS's to manage
    r.answer = [ips[2]];
    await waitFor(async () => registry.get(addr(2))?.state === "ready" && registry.get(addr(1)) === undefined, "the timer follows the new answer", 10_000);
    expect(registry.get(addr(0))).toMatchObject({ source: "config", draining: false });
  });
});
