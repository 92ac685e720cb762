// Many open SSE streams on one Node edge process share a bounded number of
// Redis connections: the shared command connection plus one multiplexed
// blocking reader, however many streams are open.
import { afterAll, beforeAll, expect, it } from "vitest";
import { keys } from "../../contract/queue/keys.js";
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

  // Play the pool for all of them at once: each stream gets its own text.
  const rids = await h.r.lrange(tq, 0, -1);
  await h.r.del(tq);
  const pipe = h.r.pipeline();
  for (const rid of rids) {
    pipe.xadd(keys.out(rid), "*", "e", JSON.stringify({ type: "chunk", choices: [{ index: 0, text: `hi ${rid}`, token_ids: [1], finish_reason: "stop" }] }));
    pipe.xadd(keys.out(rid), "*", "e", JSON.stringify({ type: "done", usage: { prompt_tokens: 1, completion_tokens: 1, cached_tokens: 0 } }));
  }
  await pipe.exec();
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
