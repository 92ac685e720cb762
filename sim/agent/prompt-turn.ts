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
  tools: ToolDef[];
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

/** Tools and last turn of the decoded conversation (which ends with `<|im_start|>assistant\n`). */
export function readConversation(text: string): Conversation {
  const body = text.slice(0, text.lastIndexOf("<|im_start|>assistant\n"));
  const start = body.lastIndexOf("<|im_start|>");
  let lastTurn: LastTurn = "other";
  let lastUserText = "";
  if (start >= 0) {
    const turn = body.slice(start + "<|im_start|>".length);
    const nl = turn.indexOf("\n");
    const role = turn.slice(0, nl);
    const content = turn.slice(nl + 1).replace(/<\|im_end\|>\s*$/, "");
    if (role === "tool" || (role === "user" && content.trimStart().startsWith("<tool_response>"))) lastTurn = "tool_response";
    else if (role === "user") lastTurn = "user";
  }
  const users = [...body.matchAll(/<\|im_start\|>user\n([\s\S]*?)<\|im_end\|>/g)].map((m) => m[1]);
  const lastUser = users.reverse().find((u) => !u.trimStart().startsWith("<tool_response>"));
  if (lastUser !== undefined) lastUserText = lastUser;
  return { tools: parseTools(body), lastTurn, lastUserText };
}
