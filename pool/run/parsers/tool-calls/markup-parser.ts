// The streaming tool-call parser shared by every markup format: content text
// outside the markup, calls inside it, emitted as OpenAI-shaped deltas (first
// {index, id, name}, then {index, arguments} pieces as they arrive).
//
// Edge cases, chosen so nothing is lost silently and markup never leaks:
// - A partial marker at the end of a push is held back; if the next text shows
//   it is not one, it is released as content.
// - Whitespace between content and a call, and between calls, is layout: dropped.
// - A call is emitted as soon as its name is known and is one of the request's
//   tools. A name that is not is no call: its raw markup goes to content (with
//   the whitespace before it), once the call's end is seen.
// - parallel false: calls after the first emitted one are dropped, markup and all.
// - Output that ends inside a call: an emitted call stays a call (its header and
//   arguments were already streamed and cannot be taken back; its arguments end
//   where the output ended, as with OpenAI's "length"); a call whose name was not
//   yet known, or is unknown, is released as its raw text in content.
// - A call that never gave arguments gets "{}".
import { scanMarkers } from "../markers.js";
import type { CallBody, MarkupFormat, ToolCallDelta, ToolParsed, ToolParser, ToolParserOptions } from "./types.js";

type Fate = "pending" | "emitted" | "raw" | "dropped";

interface OpenCall {
  body: CallBody;
  /** the call's markup as written, for release as content */
  raw: string;
  /** whitespace trimmed from the content before the call (restored if the call turns out raw) */
  spaceBefore: string;
  fate: Fate;
  index: number;
  argsSent: boolean;
}

export class MarkupToolParser implements ToolParser {
  /** text received and not yet decided */
  private buf = "";
  private call: OpenCall | undefined;
  /** after a call or a section marker: leading whitespace is layout */
  private skipSpace = false;
  private started = 0;
  private finished = 0;
  private readonly textMarkers: readonly string[];

  constructor(
    private readonly format: MarkupFormat,
    private readonly opts: ToolParserOptions,
  ) {
    this.textMarkers = [...format.callOpen, ...format.sectionOpen, ...format.dropped];
  }

  get callCount(): number {
    return this.finished;
  }

  push(text: string): ToolParsed {
    const out: ToolParsed = { content: "", calls: [] };
    this.buf += text;
    while (this.call ? this.callStep(out) : this.textStep(out));
    return out;
  }

  flush(): ToolParsed {
    const out: ToolParsed = { content: "", calls: [] };
    const call = this.call;
    if (call) {
      // What is held is a partial close marker: markup, not arguments.
      call.raw += this.buf;
      call.body.end(false);
      this.settle(call, out, true);
      this.call = undefined;
    } else out.content += this.buf;
    this.buf = "";
    return out;
  }

  /** Content until a marker. True when a marker changed the state. */
  private textStep(out: ToolParsed): boolean {
    if (this.skipSpace) {
      this.buf = this.buf.trimStart();
      if (!this.buf) return false;
      this.skipSpace = false;
    }
    const { hit, safe } = scanMarkers(this.buf, this.textMarkers);
    const before = this.buf.slice(0, safe);
    const text = before.trimEnd();
    out.content += text;
    if (!hit) {
      // Trailing whitespace waits too: it is dropped if a call follows.
      this.buf = this.buf.slice(text.length);
      return false;
    }
    this.buf = this.buf.slice(hit.at + hit.marker.length);
    if (this.format.callOpen.includes(hit.marker)) this.open(hit.marker, before.slice(text.length));
    else this.skipSpace = true;
    return true;
  }

  private open(marker: string, spaceBefore: string): void {
    const fate: Fate = !this.opts.parallel && this.started > 0 ? "dropped" : "pending";
    this.call = { body: this.format.newBody(), raw: marker, spaceBefore, fate, index: -1, argsSent: false };
  }

  /** A call's body until its close marker. True when the call ended. */
  private callStep(out: ToolParsed): boolean {
    const call = this.call!;
    const { hit, safe } = scanMarkers(this.buf, this.format.callClose);
    const body = this.buf.slice(0, safe);
    call.raw += body;
    call.body.push(body);
    if (!hit) {
      this.buf = this.buf.slice(safe);
      this.settle(call, out, false);
      return false;
    }
    call.raw += hit.marker;
    this.buf = this.buf.slice(hit.at + hit.marker.length);
    call.body.end(true);
    this.settle(call, out, true);
    this.call = undefined;
    this.skipSpace = true;
    return true;
  }

  /** Emits what the body has made known; `final`: the call is over. */
  private settle(call: OpenCall, out: ToolParsed, final: boolean): void {
    const name = call.body.name;
    if (call.fate === "pending" && name !== undefined) {
      if (this.opts.toolNames.has(name)) {
        call.fate = "emitted";
        call.index = this.started++;
        out.calls.push({ index: call.index, id: this.opts.idFor(call.index), name });
      } else call.fate = "raw";
    }
    if (call.fate === "emitted") {
      let args = call.body.takeArgs(final);
      if (final && !call.argsSent && !args) args = "{}";
      if (args) addArgs(out.calls, call.index, args);
      call.argsSent ||= args.length > 0;
      if (final) this.finished++;
    } else if (final && call.fate !== "dropped") out.content += call.spaceBefore + call.raw;
  }
}

/** Appends an arguments piece, merged into the previous delta when it is one of the same call. */
function addArgs(calls: ToolCallDelta[], index: number, args: string): void {
  const last = calls[calls.length - 1];
  if (last && last.index === index && last.name === undefined && last.arguments !== undefined) last.arguments += args;
  else calls.push({ index, arguments: args });
}
