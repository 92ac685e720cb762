// A body-check thread's task (edge/node/body-check.ts): parse a large body, build its
// internal request as its route would and check that it can fit the model's context.
// Answers the error the route would throw, or nothing when the route must decide (a
// body that passes, an unknown model, anything unexpected).
import { parseJson } from "../api/read-json.js";
import { decodeUtf8Node } from "./utf8.js";
import { BODY_REQUESTS, type BodyKind } from "../api/body-requests.js";
import { checkFits } from "../api/prompt-fit.js";
import { EdgeError } from "../errors.js";
import { compileBounds } from "../models.js";
import type { PromptBoundsData } from "../../contract/prompt-bounds.js";
import { isMainThread } from "node:worker_threads";
import { lowerThisThreadPriority } from "../../contract/node/thread-priority.js";

// A flood of large bodies from one tenant must not take the CPU from the event loop
// that admits and streams everyone else's requests (tests load this module on theirs).
if (!isMainThread) lowerThisThreadPriority();

export interface ModelLimits {
  id: string;
  contextLength?: number;
  maxTokenBytes?: number;
  boundsData?: PromptBoundsData;
}

export interface BodyCheckTask {
  kind: BodyKind;
  bytes: Uint8Array;
  models: readonly ModelLimits[];
}

export interface BodyCheckVerdict {
  error?: { code: EdgeError["code"]; message: string; param: string | null };
}

export default function checkBody(task: BodyCheckTask): BodyCheckVerdict {
  try {
    const kind = BODY_REQUESTS[task.kind];
    const req = kind.request(parseJson(task.bytes, decodeUtf8Node));
    const model = req && task.models.find((m) => m.id === req.model);
    if (req && model) {
      const bounds = model.boundsData ? compileBounds(JSON.stringify(model.boundsData), model.boundsData) : undefined;
      checkFits(req, { contextLength: model.contextLength, maxTokenBytes: model.maxTokenBytes, bounds }, kind.fit);
    }
    return {};
  } catch (err) {
    if (err instanceof EdgeError) return { error: { code: err.code, message: err.message, param: err.param } };
    return {};
  }
}
