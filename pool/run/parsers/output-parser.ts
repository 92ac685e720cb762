// One choice's parser: the reasoning parser first (it splits off the think
// block), then the tool-call parser on what it left as content. Either may be
// absent. Implements the interface ChoiceState consumes (choice.ts).
import type { OutputParser as ChoiceParser, ParsedText } from "../choice.js";
import type { ReasoningParser } from "./reasoning.js";
import type { ToolParser } from "./tool-calls/types.js";

export interface OutputParserParts {
  reasoning?: ReasoningParser | undefined;
  tools?: ToolParser | undefined;
}

export class OutputParser implements ChoiceParser {
  private readonly reasoning: ReasoningParser | undefined;
  private readonly tools: ToolParser | undefined;

  constructor(parts: OutputParserParts) {
    this.reasoning = parts.reasoning;
    this.tools = parts.tools;
  }

  get callCount(): number {
    return this.tools?.callCount ?? 0;
  }

  get inReasoning(): boolean {
    return this.reasoning?.inReasoning ?? false;
  }

  push(text: string): ParsedText {
    const r = this.reasoning ? this.reasoning.push(text) : { content: text, reasoning: "" };
    return this.withTools(r.reasoning, r.content, false);
  }

  flush(): ParsedText {
    const r = this.reasoning ? this.reasoning.flush() : { content: "", reasoning: "" };
    return this.withTools(r.reasoning, r.content, true);
  }

  private withTools(reasoning: string, content: string, end: boolean): ParsedText {
    if (!this.tools) return { content, reasoning, calls: [] };
    const t = this.tools.push(content);
    if (!end) return { content: t.content, reasoning, calls: t.calls };
    const f = this.tools.flush();
    return { content: t.content + f.content, reasoning, calls: [...t.calls, ...f.calls] };
  }
}
