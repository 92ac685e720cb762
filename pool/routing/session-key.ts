// The conversation key for session affinity. The Job carries no OpenAI `user` field
// (the edge does not forward it), so the key is derived from what stays the same
// across the turns of one conversation:
// - chat: the messages up to and including the first user message (system prompt +
//   opening question). Later turns append to the history, so the key is stable; two
//   conversations that share a system prompt but start differently get different keys;
// - completion: the first 256 prompt tokens (smg prefix_hash's prefix_token_count).
import { createHash } from "node:crypto";
import type { Job } from "../../contract/queue/messages.js";

export const SESSION_PREFIX_TOKENS = 256;

export function sessionKeyOf(job: Job, promptIds: readonly number[]): string {
  const h = createHash("sha256");
  if (job.kind === "chat" && job.messages?.length) {
    const firstUser = job.messages.findIndex((m) => m.role === "user");
    const head = job.messages.slice(0, firstUser < 0 ? 1 : firstUser + 1);
    h.update(`${job.tenant_id}\0chat\0`);
    for (const m of head) h.update(`${m.role}\0${m.content ?? ""}\0`);
  } else {
    h.update(`${job.tenant_id}\0ids\0`);
    h.update(Uint32Array.from(promptIds.slice(0, SESSION_PREFIX_TOKENS)));
  }
  return h.digest("base64url").slice(0, 22);
}
