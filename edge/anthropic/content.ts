// The pool's deltas (reasoning, text, tool-call pieces) as Anthropic content
// blocks: one state machine that both the streamed and the non-streamed
// translator drive, so both produce exactly the same blocks. A block is open
// until output of another kind arrives (thinking -> text -> tool_use…) or the
// message ends; a thinking block gets a signature just before it closes.
import type { ChoiceDelta, FinishReason, Usage } from "../../contract/queue/messages.js";

/**
 * The thinking blocks' signature. Anthropic signs thinking so that it can verify
 * blocks sent back; this gateway does not verify them (a returned thinking block
 * is rendered as the turn's reasoning), so the value is an opaque marker.
 */
export const THINKING_SIGNATURE = "speedgate-unsigned";

export type BlockOp =
  | { op: "start"; index: number; block: Record<string, unknown> }
  | { op: "delta"; index: number; delta: Record<string, unknown> }
  | { op: "stop"; index: number };

type Kind = "thinking" | "text" | "tool_use";

export class ContentBlocks {
  private open: { index: number; kind: Kind } | null = null;
  private next = 0;

  /** Blocks ops for one choice delta, in the order the model produces them: reasoning, text, then tool calls. */
  push(ch: ChoiceDelta): BlockOp[] {
    const ops: BlockOp[] = [];
    if (ch.reasoning) {
      this.ensure("thinking", ops, { type: "thinking", thinking: "", signature: "" });
      ops.push({ op: "delta", index: this.open!.index, delta: { type: "thinking_delta", thinking: ch.reasoning } });
    }
    if (ch.text !== "") {
      this.ensure("text", ops, { type: "text", text: "", citations: null });
      ops.push({ op: "delta", index: this.open!.index, delta: { type: "text_delta", text: ch.text } });
    }
    for (const p of ch.tool_calls ?? []) {
      // The first piece of a call names it: a new tool_use block. Later pieces extend the open one.
      if (p.id !== undefined) {
        this.close(ops);
        this.open = { index: this.next++, kind: "tool_use" };
        ops.push({ op: "start", index: this.open.index, block: { type: "tool_use", id: p.id, name: p.name ?? "", input: {} } });
      }
      if (p.arguments && this.open?.kind === "tool_use") {
        ops.push({ op: "delta", index: this.open.index, delta: { type: "input_json_delta", partial_json: p.arguments } });
      }
    }
    return ops;
  }

  /** Closes the open block (the message ended). */
  finish(): BlockOp[] {
    const ops: BlockOp[] = [];
    this.close(ops);
    return ops;
  }

  private ensure(kind: Kind, ops: BlockOp[], block: Record<string, unknown>): void {
    if (this.open?.kind === kind && kind !== "tool_use") return;
    this.close(ops);
    this.open = { index: this.next++, kind };
    ops.push({ op: "start", index: this.open.index, block });
  }

  private close(ops: BlockOp[]): void {
    if (!this.open) return;
    if (this.open.kind === "thinking") ops.push({ op: "delta", index: this.open.index, delta: { type: "signature_delta", signature: THINKING_SIGNATURE } });
    ops.push({ op: "stop", index: this.open.index });
    this.open = null;
  }
}

/** Anthropic's stop_reason for a finished choice. */
export function stopReason(finish: FinishReason | null, stopSequence: string | null): string {
  if (finish === "length") return "max_tokens";
  if (finish === "tool_calls") return "tool_use";
  return stopSequence !== null ? "stop_sequence" : "end_turn";
}

/**
 * Anthropic's usage: input_tokens excludes what was read from the prefix cache
 * (cache_read_input_tokens), so their sum is the whole prompt, which is what
 * count_tokens returns. Caching is automatic: nothing is ever "created" on request.
 */
export function anthropicUsage(u: Usage) {
  return {
    input_tokens: u.prompt_tokens - u.cached_tokens,
    output_tokens: u.completion_tokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: u.cached_tokens,
  };
}

/** The message object's fixed fields (message_start and the non-streamed body). */
export function messageBase(id: string, model: string) {
  return { id, type: "message", role: "assistant", model, container: null, stop_details: null };
}
