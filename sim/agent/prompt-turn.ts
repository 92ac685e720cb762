// Reads what the simulated model needs from a Qwen3-templated prompt: where the
// assistant turn being generated starts, whether thinking is on, the offered
// tools, and what the last turn before it was (user question or tool results).
//
// The split is done on token ids, not text, because the pool may replay a
// request with `prompt + tokens generated so far` as the new prompt (worker
// migration): everything after the last `<|im_start|>assistant\n` is then a
// partial answer, and the model must continue the answer it had planned for
// the conversation that precedes it.
import type { SimTokenizer } from "../tokenizer.js";

export interface ToolDef {
  name: string;
  description?: string;
  /** JSON Schema of the arguments ({} when absent). */
  parameters: unknown;
}

export type LastTurn = "user" | "tool_response" | "other";

export interface PromptSplit {
  /** Prompt ids up to and including `<|im_start|>assistant\n`: the conversation the answer is planned from. */
  conversation: number[];
  /** Ids after it: a rendered empty think block and/or a partial answer from an earlier worker. */
  tail: number[];
  /** The template rendered `<think>\n\n</think>\n\n` (thinking disabled). */
  thinkingOff: boolean;
}

export interface Conversation {
  /** Decoded on first access. */
  readonly tools: ToolDef[];
  lastTurn: LastTurn;
  /** Content of the last user message (for the reasoning text). */
  lastUserText: string;
}

const THINK_OFF = "<think>\n\n</think>\n\n";

function startsWith(a: readonly number[], b: readonly number[], at = 0): boolean {
  if (a.length - at < b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[at + i] !== b[i]) return false;
  return true;
}

/** Splits at the last assistant generation prompt; undefined for a raw (non-chat) prompt. */
export function splitPrompt(tok: SimTokenizer, prompt: readonly number[]): PromptSplit | undefined {
  const head = tok.encode("<|im_start|>assistant\n");
  for (let i = prompt.length - head.length; i >= 0; i--) {
    if (prompt[i] !== head[0] || !startsWith(prompt, head, i)) continue;
    const end = i + head.length;
    const off = tok.encode(THINK_OFF);
    const thinkingOff = startsWith(prompt, off, end);
    return { conversation: prompt.slice(0, end), tail: prompt.slice(end), thinkingOff };
  }
  return undefined;
}

/** Tool definitions from the system turn's `<tools>` block (one JSON object per line). */
export function parseTools(text: string): ToolDef[] {
  const m = /<tools>\n([\s\S]*?)\n?<\/tools>/.exec(text);
  if (!m) return [];
  const out: ToolDef[] = [];
  for (const line of m[1].split("\n")) {
    if (!line.trim()) continue;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line);
    } catch {
      continue; // a tool line the template rendered oddly: skip it, like a model would ignore it
    }
    const fn = (obj.function && typeof obj.function === "object" ? obj.function : obj) as Record<string, unknown>;
    if (typeof fn.name !== "string") continue;
    out.push({
      name: fn.name,
      description: typeof fn.description === "string" ? fn.description : undefined,
      parameters: fn.parameters && typeof fn.parameters === "object" ? fn.parameters : {},
    });
  }
  return out;
}

/**
 * Last turn, last user text and (lazily) the tools of a conversation that ends
 * with `<|im_start|>assistant\n`. Only the turns needed are decoded: prompts can
 * be 30k tokens and this runs for every request; the full decode for the tools
 * block happens only when the model actually considers calling one.
 */
export function readConversation(tok: SimTokenizer, conversation: readonly number[]): Conversation {
  const imStart = tok.encode("<|im_start|>")[0];
  const header = tok.encode("<|im_start|>assistant\n").length;
  let end = conversation.length - header;
  let lastTurn: LastTurn | undefined;
  let lastUserText = "";
  for (let i = end - 1; i >= 0; i--) {
    if (conversation[i] !== imStart) continue;
    const turn = tok.decode(conversation.slice(i + 1, end));
    end = i;
    const nl = turn.indexOf("\n");
    const role = turn.slice(0, nl);
    const content = turn.slice(nl + 1).replace(/<\|im_end\|>\s*$/, "");
    const toolResponse = role === "tool" || (role === "user" && content.trimStart().startsWith("<tool_response>"));
    lastTurn ??= toolResponse ? "tool_response" : role === "user" ? "user" : "other";
    if (role === "user" && !toolResponse) {
      lastUserText = content;
      break;
    }
    if (role === "system") break;
  }
  let tools: ToolDef[] | undefined;
  return {
    get tools() {
      return (tools ??= parseTools(tok.decode(conversation as number[])));
    },
    lastTurn: lastTurn ?? "other",
    lastUserText,
  };
}
