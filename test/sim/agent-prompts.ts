// Qwen3 chat-template rendering for the agentic sim tests (what the pool sends),
// tool-call extraction for both families, and ajv for argument validation.
import { Ajv } from "ajv";

export interface Tool {
  type: "function";
  function: { name: string; description?: string; parameters: Record<string, unknown> };
}

export type Msg =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string; toolCalls?: { name: string; arguments: unknown }[] }
  | { role: "tool"; content: string };

/** thinking: true = ends `assistant\n`; false = empty think block rendered; "open" = ends `assistant\n<think>\n`. */
export function qwen3Prompt(messages: Msg[], tools: Tool[] = [], thinking: boolean | "open" = false): string {
  let out = "";
  const sys = messages[0]?.role === "system" ? messages[0].content : "";
  if (tools.length) {
    out +=
      "<|im_start|>system\n" +
      (sys ? `${sys}\n\n` : "") +
      "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
      "You are provided with function signatures within <tools></tools> XML tags:\n<tools>" +
      tools.map((t) => "\n" + JSON.stringify(t)).join("") +
      '\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n';
  } else if (sys) out += `<|im_start|>system\n${sys}<|im_end|>\n`;
  const rest = messages[0]?.role === "system" ? messages.slice(1) : messages;
  rest.forEach((m, i) => {
    if (m.role === "user") out += `<|im_start|>user\n${m.content}<|im_end|>\n`;
    else if (m.role === "assistant") {
      out += `<|im_start|>assistant\n${m.content}`;
      for (const c of m.toolCalls ?? []) out += `\n<tool_call>\n${JSON.stringify({ name: c.name, arguments: c.arguments })}\n</tool_call>`;
      out += "<|im_end|>\n";
    } else if (m.role === "tool") {
      if (rest[i - 1]?.role !== "tool") out += "<|im_start|>user";
      out += `\n<tool_response>\n${m.content}\n</tool_response>`;
      if (rest[i + 1]?.role !== "tool") out += "<|im_end|>\n";
    }
  });
  out += "<|im_start|>assistant\n";
  if (thinking === false) out += "<think>\n\n</think>\n\n";
  if (thinking === "open") out += "<think>\n";
  return out;
}

export interface ParsedCall {
  name: string;
  args: unknown;
  index?: number;
}

export function qwen3Calls(text: string): ParsedCall[] {
  return [...text.matchAll(/<tool_call>\n([\s\S]*?)\n<\/tool_call>/g)].map((m) => {
    const o = JSON.parse(m[1]) as { name: string; arguments: unknown };
    return { name: o.name, args: o.arguments };
  });
}

export function kimiCalls(text: string): ParsedCall[] {
  const section = /<\|tool_calls_section_begin\|>([\s\S]*)<\|tool_calls_section_end\|>$/.exec(text);
  if (!section) return [];
  return [...section[1].matchAll(/<\|tool_call_begin\|>functions\.([\w-]+):(\d+)<\|tool_call_argument_begin\|>([\s\S]*?)<\|tool_call_end\|>/g)].map((m) => ({
    name: m[1],
    index: Number(m[2]),
    args: JSON.parse(m[3]),
  }));
}

const ajv = new Ajv({ strict: false, allErrors: true });

/** Throws with ajv's errors when `value` does not validate. */
export function assertValid(schema: unknown, value: unknown): void {
  const validate = ajv.compile(schema as object);
  if (!validate(value)) throw new Error(`${JSON.stringify(value)} invalid: ${ajv.errorsText(validate.errors)}`);
}

/** A deliberately demanding schema: nesting, $defs refs, enums, bounds, arrays, additionalProperties false. */
export const BOOKING_SCHEMA = {
  type: "object",
  properties: {
    city: { type: "string", minLength: 2, maxLength: 20 },
    nights: { type: "integer", minimum: 1, maximum: 14 },
    budget: { type: "number", minimum: 50.5, maximum: 99.5 },
    breakfast: { type: "boolean" },
    room: { enum: ["single", "double", "suite"] },
    version: { const: 2 },
    guests: { type: "array", minItems: 1, maxItems: 3, items: { $ref: "#/$defs/guest" } },
    contact: { $ref: "#/definitions/contact" },
    note: { anyOf: [{ type: "string", maxLength: 5 }, { type: "null" }] },
    code: { type: "string", pattern: "^[A-Z]{2}[0-9]{3}$" },
    nothing: { type: "null" },
  },
  required: ["city", "nights", "budget", "breakfast", "room", "version", "guests", "contact", "note", "code", "nothing"],
  additionalProperties: false,
  $defs: {
    guest: {
      type: "object",
      properties: { name: { type: "string", minLength: 1 }, age: { type: "integer", minimum: 0, maximum: 120 } },
      required: ["name", "age"],
      additionalProperties: false,
    },
  },
  definitions: {
    contact: {
      oneOf: [
        { type: "object", properties: { email: { type: "string" } }, required: ["email"], additionalProperties: false },
        { type: "string" },
      ],
    },
  },
};

export const TOOLS: Tool[] = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "Weather for a city",
      parameters: { type: "object", properties: { city: { type: "string" }, unit: { type: "string", enum: ["c", "f"] } }, required: ["city"] },
    },
  },
  { type: "function", function: { name: "book_hotel", description: "Books a hotel", parameters: BOOKING_SCHEMA } },
];
