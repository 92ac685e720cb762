// OpenAI chat-completions and completions bodies -> the internal request.
import type { ChatMessage, Job, Tool } from "../../contract/queue/messages.js";
import { EdgeError } from "../errors.js";
import {
  applyToolChoice,
  checkTools,
  outputFormat,
  thinkingFromEffort,
  type InternalRequest,
  type JobPayload,
} from "../api/internal-request.js";
import { flattenContent, type ChatCompletionRequest, type CompletionRequest } from "./schemas.js";

function sampling(req: ChatCompletionRequest | CompletionRequest, maxTokens: number | null | undefined): Job["sampling"] {
  const stop = req.stop == null ? [] : typeof req.stop === "string" ? [req.stop] : req.stop;
  const s: Job["sampling"] = { max_tokens: maxTokens ?? null, stop, n: req.n ?? 1 };
  if (req.temperature != null) s.temperature = req.temperature;
  if (req.top_p != null) s.top_p = req.top_p;
  if (req.top_k != null && req.top_k > 0) s.top_k = req.top_k;
  if (req.seed != null) s.seed = req.seed;
  if (req.frequency_penalty != null) s.frequency_penalty = req.frequency_penalty;
  if (req.presence_penalty != null) s.presence_penalty = req.presence_penalty;
  if (req.logit_bias != null && Object.keys(req.logit_bias).length) s.logit_bias = req.logit_bias;
  return s;
}

function common(req: ChatCompletionRequest | CompletionRequest) {
  const stream = req.stream === true;
  return { model: req.model, stream, includeUsage: stream && req.stream_options?.include_usage === true };
}

function chatMessages(req: ChatCompletionRequest): ChatMessage[] {
  return req.messages.map((m, i) => {
    const content = flattenContent(m.content, `messages.${i}.content`);
    if (content === null && m.role !== "assistant") {
      throw new EdgeError("invalid_request", `Messages with role '${m.role}' must have content.`, { param: `messages.${i}.content` });
    }
    if (m.role === "tool" && !m.tool_call_id) {
      throw new EdgeError("invalid_request", "Messages with role 'tool' must have a 'tool_call_id' naming the call they answer.", {
        param: `messages.${i}.tool_call_id`,
      });
    }
    if (m.tool_calls !== undefined && m.role !== "assistant") {
      throw new EdgeError("invalid_request", "Only assistant messages may carry 'tool_calls'.", { param: `messages.${i}.tool_calls` });
    }
    const msg: ChatMessage = { role: m.role, content };
    if (m.name !== undefined) msg.name = m.name;
    if (m.tool_calls?.length) msg.tool_calls = m.tool_calls;
    if (m.tool_call_id !== undefined) msg.tool_call_id = m.tool_call_id;
    return msg;
  });
}

function chatTools(req: ChatCompletionRequest): Tool[] | undefined {
  if (!req.tools?.length) return undefined;
  const tools: Tool[] = req.tools.map((t) => ({
    type: "function",
    function: {
      name: t.function.name,
      ...(t.function.description !== undefined ? { description: t.function.description } : {}),
      ...(t.function.parameters !== undefined ? { parameters: t.function.parameters } : {}),
    },
  }));
  checkTools(tools, "tools");
  return tools;
}

export function chatRequest(req: ChatCompletionRequest): InternalRequest {
  const messages = chatMessages(req);
  const choice = req.tool_choice == null ? undefined : typeof req.tool_choice === "string" ? req.tool_choice : { name: req.tool_choice.function.name };
  const payload: JobPayload = { messages, ...applyToolChoice(chatTools(req), choice, "tool_choice") };
  if (req.parallel_tool_calls === false) payload.parallel_tool_calls = false;

  const rf = req.response_format;
  if (rf?.type === "json_object") payload.output_format = { schema: { type: "object" } };
  else if (rf?.type === "json_schema") {
    if (rf.json_schema.schema === undefined) {
      throw new EdgeError("invalid_request", "response_format.json_schema needs a 'schema'.", { param: "response_format" });
    }
    payload.output_format = outputFormat(rf.json_schema.schema, rf.json_schema.name, "response_format");
  }

  if (req.top_logprobs != null && req.logprobs !== true) {
    throw new EdgeError("invalid_request", "'top_logprobs' needs 'logprobs' set to true.", { param: "top_logprobs" });
  }
  if (req.logprobs === true) payload.logprobs = { top: req.top_logprobs ?? 0 };

  // enable_thinking is how templates switch thinking; reasoning_effort says the same in OpenAI's words.
  const kwargs = { ...(req.chat_template_kwargs ?? {}) };
  const fromKwargs = kwargs.enable_thinking;
  delete kwargs.enable_thinking;
  if (fromKwargs !== undefined && typeof fromKwargs !== "boolean") {
    throw new EdgeError("invalid_request", "chat_template_kwargs.enable_thinking must be a boolean.", { param: "chat_template_kwargs.enable_thinking" });
  }
  const fromEffort = thinkingFromEffort(req.reasoning_effort);
  if (fromEffort !== undefined && fromKwargs !== undefined && fromEffort !== fromKwargs) {
    throw new EdgeError("invalid_request", "reasoning_effort and chat_template_kwargs.enable_thinking disagree.", { param: "reasoning_effort" });
  }
  const thinking = fromEffort ?? (fromKwargs as boolean | undefined);
  if (thinking !== undefined) payload.thinking = thinking;
  if (Object.keys(kwargs).length) payload.chat_template_kwargs = kwargs;

  return {
    ...common(req),
    sampling: sampling(req, req.max_completion_tokens ?? req.max_tokens),
    payload,
  };
}

export function completionRequest(req: CompletionRequest): InternalRequest {
  let prompt: string;
  if (typeof req.prompt === "string") prompt = req.prompt;
  else if (req.prompt.length === 1) prompt = req.prompt[0]!;
  else throw new EdgeError("invalid_request", "Exactly one prompt per request is supported (no batches).", { param: "prompt" });
  const payload: JobPayload = { prompt };
  if (req.logprobs != null) payload.logprobs = { top: req.logprobs };
  return { ...common(req), sampling: sampling(req, req.max_tokens), payload };
}
