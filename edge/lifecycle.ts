// The edge's own life: whether it still takes requests, and which responses
// are open. A draining edge refuses new requests (503, so a load balancer or
// client retries elsewhere), lets open responses finish up to a deadline, then
// ends the rest with the "edge_draining" reason: their requests keep
// generating for the resume grace period, so clients resume them on another
// edge (Last-Event-ID) instead of losing them.

export const DRAIN_REASON = "edge_draining";

export class EdgeLifecycle {
  private isDraining = false;
  private readonly open = new Set<AbortController>();
  private idle: (() => void) | undefined;

  get draining(): boolean {
    return this.isDraining;
  }

  get openResponses(): number {
    return this.open.size;
  }

  /** Registers an open response; `ctrl` is aborted (reason DRAIN_REASON) at the drain deadline. Returns its release. */
  track(ctrl: AbortController): () => void {
    this.open.add(ctrl);
    return () => {
      this.open.delete(ctrl);
      if (this.open.size === 0) this.idle?.();
    };
  }

  /** Stops taking requests; resolves once every open response ended, or at `deadlineMs` after ending the rest. */
  async drain(deadlineMs: number): Promise<{ finished: number; ended: number }> {
    this.isDraining = true;
    const before = this.open.size;
    if (before > 0) {
      let deadline!: () => void;
      const timedOut = new Promise<void>((resolve) => (deadline = resolve));
      const timer = setTimeout(deadline, deadlineMs);
      await Promise.race([new Promise<void>((resolve) => (this.idle = resolve)), timedOut]);
      clearTimeout(timer);
    }
    const ended = this.open.size;
    for (const ctrl of this.open) ctrl.abort(DRAIN_REASON);
    return { finished: before - ended, ended };
  }
}
