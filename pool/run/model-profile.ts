// What the pool needs to know about a model beyond its tokenizer: which
// tool-call markup it writes (so the right parser reads it and the right
// structural tags force it) and how long its context is. Learned from the
// workers' GetModelInfo (`model_type`, `architectures`, `max_context_length`),
// overridable per model in the pool's config.

export type ToolFormat = "qwen3" | "kimi_k2";

export interface ModelProfile {
  /** the model family as the workers report it (model_type), e.g. "qwen3" */
  family: string;
  /** the tool-call markup, or undefined when the model has none we parse */
  toolFormat: ToolFormat | undefined;
  /** prompt + output tokens the model takes; undefined when the workers do not say */
  contextLength: number | undefined;
}

/** Tool-call markup by model_type / architecture (SGLang's and SMG's parser choice). */
export function toolFormatOf(modelType: string, architectures: readonly string[]): ToolFormat | undefined {
  const t = modelType.toLowerCase();
  if (t.startsWith("qwen3") || t.startsWith("qwen2")) return "qwen3";
  if (t === "kimi_k2" || t === "deepseek_v3" || architectures.includes("DeepseekV3ForCausalLM")) return "kimi_k2";
  return undefined;
}

export interface ModelInfoLike {
  modelType: string;
  architectures: readonly string[];
  maxContextLength: number;
}

/**
 * The profile from a worker's model info; `override` is the configured parser
 * name for this model ("qwen3", "kimi_k2" or "none").
 */
export function profileOf(info: ModelInfoLike, override?: string): ModelProfile {
  const toolFormat = override === "none" ? undefined : override === "qwen3" || override === "kimi_k2" ? override : toolFormatOf(info.modelType, info.architectures);
  return {
    family: info.modelType,
    toolFormat,
    contextLength: info.maxContextLength > 0 ? info.maxContextLength : undefined,
  };
}
