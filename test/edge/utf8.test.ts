// The Node edge's UTF-8 decoder for request bodies (edge/node/utf8.ts) gives what the web
// decoder gives (edge/api/request-io.ts: a leading BOM dropped, invalid UTF-8 refused),
// on chosen cases and on random bytes; through the Node edge, a body with a BOM is read
// and one that is not UTF-8 is a 400 invalid_json.
import { afterAll, beforeAll, expect, it } from "vitest";
import { decodeUtf8Node } from "../../edge/node/utf8.js";
import { decodeUtf8Web } from "../../edge/api/request-io.js";
import { chatBody, post, startHarness, type EdgeHarness } from "./helpers.js";

const enc = (s: string) => new TextEncoder().encode(s);
const bytes = (...b: number[]) => new Uint8Array(b);
const bom = (b: Uint8Array) => new Uint8Array([0xef, 0xbb, 0xbf, ...b]);

it("decodes as the web decoder does", () => {
  const cases: Uint8Array[] = [
    new Uint8Array(0),
    enc('{"a":"plain ASCII"}'),
    enc('{"a":"héllo 東京 🚀"}'),
    bom(enc('{"a":1}')),
    bom(enc('{"a":"é"}')),
    bom(bom(enc("{}"))), // only the first BOM is dropped
    enc('{"a":"é"}').subarray(0, 7), // a character cut in half
    bytes(0x7b, 0xc0, 0x80, 0x7d), // overlong NUL
    bytes(0xed, 0xa0, 0x80), // an encoded surrogate
    bytes(0xf4, 0x90, 0x80, 0x80), // past U+10FFFF
    bytes(0xff),
    bytes(0xef, 0xbb), // half a BOM
    enc("x".repeat(100_000) + "é").subarray(1), // an offset view
  ];
  for (const b of cases) expect(decodeUtf8Node(b)).toBe(decodeUtf8Web(b));
  expect(decodeUtf8Node(bom(enc("{}")))).toBe("{}");
  expect(decodeUtf8Node(bytes(0xff))).toBeUndefined();
});

it("agrees with the web decoder on random bytes, valid or not", () => {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  let invalid = 0;
  for (let n = 0; n < 3000; n++) {
    const b = new Uint8Array(1 + (next() % 24));
    // mostly ASCII and UTF-8 lead/continuation bytes, so valid sequences occur too
    for (let i = 0; i < b.length; i++) b[i] = [0x41, 0x80 + (next() % 64), 0xc3, 0xe2, 0xf0, next() % 256][next() % 6]!;
    const web = decodeUtf8Web(b);
    if (web === undefined) invalid++;
    expect(decodeUtf8Node(b)).toBe(web);
  }
  // both kinds were exercised
  expect(invalid).toBeGreaterThan(100);
  expect(invalid).toBeLessThan(2900);
});

let h: EdgeHarness;
const KEY = "sk-utf8";
beforeAll(async () => {
  h = await startHarness();
  await h.seed({ tenantId: "t1", key: KEY });
});
afterAll(() => h?.stop());

it("the Node edge reads a body with a BOM and refuses one that is not UTF-8", async () => {
  const url = h.edge.url + "/v1/chat/completions";
  // an unknown model: the body was read and validated
  const withBom = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body: bom(enc(chatBody({ model: "nope" }))) });
  expect(withBom.status).toBe(404);
  expect(((await withBom.json()) as { error: { param: string } }).error.param).toBe("model");
  const latin1 = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body: bytes(...enc('{"model":"m","messages":[{"role":"user","content":"caf'), 0xe9, ...enc('"}]}')) });
  expect(latin1.status).toBe(400);
  expect(((await latin1.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: "invalid_json", message: "The request body is not valid UTF-8." });
  // still usable afterwards
  expect((await post(url, KEY, chatBody({ model: "nope" }))).status).toBe(404);
});
