// Kimi K2's tool calls: special tokens around a section of calls, each call
// a function id then its JSON arguments:
//   <|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0
//   <|tool_call_argument_begin|>{"city": "Paris"}<|tool_call_end|>…<|tool_calls_section_end|>
// The id is `functions.NAME:IDX`; the name is taken from it (a missing
// `functions.` prefix or `:IDX` is tolerated). Also tolerated, as the model
// writes them at times: the singular `<|tool_call_section_begin|>`, a call
// without the section, a call ended by the section end, a call with no
// argument marker (no arguments: "{}").
import { MarkupToolParser } from "./markup-parser.js";
import type { CallBody, MarkupFormat, ToolParserOptions } from "./types.js";
import { trailingSpace } from "../markers.js";

const ARGS = "<|tool_call_argument_begin|>";
const SECTION_END = ["<|tool_calls_section_end|>", "<|tool_call_section_end|>"];

export const kimiK2Format: MarkupFormat = {
  callOpen: ["<|tool_call_begin|>"],
  sectionOpen: ["<|tool_calls_section_begin|>", "<|tool_call_section_begin|>"],
  dropped: SECTION_END,
  callClose: ["<|tool_call_end|>", ...SECTION_END],
  newBody: () => new KimiCallBody(),
};

export function kimiK2ToolParser(opts: ToolParserOptions): MarkupToolParser {
  return new MarkupToolParser(kimiK2Format, opts);
}

/** `functions.get_weather:0` -> `get_weather`; undefined when the id is not one. */
export function nameOfId(id: string): string | undefined {
  const m = /^(?:functions\.)?([^\s:<>]+)(?::\d+)?$/.exec(id.trim());
  return m?.[1];
}

export class KimiCallBody implements CallBody {
  name: string | undefined;
  /** the function id, until the argument marker */
  private head = "";
  private args = "";
  private inArgs = false;
  private sent = 0;

  push(text: string): void {
    if (this.inArgs) {
      this.args += text;
    } else {
      this.head += text;
      const at = this.head.indexOf(ARGS);
      if (at < 0) return;
      this.args = this.head.slice(at + ARGS.length);
      this.head = this.head.slice(0, at);
      this.inArgs = true;
      this.name = nameOfId(this.head);
    }
    // Whitespace before the JSON is layout.
    if (this.sent === 0) this.args = this.args.trimStart();
  }

  end(closed: boolean): void {
    // A call closed without its argument marker: the whole body is the id.
    // Cut by the end of output instead, the id may be partial: not a call.
    if (!this.inArgs && closed) this.name = nameOfId(this.head);
  }

  takeArgs(): string {
    // Trailing whitespace waits: it is dropped if the call ends there.
    const end = this.args.length - trailingSpace(this.args);
    if (end <= this.sent) return "";
    const piece = this.args.slice(this.sent, end);
    this.sent = end;
    return piece;
  }
}
