// Responses API input items -> the chat messages of the one internal request.
// Items are checked one at a time so every mistake names its place
// (`input.<i>...`); each is also normalized (with an id) for storage, so
// input_items and a later previous_response_id see exactly what was run.
import type { ChatMessage, ToolCall } from "../../contract/queue/messages.js";
import { EdgeError } from "../errors.js";

/** A normalized item as stored and listed by GET /v1/responses/{id}/input_items. */
export type Item = Record<string, unknown> & { type: string; id?: string };

const bad = (message: string, param: string) => new EdgeError("invalid_request", message, { param });
const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

function str(v: unknown, param: string, what: string): string {
  if (typeof v !== "string") throw bad(`${what} must be a string.`, param);
  return v;
}

const TEXT_PARTS = new Set(["input_text", "output_text", "text", "refusal", "summary_text", "reasoning_text"]);

/** Text of a content field: a string or a list of text parts (other parts: 400). */
function partsText(content: unknown, param: string, allowed: readonly string[]): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw bad("Content must be a string or an array of content parts.", param);
  let text = "";
  content.forEach((p, j) => {
    if (!isObj(p) || typeof p.type !== "string") throw bad("A content part must be an object with a 'type'.", `${param}.${j}`);
    if (!allowed.includes(p.type)) {
      const why = TEXT_PARTS.has(p.type) ? `is not allowed here (expected ${allowed.join(" or ")})` : "is not supported: this endpoint serves text-only models";
      throw bad(`Content parts of type '${p.type}' ${why}.`, `${param}.${j}.type`);
    }
    text += p.type === "refusal" ? str(p.refusal, `${param}.${j}.refusal`, "A refusal part's 'refusal'") : str(p.text, `${param}.${j}.text`, "A text part's 'text'");
  });
  return text;
}

const ROLES = ["user", "assistant", "system", "developer"] as const;

/** Checks one input item and returns it normalized (text parts, an id). */
export function normalizeItem(raw: unknown, i: number, idFor: (prefix: string, i: number) => string): Item {
  const param = `input.${i}`;
  if (!isObj(raw)) throw bad("An input item must be an object.", param);
  // An item with a role and no type is a message (EasyInputMessage).
  const type = raw.type === undefined && raw.role !== undefined ? "message" : raw.type;
  if (typeof type !== "string") throw bad("An input item needs a 'type'.", `${param}.type`);
  const id = typeof raw.id === "string" && raw.id ? raw.id : undefined;
  switch (type) {
    case "message": {
      const role = raw.role;
      if (typeof role !== "string" || !(ROLES as readonly string[]).includes(role)) {
        throw bad(`A message's role must be one of ${ROLES.join(", ")}.`, `${param}.role`);
      }
      const assistant = role === "assistant";
      const text = partsText(raw.content, `${param}.content`, assistant ? ["output_text", "refusal"] : ["input_text"]);
      return {
        id: id ?? idFor("msg", i),
        type: "message",
        role,
        status: "completed",
        content: [assistant ? { type: "output_text", text, annotations: [] } : { type: "input_text", text }],
      };
    }
    case "function_call":
      return {
        id: id ?? idFor("fc", i),
        type: "function_call",
        call_id: str(raw.call_id, `${param}.call_id`, "A function call's 'call_id'"),
        name: str(raw.name, `${param}.name`, "A function call's 'name'"),
        arguments: str(raw.arguments, `${param}.arguments`, "A function call's 'arguments'"),
        status: "completed",
      };
    case "function_call_output":
      return {
        id: id ?? idFor("fco", i),
        type: "function_call_output",
        call_id: str(raw.call_id, `${param}.call_id`, "A function call output's 'call_id'"),
        output: partsText(raw.output, `${param}.output`, ["input_text"]),
        status: "completed",
      };
    case "reasoning": {
      if (raw.encrypted_content != null) throw bad("Encrypted reasoning is not supported; send the reasoning text in 'content'.", `${param}.encrypted_content`);
      const summary = raw.summary === undefined ? "" : partsText(raw.summary, `${param}.summary`, ["summary_text"]);
      const content = raw.content == null ? "" : partsText(raw.content, `${param}.content`, ["reasoning_text"]);
      return {
        id: id ?? idFor("rs", i),
        type: "reasoning",
        summary: summary ? [{ type: "summary_text", text: summary }] : [],
        content: content ? [{ type: "reasoning_text", text: content }] : [],
      };
    }
    default:
      throw bad(`Input items of type '${type}' are not supported (supported: message, function_call, function_call_output, reasoning).`, `${param}.type`);
  }
}

const firstText = (parts: unknown): string => (Array.isArray(parts) && isObj(parts[0]) && typeof parts[0].text === "string" ? parts[0].text : "");

/**
 * Normalized items -> chat messages. An assistant turn is one chat message:
 * its reasoning, its text and the calls it made (consecutive reasoning /
 * assistant message / function_call items merge, as chat templates expect).
 */
export function itemsToMessages(items: readonly Item[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  let turn = null as ChatMessage | null;
  const flush = () => {
    if (turn) out.push(turn.content === null && !turn.tool_calls ? { ...turn, content: "" } : turn);
    turn = null;
  };
  const fresh = (): ChatMessage => {
    flush();
    return (turn = { role: "assistant", content: null });
  };
  for (const it of items) {
    if (it.type === "reasoning") {
      const t: ChatMessage = turn && turn.content === null && !turn.tool_calls && !turn.reasoning_content ? turn : fresh();
      const text = firstText(it.content) || firstText(it.summary);
      if (text) t.reasoning_content = text;
    } else if (it.type === "message" && it.role === "assistant") {
      const t: ChatMessage = turn && turn.content === null && !turn.tool_calls ? turn : fresh();
      t.content = firstText(it.content);
    } else if (it.type === "function_call") {
      const t: ChatMessage = turn ?? fresh();
      const call: ToolCall = { id: it.call_id as string, type: "function", function: { name: it.name as string, arguments: it.arguments as string } };
      (t.tool_calls ??= []).push(call);
    } else if (it.type === "function_call_output") {
      flush();
      out.push({ role: "tool", content: it.output as string, tool_call_id: it.call_id as string });
    } else {
      flush();
      out.push({ role: it.role === "developer" ? "system" : (it.role as string), content: firstText(it.content) });
    }
  }
  flush();
  return out;
}
