// Shared by the Responses API tests: a full stack with the official openai
// client, and the one event-order check every streamed test runs.
import OpenAI from "openai";
import { expect } from "vitest";
import { startFullStack, type FullStack, type FullStackOptions } from "../helpers/full-stack.js";

export { SIM_MODEL } from "../helpers/full-stack.js";

/** Limits high enough never to bite, so x-ratelimit-* headers are sent. */
export const RATE_LIMITS = { requests_per_minute: 100_000, tokens_per_minute: 1_000_000_000 };

/** The text of a response's message items (responses.stream's finalResponse has no output_text). */
export function textOf(r: { output: readonly { type: string; content?: readonly { type: string; text?: string }[] }[] }): string {
  let s = "";
  for (const o of r.output) if (o.type === "message") for (const c of o.content ?? []) if (c.type === "output_text") s += c.text ?? "";
  return s;
}

export interface Env {
  stack: FullStack;
  client: OpenAI;
  clientFor(key: string): OpenAI;
}

export async function responsesStack(key: string, opts: FullStackOptions = {}, limits: Record<string, number> = {}): Promise<Env> {
  const stack = await startFullStack(opts);
  await stack.seed({ tenantId: "t-" + key.slice(-6), key, limits: { ...RATE_LIMITS, ...limits } });
  const clientFor = (k: string) => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: k, maxRetries: 0 });
  return { stack, client: clientFor(key), clientFor };
}

type Ev = { type: string; sequence_number: number } & Record<string, unknown>;
const TERMINAL = new Set(["response.completed", "response.incomplete", "response.failed"]);

/**
 * The streaming contract, checked on every streamed test: sequence numbers
 * strictly increase; created then in_progress first; a terminal event last
 * (after `error` if any); every item event between its output_item.added and
 * .done, every part event between its content_part.added and .done, every
 * delta before its .done, and the deltas add up to the .done text.
 * `partial`: a stream the client left early (no terminal event required).
 */
export function checkEventOrder(events: readonly Ev[], opts: { partial?: boolean } = {}): void {
  if (opts.partial) return checkPrefix(events);
  expect(events.length).toBeGreaterThanOrEqual(3);
  for (let i = 1; i < events.length; i++) expect(events[i]!.sequence_number).toBeGreaterThan(events[i - 1]!.sequence_number);
  expect(events[0]!.type).toBe("response.created");
  expect(events[1]!.type).toBe("response.in_progress");
  const last = events[events.length - 1]!;
  expect(TERMINAL.has(last.type), `last event ${last.type}`).toBe(true);
  expect(events.filter((e) => TERMINAL.has(e.type))).toHaveLength(1);

  checkItems(events.slice(2, -1));
  if (last.type !== "response.failed") {
    const output = (last.response as { output: unknown[] }).output;
    expect(output).toHaveLength(events.filter((e) => e.type === "response.output_item.added").length);
  }
}

function checkPrefix(events: readonly Ev[]): void {
  for (let i = 1; i < events.length; i++) expect(events[i]!.sequence_number).toBeGreaterThan(events[i - 1]!.sequence_number);
  expect(events[0]?.type).toBe("response.created");
  expect(events[1]?.type).toBe("response.in_progress");
  for (const e of events) expect(TERMINAL.has(e.type)).toBe(false);
  checkItems(events.slice(2), true);
}

/** Item and part brackets of the events between in_progress and the terminal event. */
function checkItems(events: readonly Ev[], partial = false): void {
  const items = new Map<number, "open" | "done">();
  const parts = new Map<string, "open" | "done">();
  const texts = new Map<string, string>();
  const doneTexts = new Map<string, string>();
  for (const e of events) {
    const oi = e.output_index as number | undefined;
    if (e.type === "response.output_item.added") {
      expect(items.has(oi!), `item ${oi} added twice`).toBe(false);
      expect(oi).toBe(items.size);
      items.set(oi!, "open");
      continue;
    }
    if (e.type === "error") continue;
    expect(items.get(oi!), `${e.type} of item ${oi} outside added..done`).toBe("open");
    const part = `${oi}:${e.content_index as number}`;
    if (e.type === "response.output_item.done") {
      for (const [k, v] of parts) if (k.startsWith(`${oi}:`)) expect(v, `part ${k} still open at item done`).toBe("done");
      items.set(oi!, "done");
    } else if (e.type === "response.content_part.added") {
      expect(parts.has(part)).toBe(false);
      parts.set(part, "open");
    } else if (e.type === "response.content_part.done") {
      expect(parts.get(part)).toBe("open");
      parts.set(part, "done");
    } else if (e.type.endsWith(".delta")) {
      const key = e.type === "response.function_call_arguments.delta" ? `${oi}:args` : part;
      if (e.type !== "response.function_call_arguments.delta") expect(parts.get(part), `${e.type} outside its part`).toBe("open");
      expect(doneTexts.has(key), `${e.type} after its .done`).toBe(false);
      texts.set(key, (texts.get(key) ?? "") + (e.delta as string));
    } else if (e.type.endsWith(".done")) {
      const key = e.type === "response.function_call_arguments.done" ? `${oi}:args` : part;
      const full = (e.type === "response.function_call_arguments.done" ? e.arguments : e.text) as string;
      doneTexts.set(key, full);
      expect(full).toBe(texts.get(key) ?? "");
    }
  }
  if (!partial) for (const [oi, state] of items) expect(state, `item ${oi} never done`).toBe("done");
}

/** Every event of a raw SSE body (event: name must equal data.type). */
export function parseSse(text: string): Ev[] {
  const out: Ev[] = [];
  for (const block of text.split("\n\n")) {
    let name: string | undefined;
    let data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) name = line.slice(7);
      else if (line.startsWith("data: ")) data += line.slice(6);
    }
    if (!data) continue;
    const ev = JSON.parse(data) as Ev;
    expect(name).toBe(ev.type);
    out.push(ev);
  }
  return out;
}

/** Collects a responses.stream()'s events (checking their order) and its final response. */
export async function streamed(client: OpenAI, params: OpenAI.Responses.ResponseCreateParamsStreaming | Omit<OpenAI.Responses.ResponseCreateParamsStreaming, "stream">) {
  const stream = client.responses.stream(params as OpenAI.Responses.ResponseCreateParamsStreaming);
  const events: Ev[] = [];
  for await (const ev of stream) events.push(ev as unknown as Ev);
  const final = await stream.finalResponse();
  checkEventOrder(events);
  return { events, final };
}
