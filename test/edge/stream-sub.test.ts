// A relay's wait on its response stream (edge/streams/sub.ts): entries end
// a wait at once, the timeout counts from each wait's own start although one timer
// serves them all, an abort ends a wait, and a subscription holds one abort listener
// however many waits it makes (and none once closed).
import { getEventListeners } from "node:events";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { Sub } from "../../edge/streams/sub.js";
import type { StreamEntry } from "../../edge/streams/reader.js";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
});
afterEach(() => {
  vi.useRealTimers();
});

const entry = (id: string): StreamEntry => ({ id, event: { type: "chunk", choices: [] } });
const settled = async <T>(p: Promise<T>) => {
  let done = false;
  void p.then(() => (done = true));
  await vi.advanceTimersByTimeAsync(0);
  return done;
};

it("entries end a wait at once; each wait times out keepalive ms after it began", async () => {
  const sub = new Sub("k", "0", () => {});
  const first = sub.next(1_000);
  await vi.advanceTimersByTimeAsync(600);
  sub.push([entry("1-0")]);
  expect((await first).map((e) => e.id)).toEqual(["1-0"]);

  // 600 ms into the first wait's timer: the second wait still gets its full 1,000 ms
  const second = sub.next(1_000);
  await vi.advanceTimersByTimeAsync(999);
  expect(await settled(second)).toBe(false);
  await vi.advanceTimersByTimeAsync(1);
  expect(await second).toEqual([]);

  // a shorter wait (a queued request's deadline) re-arms for its own length
  const third = sub.next(10);
  await vi.advanceTimersByTimeAsync(10);
  expect(await third).toEqual([]);
  sub.close();
});

it("an abort ends a wait, and one listener serves every wait until the subscription closes", async () => {
  const sub = new Sub("k", "0", () => {});
  const ctl = new AbortController();
  for (let i = 1; i <= 50; i++) {
    const wait = sub.next(1_000, ctl.signal);
    sub.push([entry(`${i}-0`)]);
    await wait;
  }
  expect(getEventListeners(ctl.signal, "abort")).toHaveLength(1);
  const pending = sub.next(1_000, ctl.signal);
  ctl.abort();
  expect(await pending).toEqual([]);
  expect(await sub.next(1_000, ctl.signal)).toEqual([]); // already aborted: at once
  sub.close();

  const other = new AbortController();
  const sub2 = new Sub("k", "0", () => {});
  void sub2.next(1_000, other.signal);
  expect(getEventListeners(other.signal, "abort")).toHaveLength(1);
  sub2.close();
  expect(getEventListeners(other.signal, "abort")).toHaveLength(0);
  expect(vi.getTimerCount()).toBe(0);
});
