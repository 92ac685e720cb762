// Anthropic conversation -> the chat messages the pool's template renders
// (the same ChatMessage list the chat-completions API builds): `system` becomes
// a system message, `tool_result` blocks become tool messages, an assistant
// turn's `tool_use` blocks its tool_calls and its `thinking` blocks its
// reasoning_content. Blocks a text-only model cannot take (image, document,
// server-tool results, redacted thinking…) are refused with the block's path.
import { z } from "zod";
import type { ChatMessage, ToolCall } from "../../contract/queue/messages.js";
import { EdgeError } from "../errors.js";
import { Block, parseBlock, type CountTokensRequest, type RawBlock } from "./schemas.js";

/** Text blocks of one message are joined with a blank line (Anthropic keeps them as separate paragraphs). */
const JOIN = "\n\n";

const TextBlock = z.object({ type: z.literal("text"), text: z.string() }).loose();
const ToolUseBlock = z.object({ type: z.literal("tool_use"), id: z.string().min(1), name: z.string().min(1), input: z.record(z.string(), z.unknown()) }).loose();
const ThinkingBlock = z.object({ type: z.literal("thinking"), thinking: z.string(), signature: z.string().optional() }).loose();
const ToolResultBlock = z
  .object({
    type: z.literal("tool_result"),
    tool_use_id: z.string().min(1),
    content: z.union([z.string(), z.array(Block)], { error: "expected a string or an array of text blocks" }).optional(),
    is_error: z.boolean().optional(),
  })
  .loose();

function unsupported(type: string, param: string, where: string): EdgeError {
  const why =
    type === "image" || type === "document"
      ? `Content blocks of type '${type}' are not supported: this endpoint serves text-only models.`
      : type === "redacted_thinking"
        ? "Blocks of type 'redacted_thinking' cannot be sent here: this endpoint never produces them and cannot read them."
        : `Content blocks of type '${type}' are not supported ${where}.`;
  return new EdgeError("invalid_request", why, { param: `${param}.type` });
}

/** Citations and similar annotations change what the model is shown: refused rather than dropped. */
function plainText(block: RawBlock, param: string): string {
  const b = parseBlock(TextBlock, block, param);
  if (b.citations !== undefined && b.citations !== null) {
    throw new EdgeError("invalid_request", "Citations are not supported.", { param: `${param}.citations` });
  }
  return b.text;
}

export function systemText(system: CountTokensRequest["system"]): string | null {
  if (system === undefined) return null;
  if (typeof system === "string") return system;
  return system.map((b) => b.text).join(JOIN);
}

function textOnly(b: RawBlock, param: string, where: string): string {
  if (b.type !== "text") throw unsupported(b.type, param, where);
  return plainText(b, param);
}

/** A tool_result's content as the tool message's text; is_error results say so, since templates have no flag for it. */
function toolResultText(block: z.infer<typeof ToolResultBlock>, param: string): string {
  const c = block.content;
  let text = "";
  if (typeof c === "string") text = c;
  else if (c) {
    text = c.map((b, i) => textOnly(b, `${param}.content.${i}`, "inside a tool_result (text only)")).join(JOIN);
  }
  return block.is_error === true ? `Error: ${text}` : text;
}

function userTurn(content: RawBlock[], param: string, out: ChatMessage[]): void {
  let text: string[] = [];
  const flush = () => {
    if (text.length) out.push({ role: "user", content: text.join(JOIN) });
    text = [];
  };
  content.forEach((block, j) => {
    const p = `${param}.${j}`;
    if (block.type === "text") text.push(plainText(block, p));
    else if (block.type === "tool_result") {
      flush();
      const b = parseBlock(ToolResultBlock, block, p);
      out.push({ role: "tool", content: toolResultText(b, p), tool_call_id: b.tool_use_id });
    } else throw unsupported(block.type, p, "in a user message");
  });
  flush();
}

function assistantTurn(content: RawBlock[], param: string): ChatMessage {
  const text: string[] = [];
  const reasoning: string[] = [];
  const calls: ToolCall[] = [];
  content.forEach((block, j) => {
    const p = `${param}.${j}`;
    if (block.type === "text") text.push(plainText(block, p));
    else if (block.type === "thinking") reasoning.push(parseBlock(ThinkingBlock, block, p).thinking);
    else if (block.type === "tool_use") {
      const b = parseBlock(ToolUseBlock, block, p);
      calls.push({ id: b.id, type: "function", function: { name: b.name, arguments: JSON.stringify(b.input) } });
    } else throw unsupported(block.type, p, "in an assistant message");
  });
  // As the chat API does: null content when the turn only made tool calls.
  const msg: ChatMessage = { role: "assistant", content: text.length || !calls.length ? text.join(JOIN) : null };
  if (reasoning.length) msg.reasoning_content = reasoning.join(JOIN);
  if (calls.length) msg.tool_calls = calls;
  return msg;
}

export function chatMessages(req: CountTokensRequest): ChatMessage[] {
  const out: ChatMessage[] = [];
  const system = systemText(req.system);
  if (system !== null) out.push({ role: "system", content: system });
  req.messages.forEach((m, i) => {
    const param = `messages.${i}.content`;
    if (m.role === "assistant" && i === req.messages.length - 1) {
      // Anthropic continues a final assistant turn (prefill); the chat template closes it instead.
      throw new EdgeError("invalid_request", "A final assistant message (response prefill) is not supported; end with a user message.", {
        param: `messages.${i}`,
      });
    }
    if (typeof m.content === "string") out.push({ role: m.role, content: m.content });
    else if (m.role === "system") out.push({ role: "system", content: m.content.map((b, j) => textOnly(b, `${param}.${j}`, "in a system message")).join(JOIN) });
    else if (m.role === "user") userTurn(m.content, param, out);
    else out.push(assistantTurn(m.content, param));
  });
  return out;
}
