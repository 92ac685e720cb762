// Shared by the Messages API tests: a full stack with a seeded key, the
// official Anthropic client pointed at it, and the event-order invariants
// every streamed test checks.
import Anthropic from "@anthropic-ai/sdk";
import { expect } from "vitest";
import { startFullStack, type FullStack, type FullStackOptions } from "../helpers/full-stack.js";
import type { SeedApiKeyOptions } from "../../edge/tenants.js";

export { SIM_MODEL } from "../helpers/full-stack.js";

export async function messagesStack(key: string, opts: FullStackOptions = {}, seed: Partial<SeedApiKeyOptions> = {}): Promise<{ stack: FullStack; client: Anthropic }> {
  const stack = await startFullStack(opts);
  await stack.seed({ tenantId: "messages", key, ...seed });
  return { stack, client: anthropicClient(stack.url, key) };
}

/** The official client, as a user would point it at the gateway (baseURL = the edge; it appends /v1/messages). */
export function anthropicClient(url: string, apiKey: string): Anthropic {
  return new Anthropic({ baseURL: url, apiKey, maxRetries: 0 });
}

/** Any streamed Messages event, as the SDK or a raw SSE parse yields it. */
export interface StreamEvent {
  type: string;
  index?: number;
  content_block?: { type: string };
  delta?: { type?: string; stop_reason?: string | null };
}

const DELTA_OF: Record<string, string[]> = {
  text: ["text_delta"],
  thinking: ["thinking_delta", "signature_delta"],
  tool_use: ["input_json_delta"],
};

/**
 * The Messages stream grammar: message_start first; blocks opened with indices
 * 0, 1, 2…; every delta inside its own block (same index, between its start and
 * stop, of that block's kind); no block open at message_delta; message_delta then
 * message_stop last. Pings may come anywhere (the SDK drops them).
 */
export function expectEventOrder(events: readonly StreamEvent[]): void {
  const ev = events.filter((e) => e.type !== "ping");
  expect(ev[0]?.type).toBe("message_start");
  expect(ev.at(-1)?.type).toBe("message_stop");
  expect(ev.at(-2)?.type).toBe("message_delta");
  expect(ev.filter((e) => e.type === "message_start")).toHaveLength(1);
  expect(ev.filter((e) => e.type === "message_delta")).toHaveLength(1);
  let open: { index: number; kind: string } | null = null;
  let next = 0;
  for (const e of ev.slice(1, -2)) {
    if (e.type === "content_block_start") {
      expect(open, `block ${e.index} starts while block ${open?.index} is open`).toBeNull();
      expect(e.index).toBe(next++);
      open = { index: e.index!, kind: e.content_block!.type };
    } else if (e.type === "content_block_delta") {
      expect(open, `delta for block ${e.index} outside any block`).not.toBeNull();
      expect(e.index).toBe(open!.index);
      expect(DELTA_OF[open!.kind]).toContain(e.delta!.type);
    } else if (e.type === "content_block_stop") {
      expect(open?.index).toBe(e.index);
      open = null;
    } else {
      throw new Error(`unexpected event ${e.type} inside the message`);
    }
  }
  expect(open, "a block is still open at message_delta").toBeNull();
}

export interface RawSse {
  event: string | null;
  data: string;
}

/** Parses a whole SSE body (comments dropped), checking each event's name equals its data's type. */
export function parseSse(text: string): RawSse[] {
  const out: RawSse[] = [];
  for (const block of text.split("\n\n")) {
    let event: string | null = null;
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
    }
    if (data.length) out.push({ event, data: data.join("\n") });
  }
  for (const e of out) expect((JSON.parse(e.data) as { type: string }).type).toBe(e.event);
  return out;
}

/** POSTs a JSON body (or raw text) to the edge with x-api-key, as Anthropic's clients authenticate. */
export function post(url: string, key: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": key, "anthropic-version": "2023-06-01", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}
