// OpenAI request fields we know but cannot honour. A client that sends one
// gets a 400 naming it rather than an answer that silently ignored it.
// (Unknown fields are still ignored, as OpenAI does.)
import { refuse, refuseFields, unset, type Check } from "../api/refuse.js";

const CHAT: Record<string, Check> = {
  audio: refuse("Audio output is not supported: this endpoint serves text-only models."),
  modalities: (v) => (unset(v) || (Array.isArray(v) && v.every((m) => m === "text")) ? null : "Only the 'text' modality is supported."),
  prediction: refuse("Predicted outputs are not supported."),
  web_search_options: refuse("Web search is not supported."),
  functions: refuse("The deprecated 'functions' field is not supported; use 'tools'."),
  function_call: refuse("The deprecated 'function_call' field is not supported; use 'tool_choice'."),
  store: (v) => (v === true ? "Storing chat completions is not supported; use the Responses API (store: true) to keep responses." : null),
  echo: (v) => (v === true ? "'echo' is only accepted by the completions endpoint (and not supported there either)." : null),
};

const COMPLETIONS: Record<string, Check> = {
  echo: (v) => (v === true ? "'echo' is not supported: the prompt is not returned with the completion." : null),
  best_of: (v) => (typeof v === "number" && v > 1 ? "'best_of' above 1 is not supported; use 'n' for several completions." : null),
  suffix: (v) => (typeof v === "string" && v !== "" ? "'suffix' (insertion) is not supported by the served models." : null),
};

export const refuseUnsupportedChat = (body: unknown) => refuseFields(CHAT, body);
export const refuseUnsupportedCompletion = (body: unknown) => refuseFields(COMPLETIONS, body);
