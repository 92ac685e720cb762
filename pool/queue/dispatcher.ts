// The request loop: claims jobs fairly from Redis while below maxInFlight, runs each
// as a RequestRun, keeps leases alive, reaps other pools' expired leases, and
// routes cancellations from the edge to the run holding the rid.
import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import type { ShardSubscriber } from "../../contract/node/shard-subscriber.js";
import type { Logger } from "pino";
import { cancelChannel, wakeChannel } from "../../contract/queue/keys.js";
import type { PoolConfig } from "../config.js";
import { extendAll } from "./leases.js";
import type { QueueClient } from "./client.js";
import { RequestRun, type RequestDeps } from "../run/request-run.js";

export interface DispatcherStats {
  claimed: number;
  finished: number;
  reaped: number;
  lost: number;
}

export class Dispatcher {
  readonly held = new Map<string, RequestRun>();
  readonly stats: DispatcherStats = { claimed: 0, finished: 0, reaped: 0, lost: 0 };
  /** "settled" (rid): a run ended (answered and acked, or abandoned). For tests and metrics. */
  readonly events = new EventEmitter();
  private readonly running = new Set<Promise<void>>();
  private stopping = false;
  private killed = false;
  private wakeUp: (() => void) | undefined;
  /** A wake-up that arrived while no one was waiting (e.g. during a claim): the next idle() returns at once. */
  private wakePending = false;
  private loopDone: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private modelTurn = 0;
  private extendRound = 0;
  private channels: string[] = [];

  constructor(
    private readonly cfg: PoolConfig,
    private readonly models: readonly string[],
    private readonly redis: Redis,
    private readonly sub: ShardSubscriber,
    private readonly queue: QueueClient,
    private readonly deps: RequestDeps,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    // Sharded pub/sub: this pool's own cancel channel and one wake channel per model
    // (each in its own slot, so one SSUBSCRIBE per channel on a cluster).
    const cancels = cancelChannel(this.cfg.poolId);
    const wakes = new Set(this.models.map(wakeChannel));
    this.sub.onMessage((channel, message) => {
      if (channel === cancels) this.held.get(message)?.stop("cancelled");
      else if (wakes.has(channel)) this.wake();
    });
    this.channels = [cancels, ...wakes];
    for (const ch of this.channels) await this.sub.subscribe(ch);
    this.every(Math.max(50, Math.floor(this.cfg.leaseMs / 3)), () => this.extend());
    this.every(this.cfg.reapIntervalMs, () => this.reap());
    this.loopDone = this.claimLoop();
  }

  private every(ms: number, fn: () => Promise<void>): void {
    let busy = false;
    const t = setInterval(() => {
      if (busy) return; // never overlap a slow round with the next
      busy = true;
      fn().finally(() => (busy = false));
    }, ms);
    this.timers.push(t);
  }

  /** Cuts the idle wait short (wake-up message, a freed slot, reaped jobs). */
  private wake(): void {
    const f = this.wakeUp;
    this.wakeUp = undefined;
    if (f) f();
    else this.wakePending = true;
  }

  private idle(ms: number): Promise<void> {
    if (this.wakePending) {
      this.wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async claimLoop(): Promise<void> {
    while (!this.stopping) {
      const free = this.cfg.maxInFlight - this.held.size;
      if (free <= 0) {
        await this.idle(1_000); // a finishing run wakes us
        continue;
      }
      let claimedAny = false;
      // Rotate the starting model so one busy model cannot starve another.
      for (let i = 0; i < this.models.length && !this.stopping; i++) {
        const model = this.models[(this.modelTurn + i) % this.models.length];
        const room = this.cfg.maxInFlight - this.held.size;
        if (room <= 0) break;
        const r = await this.queue.claim(model, Math.min(room, this.cfg.claimBatch));
        if (!r.ok) {
          this.log.error({ error: r.error }, "claim failed");
          continue;
        }
        if (this.killed) break;
        for (const job of r.value) {
          claimedAny = true;
          this.launch(new RequestRun(job, this.deps));
        }
      }
      this.modelTurn++;
      if (!claimedAny && !this.stopping) await this.idle(this.cfg.idlePollMs);
    }
  }

  private launch(run: RequestRun): void {
    this.stats.claimed++;
    this.held.set(run.rid, run);
    const p = run
      .run()
      .catch((e) => this.log.error({ requestId: run.rid, model: run.model, err: e }, "request run crashed"))
      .finally(() => {
        this.held.delete(run.rid);
        this.running.delete(p);
        this.stats.finished++;
        this.wake();
        this.events.emit("settled", run.rid);
      });
    this.running.add(p);
  }

  private async extend(): Promise<void> {
    if (this.held.size === 0) return;
    const held = [...this.held.values()].map((r) => ({ rid: r.rid, token: r.token, model: r.model, leaseRefreshedAt: r.leaseRefreshedAt }));
    // Rounds run every leaseMs/3; skipping leases written within leaseMs/6 still leaves
    // at least half a lease of margin when the next round refreshes them. Every third
    // round checks them all, for the durable cancel key (a cancel message can be missed).
    const checkAll = this.extendRound++ % 3 === 0;
    const { lost, cancelled, error } = await extendAll(this.queue, held, { now: performance.now(), freshMs: this.cfg.leaseMs / 6, checkAll });
    if (error) this.log.error({ error }, "lease extension failed");
    for (const rid of cancelled) this.held.get(rid)?.stop("cancelled");
    for (const rid of lost) {
      const run = this.held.get(rid);
      if (!run) continue;
      this.stats.lost++;
      this.log.warn({ requestId: rid }, "lease lost to another owner; abandoning");
      run.stop("lost");
    }
  }

  private async reap(): Promise<void> {
    for (const model of this.models) {
      const r = await this.queue.reap(model);
      if (!r.ok) this.log.error({ error: r.error }, "reap failed");
      else if (r.value.length > 0) {
        this.stats.reaped += r.value.length;
        this.log.warn({ model, rids: r.value }, "re-queued jobs whose lease expired");
        this.wake();
      }
    }
  }

  /** Graceful: stop claiming, let every held request finish, then stop the loops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loopDone;
    while (this.running.size > 0) await Promise.all([...this.running]);
    this.clearTimers();
    for (const ch of this.channels) await this.sub.unsubscribe(ch).catch(() => {});
  }

  /** Abrupt (tests: a crashed pool): cancel every call, write nothing more. */
  kill(): void {
    this.stopping = true;
    this.killed = true;
    this.clearTimers();
    for (const run of this.held.values()) run.stop("killed");
    this.wake();
  }

  private clearTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }
}
