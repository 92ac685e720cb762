// Fixtures of the agents end-to-end tests: two function tools with their JSON
// Schemas and validators, a full stack with a given simulated agent behaviour and
// an official openai client for it, and runTools-ready versions of the tools.
import { Ajv } from "ajv";
import OpenAI from "openai";
import type { RunnableToolFunctionWithParse } from "openai/lib/RunnableFunction";
import { startFullStack, type FullStack } from "../helpers/full-stack.js";

export const KEY = "sk-e2e-agents-0001";
export const ajv = new Ajv({ strict: false });

export const WEATHER_PARAMS = {
  type: "object",
  properties: { city: { type: "string" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } },
  required: ["city", "unit"],
  additionalProperties: false,
};
export const TIME_PARAMS = {
  type: "object",
  properties: { timezone: { type: "string" } },
  required: ["timezone"],
  additionalProperties: false,
};
export const TOOLS: OpenAI.Chat.ChatCompletionFunctionTool[] = [
  { type: "function", function: { name: "get_weather", description: "Current weather in a city", parameters: WEATHER_PARAMS } },
  { type: "function", function: { name: "get_time", description: "Current time in a timezone", parameters: TIME_PARAMS } },
];
export const validators: Record<string, (v: unknown) => boolean> = {
  get_weather: ajv.compile(WEATHER_PARAMS),
  get_time: ajv.compile(TIME_PARAMS),
};

export async function stackWith(sim: Record<string, unknown>): Promise<{ stack: FullStack; client: OpenAI }> {
  const stack = await startFullStack({ sim });
  await stack.seed({ tenantId: "agents", key: KEY });
  return { stack, client: new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: KEY, maxRetries: 0 }) };
}

export function runnerTools(calls: { name: string; args: unknown }[]): RunnableToolFunctionWithParse<object>[] {
  return TOOLS.map((t) => ({
    type: "function" as const,
    function: {
      name: t.function.name,
      description: t.function.description ?? "",
      parameters: t.function.parameters!,
      parse: (text: string): object => JSON.parse(text) as object,
      function: (args: unknown) => {
        calls.push({ name: t.function.name, args });
        return t.function.name === "get_weather" ? { temperature: 21, sky: "clear" } : { time: "14:05" };
      },
    },
  }));
}
