// Prompts far over a model's context, for the oversized scenario and the tests of
// oversized refusals: "words" (prose-like: random common words, ~4 bytes/token) and
// "x" (one character repeated: a single 1 MB pre-token, the costliest case for BPE).
const WORDS = "the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their".split(" ");

export function bigPrompt(kind: "words" | "x", bytes: number, salt: number): string {
  if (kind === "x") return `${salt} ` + "x".repeat(bytes);
  const parts: string[] = [String(salt)];
  let n = 0;
  let seed = salt * 7919 + 1;
  while (n < bytes) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const w = WORDS[seed % WORDS.length] + (seed % 17 === 0 ? ".\n" : " ");
    parts.push(w);
    n += w.length;
  }
  return parts.join("");
}

