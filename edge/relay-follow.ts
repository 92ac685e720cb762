// Follows one request's response stream for the relay: the entries as they
// arrive, an idle tick every keepalive (with the queue position while queued),
// the queue deadline for a request no pool claimed, and the end of a request
// Redis no longer knows. The relay (edge/relay.ts) turns these into an API's shape.
import type { Redis } from "ioredis";
import { keys } from "../contract/queue/keys.js";
import type { ResolvedDeps } from "./deps.js";
import { isClaimed, queuePosition, requestGone, type RequestMeta } from "./queue.js";
import { compareIds, decodeEntry, type RawEntry, type StreamEntry } from "./streams/reader.js";

export interface RelayTarget {
  rid: string;
  meta: RequestMeta;
  /** stream entry id to start after ("0" = from the start) */
  afterId: string;
  /** queue position from enqueue (original streaming request only) */
  position: number | null;
  /** this client's attach number (meta "a"); a later attach suppresses our delayed cancel */
  attach: number;
  /** the client asked to resume after a dropped connection (RESUMABLE_HEADER): cancel only after the resume grace */
  resumable: boolean;
}

export type RelayItem =
  | { kind: "entries"; entries: StreamEntry[] }
  | { kind: "idle"; position: number | null }
  | { kind: "timeout" }
  /**
   * Redis no longer knows the request (restart, failover): nothing will ever come; or the
   * stream was rewritten under the relay (a failover lost entries it had already sent)
   */
  | { kind: "lost" }
  /** resume after the terminal entry: nothing more will come */
  | { kind: "ended" };

function isTerminal(e: StreamEntry): boolean {
  return e.event.type !== "chunk";
}

/**
 * Per choice, the tokens relayed so far, checked against each chunk's `offset` (the
 * choice's tokens before it, as the writing pool counts them). A mismatch means the
 * stream no longer continues what the client got: a Redis failover lost entries that
 * were already relayed, and the pool that took the request over regenerated them. From
 * the middle of a stream (a resume) a choice's count starts at its first chunk's offset.
 */
class TokenContinuity {
  private readonly sent = new Map<number, number>();

  constructor(private readonly fromStart: boolean) {}

  /** Index of the first entry that does not continue the relayed tokens, or -1. */
  firstBreak(entries: readonly StreamEntry[]): number {
    for (let i = 0; i < entries.length; i++) {
      const ev = entries[i]!.event;
      if (ev.type !== "chunk") continue;
      for (const c of ev.choices) {
        const before = this.sent.get(c.index) ?? (this.fromStart ? 0 : c.offset);
        if (before === undefined) continue; // a pool that does not say: nothing to check
        if (c.offset !== undefined && c.offset !== before) return i;
        this.sent.set(c.index, before + c.token_ids.length);
      }
    }
    return -1;
  }
}

/**
 * Yields stream entries as they arrive, an `idle` item every keepalive
 * interval without any, and `timeout` if nothing arrived by the Job's deadline
 * and no pool claimed it. Ends after a terminal entry or when `signal` aborts.
 */
export async function* follow(deps: ResolvedDeps, conn: Redis, t: RelayTarget, signal: AbortSignal): AsyncGenerator<RelayItem> {
  const key = keys.out(t.rid);
  const fromStart = compareIds(t.afterId, "0") === 0;
  if (!fromStart) {
    // Resuming: if the terminal entry is at or before afterId, say so now
    // instead of waiting for entries that will never come.
    const last = (await conn.xrevrange(key, "+", "-", "COUNT", 1)) as RawEntry[];
    if (last.length && compareIds(last[0]![0], t.afterId) <= 0 && isTerminal(decodeEntry(last[0]!))) {
      yield { kind: "ended" };
      return;
    }
  }
  // Any output seen (or already sent before a resume) means a pool started it.
  let seen = !fromStart;
  let deadlineApplies = true;
  const continuity = new TokenContinuity(fromStart);
  // The original request registered the reader's push channel with its meta (edge/api/submit.ts).
  const sub = deps.streams.open(conn, key, t.afterId, t.attach === 1);
  try {
    for (;;) {
      if (signal.aborted) return;
      let wait = deps.config.keepaliveMs;
      if (!seen && deadlineApplies) wait = Math.min(wait, Math.max(1, t.meta.deadline_at - deps.now()));
      const entries = await sub.next(wait, signal);
      if (entries.length) {
        seen = true;
        const cut = continuity.firstBreak(entries);
        const good = cut < 0 ? entries : entries.slice(0, cut);
        const end = good.findIndex(isTerminal);
        if (good.length) yield { kind: "entries", entries: end < 0 ? good : good.slice(0, end + 1) };
        if (end >= 0) return;
        if (cut >= 0) {
          yield { kind: "lost" };
          return;
        }
        continue;
      }
      if (signal.aborted) return;
      if (!seen && deadlineApplies && deps.now() >= t.meta.deadline_at) {
        // A claimed job has started (prefill of a long prompt may take a while
        // before the first token): keep waiting. Otherwise it missed its deadline.
        if (await isClaimed(conn, t.meta.model, t.rid)) deadlineApplies = false;
        else {
          yield { kind: "timeout" };
          return;
        }
      }
      const position = seen ? null : await queuePosition(conn, t.meta.model, t.meta.tenant_id, t.rid);
      // A request still in its queue is known; otherwise check Redis has not lost it.
      if (position === null && (await requestGone(conn, t.rid))) {
        yield { kind: "lost" };
        return;
      }
      yield { kind: "idle", position };
    }
  } finally {
    sub.close();
  }
}
