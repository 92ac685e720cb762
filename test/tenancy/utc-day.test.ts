// utcDay (contract/queue/keys.ts), the day of daily budgets and usage keys, remembers the
// last day it formatted: it must still name the right day across midnight, either way.
import { expect, it } from "vitest";
import { utcDay } from "../../contract/queue/keys.js";

it("names the UTC day of any time, across midnight in both directions", () => {
  const midnight = Date.UTC(2026, 11, 2);
  expect(utcDay(midnight - 1)).toBe("2026-12-01");
  expect(utcDay(midnight)).toBe("2026-12-02");
  expect(utcDay(midnight + 86_400_000 - 1)).toBe("2026-12-02");
  expect(utcDay(midnight + 86_400_000)).toBe("2026-12-03");
  expect(utcDay(midnight - 1)).toBe("2026-12-01");
  expect(utcDay(Date.UTC(1999, 11, 31, 23, 59, 59, 999))).toBe("1999-12-31");
  for (let t = midnight - 3 * 86_400_000; t < midnight + 3 * 86_400_000; t += 3_599_999) expect(utcDay(t)).toBe(new Date(t).toISOString().slice(0, 10));
});
