// Per-worker circuit breaker (wire §5.2, smg worker/circuit_breaker.rs semantics):
// closed --N consecutive failures--> open --cooldown--> half_open
// half_open --M consecutive successes--> closed;  any failure in half_open --> open.
// In half_open one trial call at a time is let through. An outcome is recorded when a
// Generate call produces its first frame (success) or fails with a retryable class
// (failure); client mistakes (INVALID_ARGUMENT...) and our own cancels count as neither.

export type BreakerState = "closed" | "open" | "half_open";

export interface BreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long it stays open before letting a trial through. */
  cooldownMs: number;
  /** Consecutive trial successes that close it again. */
  successThreshold: number;
}

export const DEFAULT_BREAKER: BreakerOptions = { failureThreshold: 5, cooldownMs: 10_000, successThreshold: 2 };

export class CircuitBreaker {
  private st: BreakerState = "closed";
  private failures = 0;
  private successes = 0;
  private openedAt = 0;
  private trials = 0;

  constructor(
    readonly opts: BreakerOptions,
    private readonly onChange: (from: BreakerState, to: BreakerState) => void = () => {},
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Current state (an open circuit whose cooldown passed reads as half_open). */
  get state(): BreakerState {
    if (this.st === "open" && this.now() - this.openedAt >= this.opts.cooldownMs) this.to("half_open");
    return this.st;
  }

  /** May a new call go to this worker now? */
  allows(): boolean {
    const s = this.state;
    if (s === "closed") return true;
    if (s === "open") return false;
    return this.trials === 0;
  }

  /** A call was sent (counts as the half-open trial). */
  dispatched(): void {
    if (this.state === "half_open") this.trials++;
  }

  success(): void {
    if (this.st === "closed") {
      this.failures = 0;
      return;
    }
    if (this.st === "half_open") {
      this.trials = Math.max(0, this.trials - 1);
      if (++this.successes >= this.opts.successThreshold) this.to("closed");
    }
  }

  failure(): void {
    if (this.st === "closed") {
      if (++this.failures >= this.opts.failureThreshold) this.to("open");
    } else if (this.st === "half_open") {
      this.to("open");
    }
  }

  /** Opens at once (a worker confirmed hung or dead). */
  trip(): void {
    if (this.st !== "open") this.to("open");
    else this.openedAt = this.now();
  }

  /** A dispatched call ended with no outcome (cancelled by us): free the trial slot. */
  released(): void {
    if (this.st === "half_open") this.trials = Math.max(0, this.trials - 1);
  }

  private to(s: BreakerState): void {
    const from = this.st;
    this.st = s;
    this.failures = 0;
    this.successes = 0;
    this.trials = 0;
    if (s === "open") this.openedAt = this.now();
    this.onChange(from, s);
  }
}
