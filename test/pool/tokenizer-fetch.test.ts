// Tokenizer bundle: digest and ZIP checks on hand-made chunk lists, and a real
// GetTokenizer from the simulated worker rendered through the Qwen3 chat template.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { zipSync, strToU8 } from "fflate";
import { assembleBundle, unzipBundle } from "../../pool/tokenizer/bundle.js";
import { fetchTokenizer } from "../../pool/tokenizer/fetch.js";
import { WorkerClient } from "../../pool/workers/client.js";
import { startSimWorker, type SimWorker } from "../../sim/server.js";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function chunksOf(data: Uint8Array, size: number, digest: string) {
  const out = [];
  for (let i = 0; i < data.length; i += size) out.push({ data: data.subarray(i, i + size), sha256: i + size >= data.length ? digest : "" });
  return out;
}

describe("assembleBundle", () => {
  const zip = zipSync({ "tokenizer.json": strToU8("{}"), "tokenizer_config.json": strToU8("{}") });

  it("accepts a correct digest, in any hex case", () => {
    const r = assembleBundle(chunksOf(zip, 7, sha(zip).toUpperCase()));
    expect(r.ok && Buffer.from(r.value).equals(Buffer.from(zip))).toBe(true);
  });

  it("rejects a corrupted digest", () => {
    const bad = sha(zip).replace(/^./, (c) => (c === "0" ? "1" : "0"));
    const r = assembleBundle(chunksOf(zip, 7, bad));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/sha256 mismatch/);
  });

  it("rejects corrupted data under the right digest", () => {
    const copy = zip.slice();
    copy[3] ^= 0xff;
    expect(assembleBundle(chunksOf(copy, 7, sha(zip))).ok).toBe(false);
  });

  it("rejects no chunks, a missing final digest and empty data", () => {
    expect(assembleBundle([]).ok).toBe(false);
    expect(assembleBundle(chunksOf(zip, 7, "")).ok).toBe(false);
    expect(assembleBundle([{ data: new Uint8Array(0), sha256: sha(new Uint8Array(0)) }]).ok).toBe(false);
  });
});

describe("unzipBundle", () => {
  it("rejects `..` and absolute paths and too many entries", () => {
    expect(unzipBundle(zipSync({ "../evil.json": strToU8("{}") })).ok).toBe(false);
    expect(unzipBundle(zipSync({ "/etc/evil": strToU8("{}") })).ok).toBe(false);
    const many: Record<string, Uint8Array> = {};
    for (let i = 0; i < 51; i++) many[`f${i}.txt`] = strToU8("x");
    expect(unzipBundle(zipSync(many)).ok).toBe(false);
    expect(unzipBundle(strToU8("not a zip")).ok).toBe(false);
  });
});

describe("fetchTokenizer from a worker", () => {
  let sim: SimWorker;
  let client: WorkerClient;
  beforeAll(async () => {
    sim = await startSimWorker({ port: 0 });
    client = new WorkerClient(sim.address);
  });
  afterAll(async () => {
    client?.close();
    await sim?.stop(100);
  });

  it("loads the Qwen3 tokenizer and chat template served by GetTokenizer", async () => {
    const r = await fetchTokenizer(client, sim.tokenizer.eosTokenIds);
    if (!r.ok) throw new Error(r.error);
    const tok = r.value;
    const text = "Größere Äpfel 🍎 東京";
    expect(tok.encode(text)).toEqual(sim.tokenizer.encode(text));
    expect(tok.eosTokenIds).toEqual(expect.arrayContaining([sim.tokenizer.imEndId, sim.tokenizer.endOfTextId]));

    const chat = tok.renderChat({ messages: [{ role: "user", content: "Hi" }], kwargs: { enable_thinking: false } });
    if (!chat.ok) throw new Error(chat.error);
    expect(chat.value.startsWith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")).toBe(true);
    expect(chat.value).toContain("<think>\n\n</think>"); // enable_thinking=false reached the template
    // Special tokens in the rendered prompt are encoded as single ids, none added around them.
    const ids = tok.encode(chat.value);
    expect(ids[0]).toBe(sim.tokenizer.tokenizer.token_to_id("<|im_start|>"));
    expect(ids.filter((x) => x === sim.tokenizer.imEndId)).toHaveLength(1);
  });
});
