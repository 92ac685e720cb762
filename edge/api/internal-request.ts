// The one internal request every public API translates into before admission
// (the Job's payload plus what admission and the relay need). Shared checks of
// its parts live here so every API refuses the same mistakes the same way.
import type { ChatMessage, Job, Tool, ToolChoice } from "../../contract/queue/messages.js";
import { EdgeError } from "../errors.js";
import { checkJsonSchema } from "./json-schema-check.js";
import { TEMPLATE_TOKENS_BASE, TEMPLATE_TOKENS_PER_MESSAGE, TEMPLATE_TOKENS_TOOLS, utf8Length } from "./prompt-bound.js";

export type JobPayload = Pick<
  Job,
  "messages" | "tools" | "tool_choice" | "parallel_tool_calls" | "output_format" | "thinking" | "logprobs" | "chat_template_kwargs" | "prompt"
>;

export interface InternalRequest {
  model: string;
  stream: boolean;
  /** OpenAI chat/completions: a usage chunk before [DONE] */
  includeUsage: boolean;
  sampling: Job["sampling"];
  payload: JobPayload;
}

/**
 * Upper bound of the prompt's tokens (prompt-bound.ts): the completion prompt's bytes,
 * or the conversation's and its tools'. Computed at admission, after the cheap lower
 * bound has refused a prompt that cannot fit (so a 1 MB one costs no second pass).
 */
export function promptUpperBound(p: JobPayload): number {
  return p.prompt !== undefined ? utf8Length(p.prompt) : chatPromptBound(p.messages ?? [], p.tools);
}

/** Prompt bound of a chat conversation and its tools. */
export function chatPromptBound(messages: readonly ChatMessage[], tools: readonly Tool[] | undefined): number {
  let bound = TEMPLATE_TOKENS_BASE;
  for (const m of messages) {
    bound += TEMPLATE_TOKENS_PER_MESSAGE + utf8Length(m.content ?? "") + utf8Length(m.name ?? "");
    if (m.reasoning_content) bound += utf8Length(m.reasoning_content);
    if (m.tool_calls) bound += utf8Length(JSON.stringify(m.tool_calls));
    if (m.tool_call_id) bound += utf8Length(m.tool_call_id);
  }
  if (tools?.length) bound += TEMPLATE_TOKENS_TOOLS + utf8Length(JSON.stringify(tools));
  return bound;
}

/** Refuses duplicate names and parameter schemas the engine cannot compile. */
export function checkTools(tools: readonly Tool[], param: string): void {
  const seen = new Set<string>();
  tools.forEach((t, i) => {
    if (seen.has(t.function.name)) {
      throw new EdgeError("invalid_request", `Tool names must be unique; '${t.function.name}' appears twice.`, { param: `${param}.${i}` });
    }
    seen.add(t.function.name);
    if (t.function.parameters === undefined) return;
    const bad = checkJsonSchema(t.function.parameters);
    if (bad) {
      throw new EdgeError("invalid_request", `Invalid parameters schema for tool '${t.function.name}': ${bad.message}${bad.path ? ` (at ${bad.path})` : ""}.`, {
        param: `${param}.${i}`,
      });
    }
  });
}

/**
 * Applies a tool choice: "none" drops the tools (the template renders none);
 * "required" and a named function need tools (and the name must be one).
 */
export function applyToolChoice(
  tools: Tool[] | undefined,
  choice: "none" | ToolChoice | undefined,
  param: string,
): Pick<JobPayload, "tools" | "tool_choice"> {
  if (choice === "none") return {};
  if (choice === undefined || choice === "auto") return tools?.length ? { tools, tool_choice: "auto" } : {};
  if (!tools?.length) throw new EdgeError("invalid_request", "A tool choice other than 'none' or 'auto' needs tools.", { param });
  if (choice !== "required" && !tools.some((t) => t.function.name === choice.name)) {
    throw new EdgeError("invalid_request", `The tool choice names '${choice.name}', which is not one of the tools.`, { param });
  }
  return { tools, tool_choice: choice };
}

/** A structured-output schema, checked. */
export function outputFormat(schema: unknown, name: string | undefined, param: string): NonNullable<JobPayload["output_format"]> {
  const bad = checkJsonSchema(schema);
  if (bad) throw new EdgeError("invalid_request", `Invalid JSON schema: ${bad.message}${bad.path ? ` (at ${bad.path})` : ""}.`, { param });
  return { schema: schema as Record<string, unknown>, ...(name !== undefined ? { name } : {}) };
}

/**
 * Reasoning effort -> thinking on/off (chat template `enable_thinking`):
 * "none" and "minimal" turn it off, any other effort on. The engine has no
 * graded effort, so low/medium/high all mean "think".
 */
export function thinkingFromEffort(effort: string | null | undefined): boolean | undefined {
  if (effort === undefined || effort === null) return undefined;
  return effort !== "none" && effort !== "minimal";
}
