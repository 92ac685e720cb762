// Anthropic non-streamed responses: the Message object (content blocks,
// stop_reason, stop_sequence, usage) accumulated from the pool's event stream
// through the same block state machine as the stream; and count_tokens' body.
import type { Usage } from "../../contract/queue/messages.js";
import type { ChunkEvent, JsonTranslator } from "../api/translator.js";
import type { RequestMeta } from "../queue.js";
import { anthropicUsage, ContentBlocks, messageBase, stopReason, type BlockOp } from "./content.js";

type Block = Record<string, unknown> & { type: string };

export class AnthropicJson implements JsonTranslator {
  private readonly blocks = new ContentBlocks();
  private readonly content: Block[] = [];
  /** tool_use input JSON text per block index, parsed when the block closes */
  private readonly inputs = new Map<number, string>();
  private finish: ChunkEvent["choices"][number]["finish_reason"] = null;
  private stopSequence: string | null = null;

  constructor(
    private readonly rid: string,
    private readonly meta: RequestMeta,
  ) {}

  add(ev: ChunkEvent): void {
    for (const ch of ev.choices) {
      if (ch.index !== 0) continue;
      this.apply(this.blocks.push(ch));
      if (ch.finish_reason !== null) {
        this.finish = ch.finish_reason;
        this.stopSequence = ch.stop_sequence ?? null;
      }
    }
  }

  build(usage: Usage): object {
    this.apply(this.blocks.finish());
    return {
      ...messageBase(this.rid, this.meta.model),
      content: this.content,
      stop_reason: stopReason(this.finish, this.stopSequence),
      stop_sequence: this.stopSequence,
      usage: anthropicUsage(usage),
    };
  }

  private apply(ops: BlockOp[]): void {
    for (const op of ops) {
      if (op.op === "start") this.content[op.index] = { ...(op.block as Block) };
      else if (op.op === "stop") {
        const raw = this.inputs.get(op.index);
        if (raw !== undefined) this.content[op.index]!.input = parseInput(raw);
      } else {
        const b = this.content[op.index]!;
        const d = op.delta;
        if (d.type === "text_delta") b.text = (b.text as string) + (d.text as string);
        else if (d.type === "thinking_delta") b.thinking = (b.thinking as string) + (d.thinking as string);
        else if (d.type === "signature_delta") b.signature = d.signature;
        else if (d.type === "input_json_delta") this.inputs.set(op.index, (this.inputs.get(op.index) ?? "") + (d.partial_json as string));
      }
    }
  }
}

/** A call's arguments as the input object (the pool's parsers emit a JSON object; anything else is kept whole, not dropped). */
function parseInput(raw: string): unknown {
  try {
    const v: unknown = JSON.parse(raw);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? v : { value: v };
  } catch {
    return { _unparsed_arguments: raw };
  }
}

/** count_tokens: the rendered prompt's length, as the pool counted it. */
export class CountTokensJson implements JsonTranslator {
  add(): void {}
  build(usage: Usage): object {
    return { input_tokens: usage.prompt_tokens };
  }
}
