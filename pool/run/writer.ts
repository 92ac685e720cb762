// Coalesced writes of one request's response stream: a delta is written at once
// when no write for this request is in flight; whatever arrives meanwhile is merged
// and goes out in the next write. Idle requests get minimal latency; under load
// the number of Redis operations per request is bounded by round trips, not tokens.
import type { ResponseEvent } from "../../contract/queue/messages.js";
import type { ChoiceDelta } from "./choice.js";
import type { Result } from "../../contract/result.js";

function copyDelta(d: ChoiceDelta): ChoiceDelta {
  const out: ChoiceDelta = { ...d, token_ids: [...d.token_ids] };
  if (d.tool_calls) out.tool_calls = [...d.tool_calls];
  if (d.logprobs) out.logprobs = [...d.logprobs];
  return out;
}

/** Appends `d` to the pending delta of the same choice (text, reasoning, pieces and ids in order). */
function mergeDelta(into: ChoiceDelta, d: ChoiceDelta): void {
  into.text += d.text;
  into.token_ids.push(...d.token_ids);
  if (d.reasoning) into.reasoning = (into.reasoning ?? "") + d.reasoning;
  if (d.tool_calls) (into.tool_calls ??= []).push(...d.tool_calls);
  if (d.logprobs) (into.logprobs ??= []).push(...d.logprobs);
  into.finish_reason = d.finish_reason ?? into.finish_reason;
  if (d.stop_sequence !== undefined) into.stop_sequence = d.stop_sequence;
}

export type AppendFn = (events: readonly ResponseEvent[]) => Promise<Result<"ok" | "fenced" | "cancelled">>;

export type WriterState = "open" | "fenced" | "failed";

export class CoalescingWriter {
  private pending = new Map<number, ChoiceDelta>();
  private loop: Promise<void> | null = null;
  private lastWriteAt = 0;
  state: WriterState = "open";
  /** Stream entries written (chunk and terminal). */
  entries = 0;
  failure: string | undefined;

  constructor(
    private readonly append: AppendFn,
    /** Called once when the write lease is lost or Redis fails: the request must be abandoned. */
    private readonly onLost: (why: WriterState) => void,
    private readonly minIntervalMs = 0,
  ) {}

  push(delta: ChoiceDelta | null): void {
    if (!delta || this.state !== "open") return;
    if (delta.text === "" && delta.token_ids.length === 0 && delta.finish_reason === null && !delta.reasoning && !delta.tool_calls) return;
    const prev = this.pending.get(delta.index);
    if (prev) mergeDelta(prev, delta);
    else this.pending.set(delta.index, copyDelta(delta));
    if (!this.loop) this.loop = this.drain();
  }

  private takeChunk(): ResponseEvent | null {
    if (this.pending.size === 0) return null;
    const choices = [...this.pending.values()].sort((a, b) => a.index - b.index);
    this.pending = new Map();
    return { type: "chunk", choices };
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        if (this.minIntervalMs > 0) {
          const wait = this.lastWriteAt + this.minIntervalMs - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        const ev = this.takeChunk();
        if (!ev || this.state !== "open") return;
        await this.write([ev]);
      }
    } finally {
      this.loop = null;
    }
  }

  private async write(events: ResponseEvent[]): Promise<boolean> {
    this.lastWriteAt = Date.now();
    const r = await this.append(events);
    if (r.ok && r.value === "ok") {
      this.entries += events.length;
      return true;
    }
    if (this.state === "open") {
      this.state = r.ok ? "fenced" : "failed";
      this.failure = r.ok ? "write lease lost" : r.error;
      this.onLost(this.state);
    }
    return false;
  }

  /** Waits for in-flight writes, then writes what is pending plus the terminal event in one call. */
  async finish(terminal: ResponseEvent): Promise<boolean> {
    while (this.loop) await this.loop;
    if (this.state !== "open") return false;
    const chunk = this.takeChunk();
    return this.write(chunk ? [chunk, terminal] : [terminal]);
  }

  /** Stops writing (request abandoned); pending deltas are dropped. */
  close(): void {
    if (this.state === "open") this.state = "failed";
    this.pending.clear();
  }
}
