// One tokenization thread: loads the model's tokenizer once, then renders and
// encodes prompts (pool/run/prompt.ts) sent by prompt-threads.ts, so the pool's
// event loop never runs a chat template or BPE for a large prompt.
import { parentPort, workerData } from "node:worker_threads";
import type { Job } from "../../contract/queue/messages.js";
import { renderPrompt } from "../run/prompt.js";
import type { PromptBoundsData } from "../../contract/prompt-bounds.js";
import { loadModelTokenizer } from "./model-tokenizer.js";
import { lowerThisThreadPriority } from "../../contract/node/thread-priority.js";

export interface ThreadInit {
  files: [string, Uint8Array][];
  extraEosIds: number[];
  boundsData: PromptBoundsData;
}
export interface ThreadJob {
  id: number;
  job: Job;
  contextLength: number | undefined;
}

// One tenant's long prompt must not take the CPU from the event loop that streams
// every other request's tokens.
lowerThisThreadPriority();

const init = workerData as ThreadInit;
const tok = loadModelTokenizer(new Map(init.files), init.extraEosIds, init.boundsData);
if (!tok.ok) throw new Error(tok.error);
const t = tok.value;
parentPort!.on("message", (m: ThreadJob) => {
  const result = renderPrompt(m.job, t, m.contextLength);
  parentPort!.postMessage({ id: m.id, result, stats: t.cacheStats() });
});
parentPort!.postMessage({ ready: true });
