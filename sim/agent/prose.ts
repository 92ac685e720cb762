// The few natural-language pieces the agentic sim writes itself: reasoning
// inside <think>, a short preamble before tool calls, free text for any_text.
// They only need to look plausible and be deterministic; they never contain
// '<' so they cannot open or close markup by accident.
import type { Rng } from "./rng.js";

// The opener is built from three independent picks so that different seeds
// diverge within the first few tokens (n>1 choices should differ early).
const OPEN_A = ["Okay", "Alright", "Hmm", "So", "Well", "Right", "Now", "First"];
const OPEN_B = ["let me", "I need to", "I should", "I'll", "time to", "I want to"];
const OPEN_C = ["think about this", "work through this", "consider the request", "figure this out", "look at this"];
const FILLERS = [
  "I should keep the answer short and accurate.",
  "There might be more than one way to approach it.",
  "Let me double-check the details before answering.",
  "The main point is clear enough.",
  "I want to be precise here.",
];
const PREAMBLES = ["Let me check that.", "I'll look that up.", "Sure, one moment."];
const FREE = [
  "Here is what I found.",
  "The quick brown fox jumps over the lazy dog.",
  "That depends on a few factors, but the short answer is yes.",
  "Thanks for the question; here is a brief summary.",
];

/** A short, markup-free quote of `text` (first words of the user's message). */
function gist(text: string): string {
  const words = text.replace(/[<>]/g, " ").split(/\s+/).filter(Boolean).slice(0, 12).join(" ");
  return words.length > 80 ? words.slice(0, 80) : words;
}

export interface ReasoningInput {
  userText: string;
  /** Tool names the model decided to call (empty: answer directly). */
  calling: string[];
  afterToolResponse: boolean;
}

/** Reasoning text for the think block (without the tags). */
export function reasoning(rng: Rng, r: ReasoningInput): string {
  const parts = [`${rng.pick(OPEN_A)}, ${rng.pick(OPEN_B)} ${rng.pick(OPEN_C)}.`];
  const g = gist(r.userText);
  if (g) parts.push(`The user asks: "${g}".`);
  if (r.afterToolResponse) parts.push("The tool results are in, so I can answer now.");
  else if (r.calling.length) parts.push(`I should call ${r.calling.join(" and ")} to get the information.`);
  else parts.push(rng.pick(FILLERS));
  parts.push(rng.pick(FILLERS));
  return parts.join(" ");
}

export function preamble(rng: Rng): string {
  return rng.pick(PREAMBLES);
}

/** Free text (any_text in structural tags, text around triggered tags). */
export function freeText(rng: Rng): string {
  return rng.pick(FREE);
}

/** A short final answer of an agent's turn: one or two sentences. */
export function answer(rng: Rng): string {
  const first = rng.pick(FREE);
  return rng.chance(0.5) ? `${first} ${rng.pick(FILLERS)}` : first;
}
