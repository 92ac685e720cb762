// What each API's request body becomes before it is submitted: its refusals, its schema
// and its translation to the internal request, one entry per kind of body, with the
// body fields a context-length refusal names. The routes build their requests from
// these, and the Node edge's body-check threads (edge/node/body-check.ts) run the same
// ones on large bodies, so a refusal decided off the event loop reads exactly as the
// route's would.
import type { InternalRequest } from "./internal-request.js";
import type { FitParams } from "./prompt-fit.js";
import { chatRequest, completionRequest } from "../openai/requests.js";
import { ChatCompletionRequestSchema, CompletionRequestSchema, parseBody } from "../openai/schemas.js";
import { refuseUnsupportedChat, refuseUnsupportedCompletion } from "../openai/unsupported.js";
import { countTokensRequest, messagesRequest } from "../anthropic/requests.js";
import { CountTokensRequestSchema, MessagesRequestSchema } from "../anthropic/schemas.js";
import { refuseUnsupportedMessages } from "../anthropic/unsupported.js";
import { responsesRequest } from "../responses/request.js";
import { ResponsesRequestSchema, refuseUnsupportedResponses, type ResponsesRequest } from "../responses/schema.js";

export type BodyKind = "chat" | "completion" | "messages" | "count_tokens" | "responses";

export interface BodyRequest {
  /** The internal request, or undefined when only the route can tell (it needs stored state). Throws EdgeError. */
  request(body: unknown): InternalRequest | undefined;
  fit: FitParams;
}

/** A Responses body, validated (the route goes on from here with its stored conversation). */
export function parseResponsesBody(body: unknown): ResponsesRequest {
  refuseUnsupportedResponses(body);
  return parseBody(ResponsesRequestSchema, body);
}

export const BODY_REQUESTS: Record<BodyKind, BodyRequest> = {
  chat: {
    request(body) {
      refuseUnsupportedChat(body);
      return chatRequest(parseBody(ChatCompletionRequestSchema, body));
    },
    fit: { maxTokensParam: "max_tokens" },
  },
  completion: {
    request(body) {
      refuseUnsupportedCompletion(body);
      return completionRequest(parseBody(CompletionRequestSchema, body));
    },
    fit: { maxTokensParam: "max_tokens" },
  },
  messages: {
    request(body) {
      refuseUnsupportedMessages(body);
      return messagesRequest(parseBody(MessagesRequestSchema, body));
    },
    fit: { maxTokensParam: "max_tokens" },
  },
  count_tokens: {
    request(body) {
      refuseUnsupportedMessages(body);
      return countTokensRequest(parseBody(CountTokensRequestSchema, body));
    },
    fit: { maxTokensParam: "max_tokens" },
  },
  responses: {
    // Without the stored conversation a previous_response_id continues (the route reads
    // it): this request's own input alone still bounds the prompt from below, but an
    // empty one is only valid with the stored part.
    request(body) {
      const req = parseResponsesBody(body);
      if (req.previous_response_id && typeof req.input !== "string" && req.input.length === 0) return undefined;
      return responsesRequest(req, "resp_bodycheck", [], 0).req;
    },
    fit: { maxTokensParam: "max_output_tokens", promptParam: "input" },
  },
};
