// The grammar constraint a job needs on the wire (SamplingParams oneof
// constraint): tool_choice "required" or a named function forces a call in
// the model's own markup with a structural tag, so the engine can only write a
// valid call; structured output is a json_schema; with thinking on, both apply
// only after the reasoning part (a structural tag whose first element is the
// free-text <think> block).
import type { Job, Tool } from "../../contract/queue/messages.js";
import type { StructuralTag, TagFormat, TagItem } from "../../contract/structural-tag.js";
import { err, ok, type Result } from "../../contract/result.js";
import type { ToolFormat } from "./model-profile.js";

export type Constraint = { case: "jsonSchema"; value: string } | { case: "structuralTag"; value: string };

const THINK: TagItem = { type: "tag", begin: "<think>", content: { type: "any_text" }, end: "</think>\n\n" };

const ANY_OBJECT = { type: "object" };

function callTag(tool: Tool, format: ToolFormat): TagItem {
  const name = tool.function.name;
  const schema = { type: "json_schema" as const, json_schema: tool.function.parameters ?? ANY_OBJECT };
  if (format === "qwen3") {
    return { type: "tag", begin: `<tool_call>\n{"name": ${JSON.stringify(name)}, "arguments": `, content: schema, end: "}\n</tool_call>" };
  }
  return { type: "tag", begin: `<|tool_call_begin|>functions.${name}:0<|tool_call_argument_begin|>`, content: schema, end: "<|tool_call_end|>" };
}

/** One or more calls (at least one), in the model's markup. */
function calls(tools: readonly Tool[], format: ToolFormat, parallel: boolean): TagFormat {
  const tags = tools.map((t) => callTag(t, format));
  if (format === "qwen3") return { type: "triggered_tags", triggers: ["<tool_call>"], tags, at_least_one: true, stop_after_first: !parallel };
  return {
    type: "tag",
    begin: "<|tool_calls_section_begin|>",
    content: { type: "tags_with_separator", tags, separator: "", at_least_one: true, stop_after_first: !parallel },
    end: "<|tool_calls_section_end|>",
  };
}

function structural(format: TagFormat, thinking: boolean): Constraint {
  const tag: StructuralTag = { type: "structural_tag", format: thinking ? { type: "sequence", elements: [THINK, format] } : format };
  return { case: "structuralTag", value: JSON.stringify(tag) };
}

/** The constraint for `job` (undefined: none), or why the model cannot honour it. */
export function constraintFor(job: Job, format: ToolFormat | undefined): Result<Constraint | undefined> {
  const thinking = job.thinking === true;
  const parallel = job.parallel_tool_calls !== false;
  const choice = job.tool_choice;
  const tools = job.tools ?? [];
  if (choice !== undefined && choice !== "auto" && tools.length) {
    if (!format) return err("this model has no tool-call format the gateway can enforce");
    const forced = choice === "required" ? tools : tools.filter((t) => t.function.name === choice.name);
    return ok(structural(calls(forced, format, parallel), thinking));
  }
  const out = job.output_format;
  if (!out) return ok(undefined);
  const json: TagFormat = { type: "json_schema", json_schema: out.schema };
  if (tools.length && format) {
    // Tools offered (auto) and a structured answer: either calls or the JSON answer.
    return ok(structural({ type: "or", elements: [calls(tools, format, parallel), json] }, thinking));
  }
  if (thinking) return ok(structural(json, true));
  return ok({ case: "jsonSchema", value: JSON.stringify(out.schema) });
}
