// Gathers the appends of one event-loop turn into one append-many.lua call (one Redis
// only: its keys span slots). Token messages from the workers arrive in separate I/O
// callbacks, so a per-tick batch (ioredis auto-pipelining) holds one append; a turn
// holds ~30 at 64 streams. The batch goes out from setImmediate, right after the turn's
// I/O callbacks: no timer, no added wait beyond the turn. Each caller still gets its own
// result (fenced, cancelled) and every append of a failed call gets the error.
import type { Redis } from "ioredis";
import { appendMany, type AppendItem } from "../../contract/queue/scripts/append.js";

/** requests per script call: bounds one call's KEYS and its time inside Redis */
const MAX_BATCH = 256;

type Outcome = "ok" | "fenced" | "cancelled";

export class AppendBatcher {
  private pending: { item: AppendItem; resolve: (r: Outcome) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;

  constructor(
    private readonly redis: Redis,
    private readonly leaseMs: number,
  ) {}

  append(item: AppendItem): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.pending;
    this.pending = [];
    for (let i = 0; i < all.length; i += MAX_BATCH) {
      const part = all.slice(i, i + MAX_BATCH);
      appendMany(
        this.redis,
        this.leaseMs,
        part.map((p) => p.item),
      ).then(
        (results) => part.forEach((p, j) => p.resolve(results[j] ?? "fenced")),
        (e) => part.forEach((p) => p.reject(e)),
      );
    }
  }
}
