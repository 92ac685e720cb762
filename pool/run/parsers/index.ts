// The pool's output parsers: reasoning (`<think>` blocks) and tool calls, per
// model family, combined per choice by OutputParser.
import type { ToolFormat } from "../model-profile.js";
import { kimiK2ToolParser } from "./tool-calls/kimi-k2.js";
import { qwen3ToolParser } from "./tool-calls/qwen3.js";
import type { ToolParserFactory } from "./tool-calls/types.js";

export { OutputParser, type OutputParserParts } from "./output-parser.js";
export {
  ReasoningParser,
  promptOpensReasoning,
  reasoningParserFor,
  type ReasoningOptions,
  type ReasoningParserFactory,
  type ReasoningText,
} from "./reasoning.js";
export type { ToolParser, ToolParserFactory, ToolParserOptions, ToolParsed } from "./tool-calls/types.js";

const toolParsers: Record<ToolFormat, ToolParserFactory> = {
  qwen3: qwen3ToolParser,
  kimi_k2: kimiK2ToolParser,
};

/**
 * The tool-call parser for a parser name. Takes any string (callers pass a
 * model family when there is no tool format): undefined when it is not a
 * ToolFormat.
 */
export function toolParserFor(name: string): ToolParserFactory | undefined {
  return Object.hasOwn(toolParsers, name) ? toolParsers[name as ToolFormat] : undefined;
}
