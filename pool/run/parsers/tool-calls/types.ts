// What a tool-call parser is to the rest of the pool, and what a tool-call
// markup format has to provide to the shared streaming parser (markup-parser.ts).
import type { ToolCallDelta } from "../../../../contract/queue/messages.js";

export type { ToolCallDelta };

export interface ToolParserOptions {
  /** the id of the n-th emitted call: derived, so a resumed request reproduces it */
  idFor: (callIndex: number) => string;
  /** the request's tools: a call to any other name is not a call (its markup stays content) */
  toolNames: ReadonlySet<string>;
  /** false: only the first call is emitted, the markup of later ones is dropped */
  parallel: boolean;
}

export interface ToolParsed {
  content: string;
  calls: ToolCallDelta[];
}

export interface ToolParser {
  push(text: string): ToolParsed;
  /** the output ended: release what was held back, finish an open call */
  flush(): ToolParsed;
  /** calls emitted and finished */
  readonly callCount: number;
}

export type ToolParserFactory = (opts: ToolParserOptions) => ToolParser;

/**
 * One call's body, the text between its open and close markers, read as it
 * arrives. Never sees the close marker; may see a partial one only at flush.
 */
export interface CallBody {
  push(text: string): void;
  /** the body is over; `closed`: by its close marker (not cut by the end of output) */
  end(closed: boolean): void;
  /** the function name, once the body has said it */
  readonly name: string | undefined;
  /**
   * Argument text readable since the last take (the arguments JSON text, in
   * pieces). `final`: the body is over, release what was held for a decision.
   */
  takeArgs(final: boolean): string;
}

/** A markup format: its markers and how to read one call's body. */
export interface MarkupFormat {
  /** markers that open a call */
  callOpen: readonly string[];
  /** markers that open a group of calls: dropped */
  sectionOpen: readonly string[];
  /** markers dropped wherever they appear outside a call (section ends, stray closers) */
  dropped: readonly string[];
  /** markers that end a call */
  callClose: readonly string[];
  newBody(): CallBody;
}
