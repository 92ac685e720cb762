// zod schema of a POST /v1/responses body, and the Responses fields we know
// but cannot honour (refused with 400 naming them, never silently ignored).
// Input items are checked one by one in items.ts, so an unknown item type gets
// its own clear error and `param` (input.<i>.type).
import { z } from "zod";
import { EdgeError } from "../errors.js";
import { refuse, refuseFields, unset, type Check } from "../api/refuse.js";

const FunctionTool = z.object({
  type: z.literal("function"),
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "expected 1-64 letters, digits, '_', '.' or '-'"),
  description: z.string().nullable().optional(),
  parameters: z.record(z.string(), z.unknown()).nullable().optional(),
  strict: z.boolean().nullable().optional(),
});

const ToolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.object({ type: z.literal("function"), name: z.string().min(1) }),
]);

const TextFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "expected 1-64 letters, digits, '_' or '-'"),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().optional(),
    strict: z.boolean().nullable().optional(),
  }),
]);

export const ResponsesRequestSchema = z.object({
  model: z.string().min(1),
  /** a string, or a list of items (checked item by item in items.ts) */
  input: z.union([z.string(), z.array(z.unknown())], { error: "expected a string or an array of input items" }),
  instructions: z.string().nullable().optional(),
  tools: z.array(z.object({ type: z.string() }).loose()).nullable().optional(),
  tool_choice: ToolChoice.nullable().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  text: z.object({ format: TextFormat.optional() }).loose().nullable().optional(),
  reasoning: z
    .object({ effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh"]).nullable().optional() })
    .loose()
    .nullable()
    .optional(),
  max_output_tokens: z.number().int().min(1).max(2 ** 31 - 1).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  metadata: z.record(z.string().max(64), z.string().max(512)).refine((m) => Object.keys(m).length <= 16, "at most 16 pairs").nullable().optional(),
  user: z.string().optional(),
  stream: z.boolean().nullable().optional(),
  store: z.boolean().nullable().optional(),
  previous_response_id: z.string().min(1).nullable().optional(),
});
export type ResponsesRequest = z.infer<typeof ResponsesRequestSchema>;

export const FunctionToolSchema = FunctionTool;
export const TextFormatSchema = TextFormat;


const UNSUPPORTED: Record<string, Check> = {
  background: (v) => (v === true ? "Background responses are not supported; stream the response or wait for it." : null),
  conversation: refuse("Conversations are not supported; use previous_response_id."),
  include: (v) => (unset(v) || (Array.isArray(v) && v.length === 0) ? null : "'include' is not supported: responses carry no extra data to include."),
  prompt: refuse("Prompt templates are not supported; send 'input' and 'instructions'."),
  max_tool_calls: refuse("'max_tool_calls' is not supported."),
  top_logprobs: (v) => (unset(v) || v === 0 ? null : "'top_logprobs' is not supported by the Responses API here; use chat completions with logprobs."),
  truncation: (v) => (unset(v) || v === "disabled" ? null : "Only truncation 'disabled' is supported: a conversation that does not fit is refused."),
  service_tier: (v) => (unset(v) || v === "auto" || v === "default" ? null : "Only the 'default' service tier exists here."),
  prompt_cache_key: refuse("'prompt_cache_key' is not supported (prefix caching is automatic)."),
  stream_options: (v) => (unset(v) || (typeof v === "object" && Object.keys(v as object).length === 0) ? null : "'stream_options' is not supported on this endpoint."),
};

/** Throws a 400 naming the first field we cannot honour. */
export function refuseUnsupportedResponses(body: unknown): void {
  refuseFields(UNSUPPORTED, body);
  if (body === null || typeof body !== "object") return;
  const b = body as Record<string, unknown>;
  const text = b.text;
  const verbosity = text && typeof text === "object" ? (text as Record<string, unknown>).verbosity : undefined;
  if (!unset(verbosity) && verbosity !== "medium") {
    throw new EdgeError("invalid_request", "Only the default text verbosity ('medium') is supported.", { param: "text.verbosity" });
  }
  const r = b.reasoning;
  if (r && typeof r === "object" && !unset((r as Record<string, unknown>).summary) && (r as Record<string, unknown>).summary !== "auto") {
    // Summaries would need a second model pass; the reasoning text itself is returned instead.
    throw new EdgeError("invalid_request", "Reasoning summaries are not supported; reasoning items carry the reasoning text itself.", { param: "reasoning.summary" });
  }
}
