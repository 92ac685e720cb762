// Stream id order (edge/streams/reader.ts compareIds) against BigInt arithmetic, on
// ids Redis writes and on ids a client may send as Last-Event-ID (leading zeros, no seq).
import { expect, it } from "vitest";
import { compareIds, isStreamId } from "../../edge/streams/reader.js";

function reference(a: string, b: string): number {
  const [am, as = "0"] = a.split("-");
  const [bm, bs = "0"] = b.split("-");
  const d = BigInt(am!) - BigInt(bm!) || BigInt(as) - BigInt(bs);
  return d === 0n ? 0 : d < 0n ? -1 : 1;
}

it("orders stream ids exactly as their numeric values", () => {
  const parts = ["0", "00", "7", "007", "9", "10", "99", "100", "1733130000000", "1733130000001", "18446744073709551615", "18446744073709551614"];
  const ids = [...parts, ...parts.flatMap((ms) => ["0", "1", "02", "10", "18446744073709551615"].map((seq) => `${ms}-${seq}`))];
  let n = 0;
  for (const a of ids)
    for (const b of ids) {
      expect(isStreamId(a) && isStreamId(b)).toBe(true);
      expect(compareIds(a, b), `${a} vs ${b}`).toBe(reference(a, b));
      n++;
    }
  expect(n).toBeGreaterThan(4000);
});
