// Fetches the model's tokenizer from a worker with GetTokenizer (wire §3.9), exactly
// as a TokenSpeed worker serves it: one ZIP streamed in chunks, digest on the last.
import type { WorkerClient } from "../workers/client.js";
import { err, type Result } from "../../contract/result.js";
import { assembleBundle, unzipBundle, type BundleChunk } from "./bundle.js";
import { loadModelTokenizer, type ModelTokenizer } from "./model-tokenizer.js";

/** One deadline for the call and the whole stream, as smg does. */
export const TOKENIZER_FETCH_TIMEOUT_MS = 120_000;

export async function fetchTokenizer(
  worker: WorkerClient,
  extraEosIds: readonly number[] = [],
  timeoutMs = TOKENIZER_FETCH_TIMEOUT_MS,
): Promise<Result<ModelTokenizer>> {
  const chunks = await worker.getTokenizerChunks(timeoutMs);
  if (!chunks.ok) return err(`GetTokenizer from ${worker.address}: ${chunks.error.message}`);
  return tokenizerFromChunks(chunks.value, extraEosIds);
}

/** Verifies, unzips and loads a chunk list (split out so it can be tested without a worker). */
export function tokenizerFromChunks(chunks: readonly BundleChunk[], extraEosIds: readonly number[] = []): Result<ModelTokenizer> {
  const zip = assembleBundle(chunks);
  if (!zip.ok) return zip;
  const files = unzipBundle(zip.value);
  if (!files.ok) return files;
  return loadModelTokenizer(files.value, extraEosIds);
}
