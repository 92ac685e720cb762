// The pool's segment tokenization cache (pool/tokenizer/segment-cache.ts) must give
// exactly the ids of a plain encode: cutting before special tokens is exact for
// HF tokenizers. Checked on rendered multi-turn chats with tricky content.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { Tokenizer } from "@huggingface/tokenizers";
import { loadModelTokenizer } from "../../pool/tokenizer/model-tokenizer.js";
import { SegmentTokenCache, splittableSpecialTokens } from "../../pool/tokenizer/segment-cache.js";
import { defaultTokenizerDir } from "../../sim/tokenizer.js";

const dir = defaultTokenizerDir();
const files = new Map(["tokenizer.json", "tokenizer_config.json"].map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]));

it("cached encode == plain encode on growing multi-turn chats", () => {
  const json = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
  const plain = new Tokenizer(json, JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")));
  const raw = (t: string) => plain.encode(t, { add_special_tokens: false }).ids;
  const specials = splittableSpecialTokens(json)!;
  expect(specials).toContain("<|im_start|>");
  const cache = new SegmentTokenCache(specials, raw, { maxTokens: 100_000, minChars: 8 });
  const tok = loadModelTokenizer(files);
  if (!tok.ok) throw new Error(tok.error);
  const bits = ["  spaces  ", "\n\n", "émoji 🚀🎉", "东京的春天", "<think>hmm</think>", "<tool_call>{\"a\":1}</tool_call>", "tab\tend ", "x".repeat(300)];
  const messages: { role: string; content: string }[] = [{ role: "system", content: "You are terse. " + bits.join(" | ") }];
  for (let t = 0; t < 8; t++) {
    messages.push({ role: "user", content: `turn ${t}: ${bits[t % bits.length]} ${bits[(t * 3) % bits.length]}` });
    const text = tok.value.renderChat({ messages }).ok ? (tok.value.renderChat({ messages }) as { ok: true; value: string }).value : "";
    expect(cache.encode(text)).toEqual(raw(text));
    expect(tok.value.encode(text)).toEqual(raw(text));
    messages.push({ role: "assistant", content: `answer ${t} ${bits[(t + 5) % bits.length]}   ` });
  }
  expect(cache.hits).toBeGreaterThan(0);
});
