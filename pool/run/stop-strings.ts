// Stop strings across chunk boundaries. Text that could be the beginning of a
// stop string is held back until the next text proves it is not (then it is
// released) or completes the stop (then the stop and everything after it is
// dropped and the choice ends with finish_reason "stop").
export interface StopResult {
  /** Text safe to send now. */
  text: string;
  /** The stop string that matched, if any (the choice is finished). */
  matched: string | null;
}

export class StopMatcher {
  private held = "";
  private done = false;
  private readonly stops: string[];

  constructor(stops: readonly string[]) {
    this.stops = stops.filter((s) => s.length > 0);
  }

  get finished(): boolean {
    return this.done;
  }

  push(text: string): StopResult {
    if (this.done) return { text: "", matched: null };
    if (this.stops.length === 0) return { text, matched: null };
    const buf = this.held + text;
    // The earliest occurrence wins: nothing before it was a stop (it would have been held).
    let at = -1;
    let matched: string | null = null;
    for (const s of this.stops) {
      const i = buf.indexOf(s);
      if (i >= 0 && (at < 0 || i < at)) {
        at = i;
        matched = s;
      }
    }
    if (matched !== null) {
      this.done = true;
      this.held = "";
      return { text: buf.slice(0, at), matched };
    }
    const keep = this.holdLength(buf);
    this.held = buf.slice(buf.length - keep);
    return { text: buf.slice(0, buf.length - keep), matched: null };
  }

  /**
   * End of the sequence. `workerMatched` is the worker's matched_stop_str: if the
   * held text contains it, trim there too, so both sides agree on the visible text.
   */
  flush(workerMatched?: string): string {
    if (this.done) return "";
    this.done = true;
    let out = this.held;
    this.held = "";
    if (workerMatched) {
      const i = out.indexOf(workerMatched);
      if (i >= 0) out = out.slice(0, i);
    }
    return out;
  }

  /** Length of the longest suffix of buf that is a proper prefix of some stop string. */
  private holdLength(buf: string): number {
    let best = 0;
    for (const s of this.stops) {
      const max = Math.min(s.length - 1, buf.length);
      for (let k = max; k > best; k--) {
        if (buf.endsWith(s.slice(0, k))) {
          best = k;
          break;
        }
      }
    }
    return best;
  }
}
