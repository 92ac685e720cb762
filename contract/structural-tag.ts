// The structural-tag constraint (TokenSpeed SamplingParams.structural_tag, field 20):
// xgrammar's structural tag format, which TokenSpeed hands to its grammar backend.
// The pool builds these to force tool calls (tool_choice "required" or a named
// function) and to apply a JSON schema only after a model's reasoning part; the
// simulated worker parses them and only ever generates text they accept.
//
// Semantics (xgrammar):
// - const_string: exactly `value`.
// - json_schema: one JSON value valid against `json_schema`.
// - any_text: free text (up to the enclosing tag's `end`).
// - sequence: each element in turn; or: exactly one of the elements.
// - tag: `begin`, then `content`, then `end`.
// - triggered_tags: free text in which each occurrence of a trigger (a prefix
//   of some tags' `begin`) must continue as one of `tags`; `at_least_one`
//   forces a tag to be generated (the text starts with one), `stop_after_first`
//   ends generation after the first tag.
// - tags_with_separator: tags separated by `separator`, nothing else.
import { z } from "zod";

export type TagFormat =
  | { type: "const_string"; value: string }
  | { type: "json_schema"; json_schema: Record<string, unknown> }
  | { type: "any_text" }
  | { type: "sequence"; elements: TagFormat[] }
  | { type: "or"; elements: TagFormat[] }
  | TagItem
  | { type: "triggered_tags"; triggers: string[]; tags: TagItem[]; at_least_one?: boolean; stop_after_first?: boolean }
  | { type: "tags_with_separator"; tags: TagItem[]; separator: string; at_least_one?: boolean; stop_after_first?: boolean };

export interface TagItem {
  type: "tag";
  begin: string;
  content: TagFormat;
  end: string;
}

export interface StructuralTag {
  type: "structural_tag";
  format: TagFormat;
}

const TagItemSchema: z.ZodType<TagItem> = z.lazy(() =>
  z.object({ type: z.literal("tag"), begin: z.string(), content: TagFormatSchema, end: z.string() }),
);

export const TagFormatSchema: z.ZodType<TagFormat> = z.lazy(() =>
  z.union([
    z.object({ type: z.literal("const_string"), value: z.string() }),
    z.object({ type: z.literal("json_schema"), json_schema: z.record(z.string(), z.unknown()) }),
    z.object({ type: z.literal("any_text") }),
    z.object({ type: z.literal("sequence"), elements: z.array(TagFormatSchema).min(1) }),
    z.object({ type: z.literal("or"), elements: z.array(TagFormatSchema).min(1) }),
    TagItemSchema,
    z.object({
      type: z.literal("triggered_tags"),
      triggers: z.array(z.string().min(1)).min(1),
      tags: z.array(TagItemSchema).min(1),
      at_least_one: z.boolean().optional(),
      stop_after_first: z.boolean().optional(),
    }),
    z.object({
      type: z.literal("tags_with_separator"),
      tags: z.array(TagItemSchema).min(1),
      separator: z.string(),
      at_least_one: z.boolean().optional(),
      stop_after_first: z.boolean().optional(),
    }),
  ]),
);

export const StructuralTagSchema: z.ZodType<StructuralTag> = z.object({
  type: z.literal("structural_tag"),
  format: TagFormatSchema,
});
