// Anthropic Messages and count_tokens bodies -> the one internal request the
// chat API also builds (edge/api/internal-request.ts): the same messages,
// tools, tool choice and thinking switch, checked by the same shared helpers.
import type { Job, Tool } from "../../contract/queue/messages.js";
import { EdgeError } from "../errors.js";
import { applyToolChoice, checkTools, outputFormat, type InternalRequest, type JobPayload } from "../api/internal-request.js";
import { chatMessages } from "./blocks.js";
import type { CountTokensRequest, MessagesRequest } from "./schemas.js";

function tools(req: CountTokensRequest): Tool[] | undefined {
  if (!req.tools?.length) return undefined;
  const out: Tool[] = req.tools.map((t, i) => {
    if (t.type !== undefined && t.type !== "custom") {
      throw new EdgeError("invalid_request", `Server tools (type '${t.type}') are not supported; only client tools with an input_schema.`, {
        param: `tools.${i}.type`,
      });
    }
    if (t.input_schema === undefined) throw new EdgeError("invalid_request", "A tool needs an 'input_schema'.", { param: `tools.${i}.input_schema` });
    return {
      type: "function",
      function: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), parameters: t.input_schema },
    };
  });
  checkTools(out, "tools");
  return out;
}

/** What both endpoints render: messages, tools (with the tool choice applied) and the thinking switch. */
function payload(req: CountTokensRequest): JobPayload {
  const tc = req.tool_choice;
  const choice = tc === undefined ? undefined : tc.type === "auto" ? "auto" : tc.type === "any" ? "required" : tc.type === "none" ? "none" : { name: tc.name };
  const out: JobPayload = { messages: chatMessages(req), ...applyToolChoice(tools(req), choice, "tool_choice") };
  if (tc !== undefined && tc.type !== "none" && tc.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
  const t = req.thinking;
  if (t !== undefined && t.type !== "disabled" && t.display === "omitted") {
    throw new EdgeError("invalid_request", "thinking.display 'omitted' is not supported; thinking is always returned.", { param: "thinking.display" });
  }
  if (t !== undefined) out.thinking = t.type !== "disabled";
  const effort = req.output_config?.effort;
  if (effort !== undefined && effort !== null) {
    throw new EdgeError("invalid_request", "output_config.effort is not supported: the engine has no graded effort; turn thinking on or off with 'thinking'.", {
      param: "output_config.effort",
    });
  }
  return out;
}

/** output_config.format (or the beta's output_format): the engine's JSON Schema constraint. */
function structured(req: MessagesRequest, p: JobPayload): void {
  const [format, param] = req.output_config?.format ? [req.output_config.format, "output_config.format"] : [req.output_format, "output_format"];
  if (format) p.output_format = outputFormat(format.schema, undefined, `${param}.schema`);
}

export function messagesRequest(req: MessagesRequest): InternalRequest {
  if (req.thinking?.type === "enabled" && req.thinking.budget_tokens >= req.max_tokens) {
    throw new EdgeError("invalid_request", "thinking.budget_tokens must be less than max_tokens.", { param: "thinking.budget_tokens" });
  }
  const p = payload(req);
  structured(req, p);
  const sampling: Job["sampling"] = { max_tokens: req.max_tokens, stop: req.stop_sequences ?? [], n: 1 };
  if (req.temperature !== undefined) sampling.temperature = req.temperature;
  if (req.top_p !== undefined) sampling.top_p = req.top_p;
  if (req.top_k !== undefined) sampling.top_k = req.top_k;
  return { model: req.model, stream: req.stream === true, includeUsage: false, sampling, payload: p };
}

/** count_tokens: the same prompt, no output (max_tokens null: the pool checks the prompt alone against the context). */
export function countTokensRequest(req: CountTokensRequest): InternalRequest {
  const p = payload(req);
  return { model: req.model, stream: false, includeUsage: false, sampling: { max_tokens: null, stop: [], n: 1 }, payload: p };
}
