// Model families the simulated worker can pretend to be. Only the tool-call
// markup and the GetModelInfo labels differ: tokenizer and chat template stay
// Qwen3's for both (the pool picks its parsers from model_type).
export type Family = "qwen3" | "kimi_k2";

export const FAMILIES: readonly Family[] = ["qwen3", "kimi_k2"];

/** HF config labels reported by GetModelInfo (`model_type`, `architectures`). */
export function familyLabels(f: Family): { modelType: string; architectures: string[] } {
  return f === "kimi_k2"
    ? { modelType: "kimi_k2", architectures: ["DeepseekV3ForCausalLM"] }
    : { modelType: "qwen3", architectures: ["Qwen3ForCausalLM"] };
}

export function parseFamily(v: string): Family {
  if ((FAMILIES as readonly string[]).includes(v)) return v as Family;
  throw new Error(`unknown family "${v}" (expected ${FAMILIES.join(" or ")})`);
}
