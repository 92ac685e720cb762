// An upper bound of a prompt's tokens, known at admission before any
// tokenizer runs: byte-level BPE (Qwen, Llama 3, GPT) never produces more
// tokens than UTF-8 bytes, so bytes + the chat template's own tokens bound the
// prompt's size. Reservations use it so a tokens-per-minute limit holds
// exactly (settlement only ever refunds).

export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Template tokens per message (role markers, newlines) and per prompt (generation prefix). */
export const TEMPLATE_TOKENS_PER_MESSAGE = 8;
export const TEMPLATE_TOKENS_BASE = 16;
/** The tool-use instructions a chat template adds when tools are given. */
export const TEMPLATE_TOKENS_TOOLS = 512;
