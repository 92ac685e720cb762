// Qwen3's (Hermes-style) tool calls: each call a JSON object inside
// `<tool_call>` … `</tool_call>`, one per line:
//   <tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>
// The object is read as it arrives so the `arguments` value streams while the
// model writes it; only its JSON text is emitted (not the outer object).
// Tolerated: `parameters` for `arguments`, keys in any order (arguments before
// the name are held until the name is known), arguments given as a JSON string
// (its decoded text is the arguments).
import { MarkupToolParser } from "./markup-parser.js";
import type { CallBody, MarkupFormat, ToolParserOptions } from "./types.js";

const ARG_KEYS = new Set(["arguments", "parameters"]);

export const qwen3Format: MarkupFormat = {
  callOpen: ["<tool_call>"],
  sectionOpen: [],
  dropped: ["</tool_call>"],
  callClose: ["</tool_call>"],
  newBody: () => new JsonCallBody(),
};

export function qwen3ToolParser(opts: ToolParserOptions): MarkupToolParser {
  return new MarkupToolParser(qwen3Format, opts);
}

type Phase =
  | "open" // before the object's `{`
  | "key"
  | "colon"
  | "value"
  | "next" // after a value: `,` or `}`
  | "done";

/** Reads `{"name": …, "arguments": …}` incrementally: the name when complete, the arguments as they come. */
export class JsonCallBody implements CallBody {
  name: string | undefined;
  private text = "";
  private pos = 0;
  private phase: Phase = "open";
  /** nesting inside the current value (0: at the outer object's level) */
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** start of the key or value being read, -1 between them */
  private tokenStart = -1;
  private key = "";
  private argsStart = -1;
  private argsEnd = -1;
  private argsSent = -1;

  push(text: string): void {
    this.text += text;
    for (; this.pos < this.text.length; this.pos++) this.step(this.text[this.pos]!, this.pos);
  }

  end(): void {
    // A primitive value cut by the end of the text (`"arguments": null}` has its `}`).
    if (this.phase === "value" && this.tokenStart >= 0 && this.depth === 0 && !this.inString) this.tokenEnd(this.text.length);
  }

  takeArgs(final: boolean): string {
    if (this.argsStart < 0) return "";
    const first = this.text[this.argsStart];
    if (first === "{" || first === "[") {
      // An object streams: everything read of it so far is its JSON text.
      if (this.argsSent < 0) this.argsSent = this.argsStart;
      const end = this.argsEnd >= 0 ? this.argsEnd : this.pos;
      const piece = this.text.slice(this.argsSent, end);
      this.argsSent = end;
      return piece;
    }
    // A string (decoded) or a primitive: given whole, once complete.
    if (this.argsSent >= 0 || (this.argsEnd < 0 && !final)) return "";
    this.argsSent = this.argsEnd >= 0 ? this.argsEnd : this.text.length;
    const raw = this.text.slice(this.argsStart, this.argsSent).trim();
    const value = parse(raw);
    return typeof value === "string" ? value : raw;
  }

  private step(c: string, i: number): void {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (c === "\\") this.escaped = true;
      else if (c === '"') {
        this.inString = false;
        if (this.depth === 0) this.tokenEnd(i + 1);
      }
      return;
    }
    if (this.phase === "open") {
      if (c === "{") this.phase = "key";
      return;
    }
    if (this.phase === "done") return;
    if (this.depth > 0) {
      // Inside an object or array value: only its end matters.
      if (c === '"') this.inString = true;
      else if (c === "{" || c === "[") this.depth++;
      else if ((c === "}" || c === "]") && --this.depth === 0) this.tokenEnd(i + 1);
      return;
    }
    const inValue = this.phase === "value" && this.tokenStart >= 0;
    if (c === " " || c === "\n" || c === "\t" || c === "\r") {
      if (inValue) this.tokenEnd(i);
    } else if (c === ",") {
      if (inValue) this.tokenEnd(i);
      this.phase = "key";
    } else if (c === "}") {
      if (inValue) this.tokenEnd(i);
      this.phase = "done";
    } else if (c === ":") {
      if (this.phase === "colon") this.phase = "value";
    } else if (this.phase === "key" || (this.phase === "value" && this.tokenStart < 0)) {
      this.begin(i);
      if (c === '"') this.inString = true;
      else if (c === "{" || c === "[") this.depth = 1;
    }
  }

  private begin(i: number): void {
    this.tokenStart = i;
    if (this.phase === "value" && ARG_KEYS.has(this.key) && this.argsStart < 0) this.argsStart = i;
  }

  private tokenEnd(end: number): void {
    const start = this.tokenStart;
    this.tokenStart = -1;
    if (this.phase === "key") {
      const key = parse(this.text.slice(start, end));
      this.key = typeof key === "string" ? key : "";
      this.phase = "colon";
      return;
    }
    if (this.phase !== "value") return;
    this.phase = "next";
    if (start === this.argsStart) this.argsEnd = end;
    else if (this.key === "name" && this.name === undefined) {
      const name = parse(this.text.slice(start, end));
      if (typeof name === "string") this.name = name;
    }
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
