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

/**
 * A floor of the bytes a prompt certainly has once rendered: the completion prompt or
 * the user messages' text, trimmed (a template may trim) and counting only ASCII
 * characters followed by ASCII (stable under any Unicode normalization). A tokenizer
 * whose longest token has M bytes makes at least floor / M tokens of it.
 */
export function renderedBytesFloor(payload: { prompt?: string; messages?: readonly { role: string; content?: string | null }[] }): number {
  const stable = (s: string) => {
    let n = 0;
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x80 && (i + 1 === s.length || s.charCodeAt(i + 1) < 0x80)) n++;
    return n;
  };
  if (payload.prompt !== undefined) return stable(payload.prompt);
  let n = 0;
  for (const m of payload.messages ?? []) if (m.role === "user" && m.content) n += stable(m.content.trim());
  return n;
}
