// A POST /v1/responses body -> the one internal request the chat API also
// builds (edge/api/internal-request.ts: tools, tool choice, structured output,
// thinking), plus the normalized input items to store and the fields the
// response object echoes.
import type { Tool } from "../../contract/queue/messages.js";
import { applyToolChoice, checkTools, outputFormat, thinkingFromEffort, type InternalRequest, type JobPayload } from "../api/internal-request.js";
import { EdgeError } from "../errors.js";
import { parseBody } from "../openai/schemas.js";
import { itemsToMessages, normalizeItem, type Item } from "./items.js";
import { FunctionToolSchema, type ResponsesRequest } from "./schema.js";

export interface ResponsesPlan {
  req: InternalRequest;
  /** the whole conversation's input items (a previous response's chain, then this request's), as stored */
  items: Item[];
  /** RequestMeta.echo: the response object's fields that repeat the request */
  echo: Record<string, unknown>;
}

function tools(body: ResponsesRequest): { tools: Tool[] | undefined; echo: object[] } {
  if (!body.tools?.length) return { tools: undefined, echo: [] };
  const parsed = body.tools.map((t, i) => {
    if (t.type !== "function") {
      throw new EdgeError("invalid_request", `Tools of type '${t.type}' are not supported; only 'function' tools are.`, { param: `tools.${i}.type` });
    }
    return parseBody(FunctionToolSchema, t, `tools.${i}`);
  });
  const internal: Tool[] = parsed.map((t) => ({
    type: "function",
    function: {
      name: t.name,
      ...(t.description != null ? { description: t.description } : {}),
      ...(t.parameters != null ? { parameters: t.parameters } : {}),
    },
  }));
  checkTools(internal, "tools");
  const echo = parsed.map((t) => ({ type: "function", name: t.name, description: t.description ?? null, parameters: t.parameters ?? null, strict: t.strict ?? true }));
  return { tools: internal, echo };
}

/**
 * `previous` is the stored conversation of previous_response_id (its input
 * items and its output), already read for this tenant; `rid` names new item ids.
 */
export function responsesRequest(body: ResponsesRequest, rid: string, previous: readonly Item[], createdAt: number): ResponsesPlan {
  const suffix = rid.replace(/^resp_/, "");
  const own = typeof body.input === "string" ? [{ type: "message", role: "user", content: body.input }] : body.input;
  if (own.length === 0 && previous.length === 0) throw new EdgeError("invalid_request", "'input' must not be empty.", { param: "input" });
  const items = [...previous, ...own.map((raw, i) => normalizeItem(raw, i, (p, n) => `${p}_${suffix}_${n}`))];

  const messages = itemsToMessages(items);
  if (body.instructions) messages.unshift({ role: "system", content: body.instructions });

  const t = tools(body);
  const tc = body.tool_choice;
  const choice = tc == null ? undefined : typeof tc === "string" ? tc : { name: tc.name };
  const payload: JobPayload = { messages, ...applyToolChoice(t.tools, choice, "tool_choice") };
  if (body.parallel_tool_calls === false) payload.parallel_tool_calls = false;

  const format = body.text?.format;
  if (format?.type === "json_object") payload.output_format = { schema: { type: "object" } };
  else if (format?.type === "json_schema") payload.output_format = outputFormat(format.schema, format.name, "text.format.schema");

  const effort = body.reasoning?.effort;
  const thinking = thinkingFromEffort(effort);
  if (thinking !== undefined) payload.thinking = thinking;

  const sampling: InternalRequest["sampling"] = { max_tokens: body.max_output_tokens ?? null, stop: [], n: 1 };
  if (body.temperature != null) sampling.temperature = body.temperature;
  if (body.top_p != null) sampling.top_p = body.top_p;

  const echo: Record<string, unknown> = {
    created_at: createdAt,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    metadata: body.metadata ?? {},
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: effort ?? null, summary: null },
    store: body.store ?? true,
    temperature: body.temperature ?? null,
    text: { format: format ?? { type: "text" } },
    tool_choice: tc ?? "auto",
    tools: t.echo,
    top_p: body.top_p ?? null,
    truncation: "disabled",
    ...(body.user !== undefined ? { user: body.user } : {}),
  };
  const stream = body.stream === true;
  return {
    req: { model: body.model, stream, includeUsage: false, sampling, payload },
    items,
    echo,
  };
}
