// zod schemas of the Anthropic Messages request bodies (POST /v1/messages and
// /v1/messages/count_tokens). Content blocks are parsed loosely here (a `type`
// and whatever else) and checked one by one in blocks.ts, so an unsupported
// block (image, document, server-tool results…) gets a 400 naming its path
// instead of zod's generic union error. Unknown top-level fields are ignored,
// as the chat schemas do; known ones we cannot honour are refused (unsupported.ts).
import { z } from "zod";
import { parseBody } from "../openai/schemas.js";

export const Block = z.object({ type: z.string() }).loose();
export type RawBlock = z.infer<typeof Block>;

const Content = z.union([z.string(), z.array(Block)], { error: "expected a string or an array of content blocks" });

const Message = z.object({
  /** "system" mid-conversation is the newer API's system message (text only) */
  role: z.enum(["user", "assistant", "system"]),
  content: Content,
});

/** cache_control is accepted everywhere and has no effect: prefix caching is automatic (README). */
const CacheControl = z.object({ type: z.literal("ephemeral"), ttl: z.string().optional() }).nullable().optional();

export const SystemText = z.object({ type: z.literal("text"), text: z.string(), cache_control: CacheControl }).loose();

const Tool = z
  .object({
    // Absent or "custom": a client tool. Anything else is a server tool (web search, bash…).
    type: z.string().optional(),
    name: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, "expected 1-128 letters, digits, '_' or '-'"),
    description: z.string().optional(),
    input_schema: z.record(z.string(), z.unknown()).optional(),
    cache_control: CacheControl,
  })
  .loose();

const DisableParallel = { disable_parallel_tool_use: z.boolean().optional() };
const ToolChoice = z.discriminatedUnion("type", [
  z.object({ type: z.literal("auto"), ...DisableParallel }),
  z.object({ type: z.literal("any"), ...DisableParallel }),
  z.object({ type: z.literal("tool"), name: z.string().min(1), ...DisableParallel }),
  z.object({ type: z.literal("none") }),
]);

/** How thinking is shown: "omitted" (signature only) is refused in requests.ts. */
const Display = { display: z.enum(["summarized", "omitted"]).nullable().optional() };
const Thinking = z.discriminatedUnion("type", [
  // Anthropic's own bounds: at least 1024, and below max_tokens (checked in requests.ts).
  z.object({ type: z.literal("enabled"), budget_tokens: z.number().int().min(1024), ...Display }),
  // The model decides whether to think: thinking on (a model that thinks always may).
  z.object({ type: z.literal("adaptive"), ...Display }),
  z.object({ type: z.literal("disabled") }),
]);

/** Structured output: the answer matches this JSON Schema (the engine enforces it). */
const JsonFormat = z.object({ type: z.literal("json_schema"), schema: z.record(z.string(), z.unknown()) });

/** Fields shared by a Messages request and a count_tokens request (which renders the same prompt). */
const Prompt = {
  model: z.string().min(1),
  messages: z.array(Message).min(1),
  system: z.union([z.string(), z.array(SystemText)], { error: "expected a string or an array of text blocks" }).optional(),
  tools: z.array(Tool).optional(),
  tool_choice: ToolChoice.optional(),
  thinking: Thinking.optional(),
  /** effort is graded reasoning the engine cannot do (refused in requests.ts); format is structured output */
  output_config: z.object({ effort: z.string().nullable().optional(), format: JsonFormat.nullable().optional() }).optional(),
  /** the structured-outputs beta's name for output_config.format */
  output_format: JsonFormat.nullable().optional(),
};

export const MessagesRequestSchema = z.object({
  ...Prompt,
  /** required, as Anthropic requires it; at most 2^31-1 (a uint32 on the wire; the context refuses sooner) */
  max_tokens: z.number({ error: "max_tokens is required: a positive integer" }).int().min(1).max(2 ** 31 - 1),
  stop_sequences: z.array(z.string().min(1, "stop sequences may not be empty")).max(16).optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  top_k: z.number().int().min(1).optional(),
  /** user_id is accepted (Anthropic uses it against abuse); nothing here depends on it */
  metadata: z.object({ user_id: z.string().max(256).nullable().optional() }).optional(),
});
export type MessagesRequest = z.infer<typeof MessagesRequestSchema>;

export const CountTokensRequestSchema = z.object(Prompt);
export type CountTokensRequest = z.infer<typeof CountTokensRequestSchema>;

/** Parses one content block with its own schema; a mistake names the block's path. */
export function parseBlock<S extends z.ZodType>(schema: S, block: RawBlock, param: string): z.infer<S> {
  return parseBody(schema, block, param);
}
