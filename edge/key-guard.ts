// API-key records read on an earlier request, used optimistically. On a single Redis
// with quotas on, a request to a generating route (chat, completions, messages) is not
// held up by the key's read: it is admitted with the record read before, and
// admit.lua's key guard checks, in the same atomic step, that the stored record is
// still that one. A revoked, deleted or changed key is refused there and read again
// (edge/api/submit.ts). A request that ends before its admission (a bad body, an
// unknown model) reads the record first (edge/middleware/auth.ts), so a revoked key
// still gets its 401 before any other error. Where Redis is a round trip away, as from
// a Worker, that is one round trip less on the way to every first token.
import type { ApiKeyRecord } from "../contract/queue/messages.js";
import { setBounded } from "./bounded-map.js";

/** A request's cached key record, until its admission or a fresh read confirms it. */
export interface KeyGuard {
  /** the record's Redis key and its JSON as read, which admit.lua compares */
  key: string;
  value: string;
  /** set once the admission's guard or a fresh read confirmed the record for this request */
  confirmed: boolean;
  /** Reads the record again and gives it to the request; throws the 401 when the key is no longer usable. */
  confirm(): Promise<void>;
}

export interface CachedKeyRecord {
  record: ApiKeyRecord;
  raw: string;
}

const MAX_RECORDS = 10_000;
/**
 * A record older than this is read again. Every change the admission acts on is caught by
 * the guard whatever the age; this bounds the one it cannot see: a model newly allowed
 * to a key is still refused (403) by its old record until then.
 */
const MAX_AGE_MS = 60_000;

/** Key hash -> the record last read for it (usable keys only), bounded, oldest out first. */
export class KeyRecordCache {
  private readonly records = new Map<string, CachedKeyRecord & { at: number }>();

  get(hash: string, now: number): CachedKeyRecord | undefined {
    const e = this.records.get(hash);
    if (e && now - e.at <= MAX_AGE_MS) return e;
    if (e) this.records.delete(hash);
    return undefined;
  }

  set(hash: string, entry: CachedKeyRecord, now: number): void {
    setBounded(this.records, hash, { ...entry, at: now }, MAX_RECORDS);
  }

  delete(hash: string): void {
    this.records.delete(hash);
  }
}
