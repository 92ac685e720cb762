// Workers joining and leaving at run time, through Redis (keys.workers, keys.drainingWorkers):
//
//   register:   ZADD sg:{reg}:workers <now+ttl> <host:port>   (re-run before the ttl lapses;
//               startWorkerHeartbeat does it, e.g. from a sidecar next to each worker)
//   leave:      ZREM (or let the registration lapse): pools drain it, then drop it
//   drain:      SADD sg:{reg}:workers:draining <host:port>  (SREM to undo): no new work
//               from any pool, open streams finish
//
// Every pool scans both keys every workerDiscoveryMs and reconciles its registry:
// new live members are probed (GetModelInfo + grpc.health.v1) and join once ready;
// workers from WORKERS (config) are never removed by discovery, only drained.
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { keys } from "../../contract/queue/keys.js";
import type { WorkerRegistry } from "./registry.js";

export async function registerWorker(redis: Redis, address: string, ttlMs: number): Promise<void> {
  await redis.zadd(keys.workers(), Date.now() + ttlMs, address);
}

export async function deregisterWorker(redis: Redis, address: string): Promise<void> {
  await redis.multi().zrem(keys.workers(), address).srem(keys.drainingWorkers(), address).exec();
}

export async function setWorkerDraining(redis: Redis, address: string, on: boolean): Promise<void> {
  if (on) await redis.sadd(keys.drainingWorkers(), address);
  else await redis.srem(keys.drainingWorkers(), address);
}

/** Keeps `address` registered (every ttl/3) until the returned stop() (which deregisters it). */
export function startWorkerHeartbeat(redis: Redis, address: string, ttlMs = 6_000): { ready: Promise<void>; stop(): Promise<void> } {
  const beat = () => registerWorker(redis, address, ttlMs).catch(() => {});
  const ready = beat();
  const t = setInterval(() => void beat(), Math.max(100, Math.floor(ttlMs / 3)));
  t.unref();
  return {
    ready,
    async stop() {
      clearInterval(t);
      await deregisterWorker(redis, address).catch(() => {});
    },
  };
}

export class WorkerDiscovery {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  /** Addresses this pool drains because Redis says so (a local drain() is left alone). */
  private readonly drainedByRedis = new Set<string>();

  constructor(
    private readonly redis: Redis,
    private readonly registry: WorkerRegistry,
    private readonly log: Logger,
  ) {}

  /** One reconciliation round; returns the live registered addresses. */
  async scan(): Promise<string[]> {
    if (this.busy) return [];
    this.busy = true;
    try {
      const now = Date.now();
      const [live, draining] = await Promise.all([
        this.redis.zrangebyscore(keys.workers(), now, "+inf"),
        this.redis.smembers(keys.drainingWorkers()),
      ]);
      void this.redis.zremrangebyscore(keys.workers(), "-inf", now - 60_000).catch(() => {});
      const liveSet = new Set(live);
      for (const a of live) {
        if (!this.registry.get(a)) {
          this.log.info({ worker: a }, "worker registered; probing");
          this.registry.add(a, "discovered");
        }
      }
      for (const w of [...this.registry.workers]) {
        if (w.source === "discovered" && !liveSet.has(w.address) && !w.removed) {
          this.log.info({ worker: w.address }, "worker registration lapsed; draining and removing");
          this.registry.remove(w.address, true);
        }
      }
      const drainSet = new Set(draining);
      for (const a of drainSet) {
        if (this.registry.get(a) && !this.drainedByRedis.has(a)) {
          this.drainedByRedis.add(a);
          this.registry.drain(a, true);
        }
      }
      for (const a of [...this.drainedByRedis]) {
        if (!drainSet.has(a)) {
          this.drainedByRedis.delete(a);
          this.registry.drain(a, false);
        }
      }
      return live;
    } catch (e) {
      this.log.error({ err: (e as Error).message }, "worker discovery scan failed");
      return [];
    } finally {
      this.busy = false;
    }
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.scan(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
