// The Workers reader: XREAD BLOCK on the request's own connection. workerd
// cannot share a socket between requests, so one connection per open stream
// is forced there; the timeout keeps each XREAD short enough for keepalives.
import type { Redis } from "ioredis";
import { decodeEntry, type RawEntry, type ResponseStreamReader, type ResponseSubscription } from "./reader.js";

export class PerRequestStreamReader implements ResponseStreamReader {
  open(conn: Redis, key: string, afterId: string): ResponseSubscription {
    let cursor = afterId;
    let closed = false;
    return {
      async next(timeoutMs, signal) {
        if (closed || signal?.aborted) return [];
        // BLOCK 0 means forever in Redis; never ask for that.
        const block = Math.max(1, Math.floor(timeoutMs));
        const res = (await conn.xread("COUNT", 512, "BLOCK", block, "STREAMS", key, cursor)) as [string, RawEntry[]][] | null;
        if (!res || closed) return [];
        const entries = res[0]![1].map(decodeEntry);
        if (entries.length) cursor = entries[entries.length - 1]!.id;
        return entries;
      },
      close() {
        closed = true;
      },
    };
  }
}
