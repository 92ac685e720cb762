// Fault injection for the simulated worker. Tests and demos use it to exercise
// the pool's retry, migration, health and circuit-breaking paths against the
// same failure shapes a real TokenSpeed worker shows.

export interface FaultControl {
  /** Process-level crash: the server dies abruptly (library: forceShutdown; CLI: process.exit). */
  crash(): void;
  /** Freeze the engine: no frames, HealthCheck never answers, TCP stays open. */
  hang(on: boolean): void;
  /** The next `n` Generate calls fail with UNAVAILABLE before any frame. */
  failBeforeFirstToken(n: number): void;
  /** The next `n` Generate calls fail with INTERNAL after `afterTokens` generated tokens. */
  failMidStream(n: number, afterTokens: number): void;
  /** Multiply every step's duration by `factor` (1 = normal). */
  slowdown(factor: number): void;
  /** Clear every pending fault (does not undo a crash). */
  reset(): void;
  /** Current fault state, for admin endpoints and logs. */
  state(): FaultState;
}

export interface FaultState {
  hung: boolean;
  slowdown: number;
  failBeforeFirstToken: number;
  failMidStream: number;
  failAfterTokens: number;
}

/** What the fault layer needs from the worker it controls. */
export interface FaultTarget {
  crash(): void;
  setHung(on: boolean): void;
  setSlowdown(factor: number): void;
}

export class SimFaults implements FaultControl {
  private hung = false;
  private factor = 1;
  private beforeFirst = 0;
  private midStream = 0;
  private afterTokens = 0;

  constructor(private readonly target: FaultTarget) {}

  crash(): void {
    this.target.crash();
  }

  hang(on: boolean): void {
    this.hung = on;
    this.target.setHung(on);
  }

  failBeforeFirstToken(n: number): void {
    this.beforeFirst = Math.max(0, Math.floor(n));
  }

  failMidStream(n: number, afterTokens: number): void {
    this.midStream = Math.max(0, Math.floor(n));
    this.afterTokens = Math.max(0, Math.floor(afterTokens));
  }

  slowdown(factor: number): void {
    if (!(factor > 0)) throw new Error(`slowdown factor must be > 0, got ${factor}`);
    this.factor = factor;
    this.target.setSlowdown(factor);
  }

  reset(): void {
    this.beforeFirst = 0;
    this.midStream = 0;
    if (this.hung) this.hang(false);
    if (this.factor !== 1) this.slowdown(1);
  }

  state(): FaultState {
    return {
      hung: this.hung,
      slowdown: this.factor,
      failBeforeFirstToken: this.beforeFirst,
      failMidStream: this.midStream,
      failAfterTokens: this.afterTokens,
    };
  }

  /** Consumes one "fail before first token" charge; true if this call must fail. */
  takeBeforeFirstToken(): boolean {
    if (this.beforeFirst <= 0) return false;
    this.beforeFirst--;
    return true;
  }

  /** Consumes one "fail mid-stream" charge; returns the token count after which to fail, or undefined. */
  takeMidStream(): number | undefined {
    if (this.midStream <= 0) return undefined;
    this.midStream--;
    return this.afterTokens;
  }
}
