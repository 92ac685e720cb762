// How the SSE relay reads a request's response stream (keys.out(rid)).
// Implementations, picked at the entry:
//  - pushed (Node, one Redis): the pool's append scripts push new entries to
//    this process's channel, so 500 open SSE streams cost one extra Redis
//    connection, not 500 (edge/node/pushed-streams.ts);
//  - cluster (Node, Redis Cluster): per-stream notifications, then a read
//    (edge/node/cluster-streams.ts);
//  - per-request (Workers): XREAD BLOCK on the request's own connection,
//    because workerd cannot share a connection across requests anyway.
// Either way the Redis Stream is the durable log: a subscription starts after
// any entry id, which is what Last-Event-ID resume needs.
import type { Redis } from "ioredis";
import { RelayedEventSchema, type ResponseEvent } from "../../contract/queue/messages.js";

export interface StreamEntry {
  /** Redis stream entry id ("<ms>-<seq>"), used as the SSE event id. */
  id: string;
  event: ResponseEvent;
}

export interface ResponseSubscription {
  /**
   * Resolves with the entries that arrived after the last ones returned (in
   * order), or with [] once `timeoutMs` passed or `signal` aborted first.
   */
  next(timeoutMs: number, signal?: AbortSignal): Promise<StreamEntry[]>;
  close(): void;
}

export interface ResponseStreamReader {
  /**
   * The channel the append scripts push new entries to for this reader (keys.pushTo), if it
   * takes pushes: a new request registers it with its meta, before it is queued.
   */
  readonly pushChannel?: string;
  /**
   * Subscribes to stream `key` from after entry `afterId` ("0" = from the start).
   * `conn` is the request's connection (used by the per-request reader only).
   * `registered`: pushChannel was registered before anything could be written (a new
   * request), so every entry will be pushed and nothing needs reading now.
   */
  open(conn: Redis, key: string, afterId: string, registered?: boolean): ResponseSubscription;
  /** Stops background work (a Node reader's subscriber connection and poll). */
  close?(): Promise<void>;
}

/** Raw XREAD/XRANGE entry: [id, [field, value, ...]]. */
export type RawEntry = [string, string[]];

/** Decodes one raw entry; an unreadable entry becomes an `error` event rather than a crash. */
export function decodeEntry(raw: RawEntry): StreamEntry {
  const [id, fields] = raw;
  let value: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === "e") value = fields[i + 1];
  let parsed: unknown;
  try {
    parsed = value === undefined ? undefined : JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  const plain = plainChunk(parsed);
  if (plain) return { id, event: plain };
  const res = RelayedEventSchema.safeParse(parsed);
  if (res.success) return { id, event: res.data };
  return {
    id,
    event: {
      type: "error",
      error: { status: 502, type: "server_error", code: "bad_upstream_event", message: "The pool wrote an unreadable response event." },
    },
  };
}

const FINISH_REASONS: ReadonlySet<unknown> = new Set([null, "stop", "length", "tool_calls"]);
const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * The entry nearly every token is: a chunk whose choices hold only index, text,
 * token_ids, finish_reason and offset, checked here by hand, as RelayedEventSchema
 * checks them (zod's safeParse of it was about 4% of the Node edge's CPU at 256
 * streams). Anything else, other fields included, is left to the schema: undefined.
 */
function plainChunk(v: unknown): ResponseEvent | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const e = v as { type?: unknown; choices?: unknown };
  if (e.type !== "chunk" || !Array.isArray(e.choices)) return undefined;
  let keys = 0;
  for (const _ in e) keys++;
  if (keys !== 2) return undefined;
  for (const c of e.choices as unknown[]) {
    if (typeof c !== "object" || c === null || Array.isArray(c)) return undefined;
    const d = c as { index?: unknown; text?: unknown; token_ids?: unknown; finish_reason?: unknown; offset?: unknown };
    if (!isCount(d.index) || typeof d.text !== "string" || !Array.isArray(d.token_ids) || !FINISH_REASONS.has(d.finish_reason)) return undefined;
    let fields = 0;
    for (const _ in d) fields++;
    if (d.offset === undefined ? fields !== 4 : fields !== 5 || !isCount(d.offset)) return undefined;
  }
  return v as ResponseEvent;
}

/**
 * Compares two stream ids ("ms-seq"); "0" counts as "0-0". Called for every entry
 * relayed, so it compares the decimal parts as strings (length first) instead of
 * parsing them: ids go up to 2^64-1, beyond a JS number.
 */
export function compareIds(a: string, b: string): number {
  const ia = a.indexOf("-");
  const ib = b.indexOf("-");
  const d = compareDecimal(ia < 0 ? a : a.slice(0, ia), ib < 0 ? b : b.slice(0, ib));
  if (d !== 0) return d;
  return compareDecimal(ia < 0 ? "0" : a.slice(ia + 1), ib < 0 ? "0" : b.slice(ib + 1));
}

/** Compares two non-negative decimal integers written as digits (leading zeros allowed). */
function compareDecimal(a: string, b: string): number {
  if (a.length > 1 && a.charCodeAt(0) === 48) a = a.replace(/^0+(?=\d)/, "");
  if (b.length > 1 && b.charCodeAt(0) === 48) b = b.replace(/^0+(?=\d)/, "");
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True for a syntactically valid stream id we can XREAD after. */
export function isStreamId(s: string): boolean {
  return /^\d{1,20}(-\d{1,20})?$/.test(s);
}
