// Worker discovery the Kubernetes way: WORKERS_DNS=host:port names a headless Service
// (one A/AAAA record per ready TokenSpeed pod). Every intervalMs the name is resolved again
// and the answer is diffed against the previous one:
//
//   address appears  -> registry.add(): probed (GetModelInfo + grpc.health.v1), serves once ready
//   address vanishes -> registry.remove(graceful): no new work at once, open streams finish,
//                       then it is dropped (a pod being deleted or turning not-ready leaves
//                       the headless Service's answer before its process stops)
//
// A failed resolution (DNS down, NXDOMAIN, an empty answer) keeps the current set and logs:
// a DNS blip must not drain a whole fleet. Workers that really died are still taken out of
// routing by the health probes and the circuit breakers.
//
// The default resolver is getaddrinfo (dns.lookup, all: true): it follows the pod's
// resolv.conf search path (so "tokenspeed:50051" works inside the namespace) and /etc/hosts
// (so "localhost" works in tests), and returns A and AAAA records alike.
//
// Workers joined here are registered with source "config" (declared by the operator's
// configuration): the Redis registry scan (discovery.ts) removes "discovered" workers that
// are not registered in Redis, and must leave these alone. This module removes them itself.
import { lookup } from "node:dns/promises";
import { isIPv6 } from "node:net";
import type { Logger } from "pino";
import type { WorkerRegistry } from "./registry.js";

/** Resolves a host name to its IP addresses (v4 and/or v6). Throws on failure. */
export type HostResolver = (host: string) => Promise<string[]>;

export const systemResolver: HostResolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

export interface DnsTarget {
  host: string;
  port: number;
}

/** "host:port" -> {host, port}; throws with a clear message on anything else. */
export function parseDnsTarget(s: string): DnsTarget {
  const m = /^([^\s:/]+):(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new Error(`WORKERS_DNS must be host:port (e.g. tokenspeed.default.svc:50051), got "${s}"`);
  return { host: m[1], port };
}

/** The gRPC address of one resolved IP: a.b.c.d:port or [v6]:port. */
export function workerAddress(ip: string, port: number): string {
  return isIPv6(ip) ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export interface DnsDiscoveryOptions {
  /** "host:port" (WORKERS_DNS). */
  target: string;
  /** Injectable for tests; default getaddrinfo. */
  resolver?: HostResolver;
}

export type DnsTick =
  | { ok: true; addresses: string[]; added: string[]; removed: string[] }
  | { ok: false; error: string };

export class DnsDiscovery {
  readonly target: DnsTarget;
  private readonly resolver: HostResolver;
  /** Addresses this module added to the registry and has not removed since. */
  private readonly joined = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<DnsTick> | undefined;
  private lastError: string | undefined;

  constructor(
    private readonly registry: WorkerRegistry,
    private readonly log: Logger,
    opts: DnsDiscoveryOptions,
  ) {
    this.target = parseDnsTarget(opts.target);
    this.resolver = opts.resolver ?? systemResolver;
  }

  /** The addresses currently joined through DNS. */
  get addresses(): string[] {
    return [...this.joined];
  }

  /** One resolve-and-reconcile round (concurrent calls share the round in flight). */
  tick(): Promise<DnsTick> {
    this.running ??= this.reconcile().finally(() => (this.running = undefined));
    return this.running;
  }

  private async reconcile(): Promise<DnsTick> {
    let ips: string[];
    try {
      ips = await this.resolver(this.target.host);
      if (ips.length === 0) throw new Error("no addresses");
    } catch (e) {
      const error = `resolving ${this.target.host}: ${(e as Error).message}`;
      // Log a failure once per distinct error, not every interval.
      if (error !== this.lastError) this.log.warn({ err: error, keeping: this.joined.size }, "WORKERS_DNS resolution failed; keeping the current workers");
      this.lastError = error;
      return { ok: false, error };
    }
    if (this.lastError) this.log.info({ host: this.target.host }, "WORKERS_DNS resolves again");
    this.lastError = undefined;
    const want = new Set(ips.map((ip) => workerAddress(ip, this.target.port)));
    const added: string[] = [];
    const removed: string[] = [];
    for (const a of want) {
      if (this.joined.has(a)) continue;
      const known = this.registry.get(a);
      if (known?.removed) continue; // still finishing its streams after leaving: join it again next round
      if (known) continue; // a static WORKERS entry (or the Redis registry's): not ours to manage
      this.registry.add(a, "config");
      this.joined.add(a);
      added.push(a);
    }
    for (const a of [...this.joined]) {
      if (want.has(a)) continue;
      this.registry.remove(a, true);
      this.joined.delete(a);
      removed.push(a);
    }
    if (added.length > 0 || removed.length > 0) this.log.info({ host: this.target.host, added, removed, workers: want.size }, "WORKERS_DNS answer changed");
    return { ok: true, addresses: [...want], added, removed };
  }

  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
