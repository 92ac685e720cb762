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
        const read = conn.xread("COUNT", 512, "BLOCK", block, "STREAMS", key, cursor) as Promise<[string, RawEntry[]][] | null>;
        // Honour the signal while blocked (the interface's contract): in
        // workerd a disconnect is noticed at a write, and without this the
        // relay would sit out one more full BLOCK before cancelling. The
        // XREAD left pending dies with the connection, which the relay
        // closes next; nothing else is sent on it meanwhile.
        let res: [string, RawEntry[]][] | null;
        if (signal) {
          let onAbort!: () => void;
          const aborted = new Promise<null>((resolve) => {
            onAbort = () => resolve(null);
            signal.addEventListener("abort", onAbort, { once: true });
          });
          read.catch(() => {});
          try {
            res = await Promise.race([read, aborted]);
          } finally {
            signal.removeEventListener("abort", onAbort);
          }
        } else {
          res = await read;
        }
        if (!res || closed || signal?.aborted) return [];
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
