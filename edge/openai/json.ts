// OpenAI non-streamed responses: one chat.completion / text_completion object
// accumulated from the pool's event stream.
import type { LogprobEntry, Usage } from "../../contract/queue/messages.js";
import type { ChunkEvent, JsonTranslator } from "../api/translator.js";
import type { RequestMeta } from "../queue.js";
import { chatLogprobs, completionLogprobs, toOpenAIUsage } from "./pieces.js";

interface ChoiceAcc {
  text: string;
  reasoning: string;
  calls: { id: string; name: string; arguments: string }[];
  logprobs: LogprobEntry[];
  finish: string | null;
}

const emptyChoice = (): ChoiceAcc => ({ text: "", reasoning: "", calls: [], logprobs: [], finish: null });

export class OpenAIJson implements JsonTranslator {
  private readonly choices: ChoiceAcc[];

  constructor(
    private readonly rid: string,
    private readonly meta: RequestMeta,
    private readonly wantLogprobs: boolean,
  ) {
    this.choices = Array.from({ length: meta.n }, emptyChoice);
  }

  add(ev: ChunkEvent): void {
    for (const ch of ev.choices) {
      // A pool answering more choices than asked: keep them rather than drop text.
      while (this.choices.length <= ch.index) this.choices.push(emptyChoice());
      const acc = this.choices[ch.index]!;
      acc.text += ch.text;
      if (ch.reasoning) acc.reasoning += ch.reasoning;
      for (const p of ch.tool_calls ?? []) {
        const call = (acc.calls[p.index] ??= { id: "", name: "", arguments: "" });
        if (p.id !== undefined) call.id = p.id;
        if (p.name !== undefined) call.name = p.name;
        if (p.arguments !== undefined) call.arguments += p.arguments;
      }
      if (ch.logprobs) acc.logprobs.push(...ch.logprobs);
      if (ch.finish_reason !== null) acc.finish = ch.finish_reason;
    }
  }

  build(usage: Usage): object {
    const base = { id: this.rid, created: this.meta.created, model: this.meta.model, system_fingerprint: null };
    const u = toOpenAIUsage(usage);
    if (this.meta.kind !== "chat") {
      const choices = this.choices.map((c, index) => ({
        index,
        text: c.text,
        logprobs: this.wantLogprobs ? completionLogprobs(c.logprobs, 0) : null,
        finish_reason: c.finish ?? "stop",
      }));
      return { ...base, object: "text_completion", choices, usage: u };
    }
    const choices = this.choices.map((c, index) => {
      const calls = c.calls.filter(Boolean);
      const message: Record<string, unknown> = {
        role: "assistant",
        // OpenAI: null content when the turn only made tool calls.
        content: calls.length && c.text === "" ? null : c.text,
        refusal: null,
      };
      if (c.reasoning) message.reasoning_content = c.reasoning;
      if (calls.length) message.tool_calls = calls.map((t) => ({ id: t.id, type: "function", function: { name: t.name, arguments: t.arguments } }));
      return {
        index,
        message,
        logprobs: this.wantLogprobs ? { content: chatLogprobs(c.logprobs), refusal: null } : null,
        finish_reason: c.finish ?? "stop",
      };
    });
    return { ...base, object: "chat.completion", choices, usage: u };
  }
}
