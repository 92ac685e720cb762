// Decides what the simulated model writes for a request before it starts, as
// a token script followed by EOS or by the ordinary text model:
//   constraint (json_schema / regex / structural_tag) → exactly that text, EOS;
//   chat prompt with thinking on → <think>\n reasoning \n</think>\n\n first;
//   tools offered + last turn is the user + the call dice say so → tool calls, EOS;
//   tools offered but not called, or after a tool result → a short answer, EOS;
//   otherwise → free text from the text model (existing plain-text behaviour).
// Decisions hash only the conversation (prompt up to the assistant header) and
// the seed, and an existing partial answer in the prompt (a replay after worker
// migration, or an opened `<think>\n`) is skipped, so a replayed request
// continues exactly where the first worker stopped.
import type { SimTokenizer } from "../tokenizer.js";
import { renderConstraint, type Constraint } from "./constraint.js";
import type { Family } from "./family.js";
import { readConversation, splitPrompt, type Conversation } from "./prompt-turn.js";
import { answer, preamble, reasoning } from "./prose.js";
import { rngFrom } from "./rng.js";
import type { StructuralContext } from "./structural.js";
import { chooseCalls, renderToolCalls } from "./tool-calls.js";

export interface AgentParams {
  family?: Family;
  /** Probability of calling tools when offered and the user spoke last (default 0). */
  toolCallRate?: number;
  /** Probability that a call is two calls (default 0). */
  parallelCallRate?: number;
  constraint?: Constraint;
}

export interface Script {
  /** Ids to emit first, in order. */
  ids: number[];
  /** After the ids: "eos" ends the sequence, "text" continues with the text model. */
  end: "eos" | "text";
}

const THINK_OFF = "<think>\n\n</think>\n\n";

/** FNV-1a over the ids and the seed: the conversation's decision seed. */
function decisionSeed(seed: number, ids: readonly number[]): number {
  let h = 0x811c9dc5 ^ (seed | 0);
  for (const id of ids) h = Math.imul(h ^ id, 0x01000193);
  return h >>> 0;
}

function prefixOf(a: readonly number[], b: readonly number[]): boolean {
  return b.length <= a.length && b.every((x, i) => a[i] === x);
}

export function planScript(tok: SimTokenizer, prompt: readonly number[], seed: number, agent: AgentParams = {}): Script | undefined {
  const split = splitPrompt(tok, prompt);
  const c = agent.constraint;
  if (!split && !c) return undefined; // raw completion prompt: plain text model

  const rng = rngFrom(decisionSeed(seed, split?.conversation ?? prompt));
  const conv: Conversation = split ? readConversation(tok, split.conversation) : { tools: [], lastTurn: "other", lastUserText: "" };
  // Always draw both dice so later choices do not depend on the rates.
  const callDie = rng.next();
  const parallelDie = rng.next();
  const callTurn = conv.lastTurn === "user";
  const wantsCall = callTurn && callDie < (agent.toolCallRate ?? 0);
  const parallel = parallelDie < (agent.parallelCallRate ?? 0);
  const thinkingOn = !!split && !split.thinkingOff;
  const rendered = split?.thinkingOff ? THINK_OFF : "";

  let body: string;
  let end: Script["end"] = "eos";
  if (c) {
    const calling = wantsCall ? conv.tools.slice(0, parallel ? 2 : 1).map((t) => t.name) : [];
    const ctx: StructuralContext = {
      rng,
      wantsCall,
      parallel,
      thinking: () => `\n${reasoning(rng, { userText: conv.lastUserText, calling, afterToolResponse: conv.lastTurn === "tool_response" })}\n`,
    };
    body = renderConstraint(c, ctx);
  } else {
    const calls = wantsCall && conv.tools.length ? chooseCalls(conv.tools, rng, parallel) : [];
    const think = thinkingOn
      ? `<think>\n${reasoning(rng, { userText: conv.lastUserText, calling: calls.map((x) => x.name), afterToolResponse: conv.lastTurn === "tool_response" })}\n</think>\n\n`
      : "";
    if (calls.length) body = think + (rng.chance(0.3) ? `${preamble(rng)}\n\n` : "") + renderToolCalls(agent.family ?? "qwen3", calls);
    else if (conv.tools.length || conv.lastTurn === "tool_response") {
      // An agent's turn that answers in text (tools offered but not called, or
      // the answer to a tool result) is a short answer that ends, as real models
      // do; runTools loops need the turn to end with "stop".
      body = think + answer(rng);
    } else {
      body = think;
      end = "text";
    }
    if (!body) return undefined; // nothing scripted: identical to the plain text model
  }

  const full = rendered + body;
  const fullIds = tok.encode(full);
  const tail = split?.tail ?? [];
  if (prefixOf(fullIds, tail)) return { ids: fullIds.slice(tail.length), end };
  if (prefixOf(tail, fullIds)) return { ids: [], end }; // a replay already past the script
  const tailText = tok.decode(tail);
  if (full.startsWith(tailText)) return { ids: tok.encode(full.slice(tailText.length)), end };
  // The prompt pre-filled an answer we did not plan: constrained output starts
  // from here regardless; otherwise the model just continues in free text.
  return c ? { ids: tok.encode(body), end } : undefined;
}
