// zod schemas of the OpenAI request bodies the edge accepts. Unknown fields
// are ignored (z.object strips them); a wrong type is a 400 whose `param` is
// the path of the offending field (e.g. "messages.0.content"), as OpenAI does.
import { z } from "zod";
import { EdgeError } from "../errors.js";

const TextPart = z.object({ type: z.string(), text: z.string().optional() }).loose();

const Content = z
  .union([z.string(), z.array(TextPart)], { error: "expected a string or an array of content parts" })
  .nullable()
  .optional();

const ToolCall = z.object({
  id: z.string().min(1),
  type: z.literal("function"),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});

const Message = z.object({
  role: z.enum(["system", "user", "assistant", "tool", "developer"]),
  content: Content,
  name: z.string().optional(),
  tool_calls: z.array(ToolCall).optional(),
  tool_call_id: z.string().optional(),
});

const Stop = z
  .union([z.string(), z.array(z.string()).max(4)], { error: "expected a string or an array of at most 4 strings" })
  .nullable()
  .optional();

/** Output limits: at most 2^31-1 (the wire's field is a uint32; the model's context refuses sooner). */
const MaxTokens = z.number().int().min(1).max(2 ** 31 - 1).nullable().optional();

/** Fields shared by both endpoints. */
const Common = {
  model: z.string().min(1),
  max_tokens: MaxTokens,
  /** token id (decimal string) -> bias; the wire carries it as is */
  logit_bias: z.record(z.string().regex(/^\d+$/, "expected token ids as keys"), z.number().min(-100).max(100)).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  /** vLLM's and SGLang's extension; -1 (their "off") is the same as unset */
  top_k: z.number().int().min(-1).refine((k) => k !== 0, "top_k must be -1 (off) or at least 1").nullable().optional(),
  stop: Stop,
  n: z.number().int().min(1).max(8).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().nullable().optional() }).nullable().optional(),
  user: z.string().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
};

const ToolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.object({ type: z.literal("function"), function: z.object({ name: z.string().min(1) }) }),
]);

const ResponseFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    json_schema: z.object({
      name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "expected 1-64 letters, digits, '_' or '-'"),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
]);

export const ChatCompletionRequestSchema = z.object({
  ...Common,
  messages: z.array(Message).min(1),
  max_completion_tokens: MaxTokens,
  tool_choice: ToolChoice.nullable().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  response_format: ResponseFormat.nullable().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  reasoning_effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh"]).nullable().optional(),
  tools: z
    .array(
      z.object({
        type: z.literal("function"),
        function: z.object({
          name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "expected 1-64 letters, digits, '_', '.' or '-'"),
          description: z.string().optional(),
          parameters: z.record(z.string(), z.unknown()).optional(),
          strict: z.boolean().nullable().optional(),
        }),
      }),
    )
    .nullable()
    .optional(),
  chat_template_kwargs: z.record(z.string(), z.unknown()).nullable().optional(),
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;

export const CompletionRequestSchema = z.object({
  ...Common,
  prompt: z.union([z.string(), z.array(z.string())], { error: "expected a string (or an array holding one string)" }),
  logprobs: z.number().int().min(0).max(5).nullable().optional(),
  echo: z.boolean().nullable().optional(),
  best_of: z.number().int().min(1).max(20).nullable().optional(),
  suffix: z.string().nullable().optional(),
});
export type CompletionRequest = z.infer<typeof CompletionRequestSchema>;

/** Parses `body` (or the part of a body at path `at`) or throws a 400 naming the first offending field by its full path. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, at?: string): z.infer<S> {
  if (at === undefined && (body === null || typeof body !== "object" || Array.isArray(body))) {
    throw new EdgeError("invalid_request", "The request body must be a JSON object.");
  }
  const res = schema.safeParse(body);
  if (res.success) return res.data;
  const issue = res.error.issues[0]!;
  const path = [...(at === undefined ? [] : [at]), ...issue.path.map(String)];
  const param = path.length ? path.join(".") : null;
  const what = param ? `Invalid value for '${param}': ` : "Invalid request: ";
  throw new EdgeError("invalid_request", what + issue.message, { param });
}

/** Flattens message content to text; image (or any non-text) parts are refused. */
export function flattenContent(content: ChatCompletionRequest["messages"][number]["content"], param: string): string | null {
  if (content === undefined || content === null) return null;
  if (typeof content === "string") return content;
  let text = "";
  content.forEach((part, i) => {
    if (part.type !== "text") {
      throw new EdgeError(
        "invalid_request",
        `Content parts of type '${part.type}' are not supported: this endpoint serves text-only models.`,
        { param: `${param}.${i}.type` },
      );
    }
    if (typeof part.text !== "string") {
      throw new EdgeError("invalid_request", "A text content part needs a string 'text'.", { param: `${param}.${i}.text` });
    }
    text += part.text;
  });
  return text;
}
