// Tool calls in each family's native markup, with arguments generated from the
// tool's parameters schema (so a strict parser + validator on the pool side
// accepts them).
import type { Family } from "./family.js";
import type { ToolDef } from "./prompt-turn.js";
import type { Rng } from "./rng.js";
import { pyJson, schemaValue } from "./schema-value.js";

export interface ToolCall {
  name: string;
  /** Arguments serialized as JSON text. */
  arguments: string;
}

/** One call, or two when `parallel` (to two different tools when the prompt offers at least two). */
export function chooseCalls(tools: readonly ToolDef[], rng: Rng, parallel: boolean): ToolCall[] {
  const first = rng.int(0, tools.length - 1);
  const picks = [tools[first]];
  if (parallel) picks.push(tools.length > 1 ? tools[(first + rng.int(1, tools.length - 1)) % tools.length] : tools[first]);
  return picks.map((t) => ({ name: t.name, arguments: pyJson(schemaValue(t.parameters, rng)) }));
}

/** The calls as the family's chat model writes them (the caller appends EOS). */
export function renderToolCalls(family: Family, calls: readonly ToolCall[]): string {
  if (family === "kimi_k2") {
    const body = calls
      .map((c, i) => `<|tool_call_begin|>functions.${c.name}:${i}<|tool_call_argument_begin|>${c.arguments}<|tool_call_end|>`)
      .join("");
    return `<|tool_calls_section_begin|>${body}<|tool_calls_section_end|>`;
  }
  return calls.map((c) => `<tool_call>\n{"name": ${JSON.stringify(c.name)}, "arguments": ${c.arguments}}\n</tool_call>`).join("\n");
}
