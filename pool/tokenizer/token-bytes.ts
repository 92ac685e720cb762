// The raw UTF-8 bytes behind one token id, for logprobs (OpenAI's `bytes`):
// a token may hold part of a character, so its text alone cannot say which
// bytes it contributes. Byte-level BPE vocabularies (GPT-2, Qwen, Llama 3)
// spell each byte as one printable character (GPT-2's bytes_to_unicode table);
// added tokens (e.g. <tool_call>) are their literal content.
import type { Tokenizer } from "@huggingface/tokenizers";

/** GPT-2's bytes_to_unicode, inverted: vocabulary character -> byte. */
function unicodeToByte(): Map<string, number> {
  const bytes: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bytes.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bytes.push(b);
  for (let b = 0xae; b <= 0xff; b++) bytes.push(b);
  const chars = [...bytes];
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      chars.push(256 + extra++);
    }
  }
  return new Map(bytes.map((b, i) => [String.fromCodePoint(chars[i]!), b]));
}

export function tokenBytesOf(tok: Tokenizer): (id: number) => Uint8Array {
  const table = unicodeToByte();
  const added = tok.get_added_tokens_decoder();
  const enc = new TextEncoder();
  const cache = new Map<number, Uint8Array>();
  return (id) => {
    const hit = cache.get(id);
    if (hit) return hit;
    let out: Uint8Array;
    const a = added.get(id);
    const piece = a ? undefined : tok.id_to_token(id);
    if (a) out = enc.encode(a.content);
    else if (piece === undefined) out = new Uint8Array();
    else {
      const bytes: number[] = [];
      let byteLevel = true;
      for (const ch of piece) {
        const b = table.get(ch);
        if (b === undefined) {
          byteLevel = false;
          break;
        }
        bytes.push(b);
      }
      // Not a byte-level vocabulary (e.g. SentencePiece): the piece's own UTF-8.
      out = byteLevel ? Uint8Array.from(bytes) : enc.encode(piece.replace(/\u2581/g, " "));
    }
    if (cache.size < 65_536) cache.set(id, out);
    return out;
  };
}
