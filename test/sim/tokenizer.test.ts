// GetTokenizer: the ZIP a gateway reassembles, verifies and loads.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { unzipSync } from "fflate";
import { Tokenizer } from "@huggingface/tokenizers";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import { collect, schedulerClient } from "./helpers.js";

let w: SimWorker;
let client: ReturnType<typeof schedulerClient>;

beforeAll(async () => {
  w = await startSimWorker();
  client = schedulerClient(w.address);
});

afterAll(async () => {
  client.close();
  await w.stop();
});

it("streams a flat deflate ZIP in 64 KiB chunks with the SHA-256 only on the last chunk", async () => {
  const { frames, error } = await collect(client.getTokenizer({}));
  expect(error).toBeUndefined();
  expect(frames.length).toBeGreaterThan(1);
  expect(frames.slice(0, -1).every((c) => c.data.length === 64 * 1024 && c.sha256 === "")).toBe(true);
  const last = frames.at(-1)!;
  expect(last.data.length).toBeGreaterThan(0);
  expect(last.sha256).toMatch(/^[0-9a-f]{64}$/);

  const zip = Buffer.concat(frames.map((c) => c.data));
  expect(createHash("sha256").update(zip).digest("hex")).toBe(last.sha256);
  const files = unzipSync(new Uint8Array(zip));
  expect(Object.keys(files).sort()).toEqual(["tokenizer.json", "tokenizer_config.json"]);
  const json = JSON.parse(new TextDecoder().decode(files["tokenizer.json"]));
  const config = JSON.parse(new TextDecoder().decode(files["tokenizer_config.json"]));
  expect(json.model.type).toBe("BPE");
  // The bundled files load into a working tokenizer that agrees with the worker's ids.
  const tok = new Tokenizer(json, config);
  expect(tok.token_to_id("<|im_end|>")).toBe(w.tokenizer.imEndId);

  // Built once per process: a second download is byte-identical.
  const again = await collect(client.getTokenizer({}));
  expect(again.frames.at(-1)!.sha256).toBe(last.sha256);
});
