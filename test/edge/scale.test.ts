// Many open SSE streams on one Node edge process share a bounded number of
// Redis connections: the shared command connection plus one subscriber that the
// pool pushes every stream's entries to, however many streams are open.
import { afterAll, beforeAll, expect, it } from "vitest";
import { keys } from "../../contract/queue/keys.js";
import { appendMany } from "../../contract/queue/scripts/append.js";
import { MODEL, SseReader, chatBody, post, startHarness, type EdgeHarness } from "./helpers.js";

let h: EdgeHarness;
const KEY = "sk-scale";
const STREAMS = 200;

beforeAll(async () => {
  h = await startHarness({ keepaliveMs: 2_000 });
  await h.seed({ tenantId: "bulk", key: KEY });
});
afterAll(() => h?.stop());

async function clientCount(): Promise<{ total: number; edge: number }> {
  const list = (await h.r.client("LIST")) as string;
  const lines = list.trim().split("\n");
  return { total: lines.length, edge: lines.filter((l) => / name=sg-edge/.test(l)).length };
}

it(`${STREAMS} concurrent streams use a bounded number of Redis connections`, async () => {
  const before = await clientCount();
  const responses = await Promise.all(Array.from({ length: STREAMS }, () => post(h.edge.url + "/v1/chat/completions", KEY, chatBody({ stream: true }))));
  expect(responses.every((r) => r.status === 200)).toBe(true);
  const readers = responses.map((r) => new SseReader(r));
  // All queued and all relays subscribed (each stream wrote its queue position).
  for (const s of readers) expect((await s.next())?.comment).toMatch(/^queued position=/);
  const tq = keys.tenantQueue(MODEL, "bulk");
  expect(await h.r.llen(tq)).toBe(STREAMS);

  const during = await clientCount();
  console.log(`redis clients: before=${before.total} with ${STREAMS} open streams=${during.total} (edge-owned: ${during.edge})`);
  expect(during.edge).toBeLessThanOrEqual(2);
  expect(during.total).toBeLessThanOrEqual(before.total + 1);

  // Play the pool for all of them at once, with its one-call append-many: each stream gets its own text.
  const rids = await h.r.lrange(tq, 0, -1);
  await h.r.del(tq);
  const pipe = h.r.pipeline();
  for (const rid of rids) pipe.set(keys.writeLease(rid), "p:1", "PX", 30_000);
  await pipe.exec();
  const results = await appendMany(
    h.r,
    30_000,
    rids.map((rid) => ({
      rid,
      token: "p:1",
      events: [
        { type: "chunk" as const, choices: [{ index: 0, text: `hi ${rid}`, token_ids: [1], finish_reason: "stop" as const }] },
        { type: "done" as const, usage: { prompt_tokens: 1, completion_tokens: 1, cached_tokens: 0 } },
      ],
    })),
  );
  expect(results.every((o) => o === "ok")).toBe(true);
  const texts = await Promise.all(
    readers.map(async (s, i) => {
      const items = await s.rest();
      const ev = items.filter((x) => x.kind === "event");
      expect(ev[ev.length - 1]!.data).toBe("[DONE]");
      return [responses[i]!.headers.get("x-request-id"), JSON.parse(ev[0]!.data!).choices[0].delta.content] as const;
    }),
  );
  for (const [rid, text] of texts) expect(text).toBe(`hi ${rid}`);
  expect((await clientCount()).edge).toBeLessThanOrEqual(2);
});
