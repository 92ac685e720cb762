// Generates text accepted by an xgrammar structural tag (contract/structural-tag.ts).
// Only text the grammar accepts is produced, the way a real engine's grammar
// backend masks logits; free choices (which tag, text or call) are made with
// the request's deterministic Rng and the conversation's agent decisions.
import { StructuralTagSchema, type StructuralTag, type TagFormat, type TagItem } from "../../contract/structural-tag.js";
import { freeText } from "./prose.js";
import type { Rng } from "./rng.js";
import { pyJson, schemaValue } from "./schema-value.js";

export class ConstraintError extends Error {}

/** Parses and checks a structural_tag constraint string. Throws ConstraintError with a readable message. */
export function parseStructuralTag(src: string): StructuralTag {
  let raw: unknown;
  try {
    raw = JSON.parse(src);
  } catch (e) {
    throw new ConstraintError(`structural_tag is not valid JSON: ${(e as Error).message}`);
  }
  const r = StructuralTagSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ConstraintError(`invalid structural_tag at ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  checkTriggers(r.data.format);
  return r.data;
}

/** xgrammar requires every tag of triggered_tags to begin with one of the triggers. */
function checkTriggers(f: TagFormat): void {
  switch (f.type) {
    case "sequence":
    case "or":
      return f.elements.forEach(checkTriggers);
    case "tag":
      return checkTriggers(f.content);
    case "triggered_tags":
      for (const t of f.tags) {
        if (!f.triggers.some((tr) => t.begin.startsWith(tr))) throw new ConstraintError(`structural_tag: tag begin ${JSON.stringify(t.begin)} matches no trigger`);
        checkTriggers(t.content);
      }
      return;
    case "tags_with_separator":
      return f.tags.forEach((t) => checkTriggers(t.content));
  }
}

export interface StructuralContext {
  rng: Rng;
  /** The model wants to call tools (used where a tag is optional). */
  wantsCall: boolean;
  /** The model wants two calls rather than one. */
  parallel: boolean;
  /** Reasoning text for a tag that opens `<think>`. */
  thinking(): string;
}

function tagText(t: TagItem, ctx: StructuralContext): string {
  const inner = t.content.type === "any_text" && t.begin.includes("<think>") ? ctx.thinking() : render(t.content, ctx);
  return t.begin + inner + t.end;
}

/** One or two distinct tags (or just one when stop_after_first). */
function pickTags(tags: readonly TagItem[], ctx: StructuralContext, stopAfterFirst: boolean): TagItem[] {
  const first = ctx.rng.int(0, tags.length - 1);
  const out = [tags[first]];
  if (ctx.parallel && !stopAfterFirst) out.push(tags.length > 1 ? tags[(first + 1) % tags.length] : tags[first]);
  return out;
}

function render(f: TagFormat, ctx: StructuralContext): string {
  switch (f.type) {
    case "const_string":
      return f.value;
    case "json_schema":
      return pyJson(schemaValue(f.json_schema, ctx.rng));
    case "any_text":
      return freeText(ctx.rng);
    case "sequence":
      return f.elements.map((e) => render(e, ctx)).join("");
    case "or":
      return render(ctx.rng.pick(f.elements), ctx);
    case "tag":
      return tagText(f, ctx);
    case "triggered_tags": {
      const call = f.at_least_one || ctx.wantsCall;
      if (!call) return freeText(ctx.rng); // free text never contains a trigger ('<'-free)
      // Forced calls start with the tag at once; optional ones may follow a sentence.
      const lead = f.at_least_one ? "" : `${freeText(ctx.rng)}\n\n`;
      return lead + pickTags(f.tags, ctx, !!f.stop_after_first).map((t) => tagText(t, ctx)).join("\n");
    }
    case "tags_with_separator": {
      if (!f.at_least_one && !ctx.wantsCall) return "";
      return pickTags(f.tags, ctx, !!f.stop_after_first).map((t) => tagText(t, ctx)).join(f.separator);
    }
  }
}

/** Text accepted by the structural tag; generation ends (EOS) right after it. */
export function renderStructural(tag: StructuralTag, ctx: StructuralContext): string {
  return render(tag.format, ctx);
}
