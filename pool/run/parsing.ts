// The output parser of one choice: reasoning for every model family that
// thinks, tool calls when the job offers tools, with call ids derived from
// (request, choice, call) so a resumed request reproduces them exactly.
import { createHash } from "node:crypto";
import type { Job } from "../../contract/queue/messages.js";
import type { OutputParser as ChoiceParser } from "./choice.js";
import { OutputParser, promptOpensReasoning, reasoningParserFor, toolParserFor } from "./parsers/index.js";

export function callId(rid: string, choice: number, call: number): string {
  return "call_" + createHash("sha256").update(`${rid}/${choice}/${call}`).digest("base64url").slice(0, 24);
}

/** `parserName`: the model's parser (its family or a configured name); undefined when it has none. */
export function outputParserFor(job: Job, parserName: string | undefined, rid: string, choice: number, promptText: string): ChoiceParser | undefined {
  if (job.kind !== "chat" || parserName === undefined) return undefined;
  const reasoning = reasoningParserFor(parserName)?.({ startsInReasoning: promptOpensReasoning(promptText) });
  const tools = job.tools?.length
    ? toolParserFor(parserName)?.({
        idFor: (i) => callId(rid, choice, i),
        toolNames: new Set(job.tools.map((t) => t.function.name)),
        parallel: job.parallel_tool_calls !== false,
      })
    : undefined;
  if (!reasoning && !tools) return undefined;
  return new OutputParser({ reasoning, tools });
}
