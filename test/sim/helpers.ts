// Shared helpers for the simulated-worker tests: typed clients and stream collection.
import { once } from "node:events";
import { createClient, grpc } from "../../pool/workers/grpc-bridge.js";
import { TokenSpeedScheduler, type GenerateResponse } from "../../contract/grpc/tokenspeed/tokenspeed_scheduler_pb.js";
import { Health } from "../../contract/grpc/grpc/health/v1/health_pb.js";


export function schedulerClient(address: string) {
  return createClient(TokenSpeedScheduler, address);
}

export function healthClient(address: string) {
  return createClient(Health, address);
}

export interface Collected<T> {
  frames: T[];
  error?: grpc.ServiceError;
}

/** Reads a server stream to its end; a non-OK status is returned, not thrown. */
export async function collect<T>(stream: grpc.ClientReadableStream<T>): Promise<Collected<T>> {
  const frames: T[] = [];
  try {
    for await (const f of stream) frames.push(f as T);
  } catch (err) {
    return { frames, error: err as grpc.ServiceError };
  }
  return { frames };
}

/** Resolves with the next `n` frames of a stream (leaves the stream open). */
export function nextFrames<T>(stream: grpc.ClientReadableStream<T>, n: number): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const got: T[] = [];
    const onData = (f: T) => {
      got.push(f);
      if (got.length >= n) {
        cleanup();
        resolve(got);
      }
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const onEnd = () => {
      cleanup();
      reject(new Error(`stream ended after ${got.length} of ${n} frames`));
    };
    const cleanup = () => {
      stream.off("data", onData);
      stream.off("error", onError);
      stream.off("end", onEnd);
    };
    stream.on("data", onData);
    stream.on("error", onError);
    stream.on("end", onEnd);
  });
}

export interface ChoiceResult {
  /** Concatenated chunk deltas. */
  streamed: number[];
  chunks: Extract<GenerateResponse["response"], { case: "chunk" }>["value"][];
  complete?: Extract<GenerateResponse["response"], { case: "complete" }>["value"];
}

/** Groups Generate frames by choice index. */
export function byChoice(frames: GenerateResponse[]): Map<number, ChoiceResult> {
  const out = new Map<number, ChoiceResult>();
  const get = (i: number) => {
    let c = out.get(i);
    if (!c) out.set(i, (c = { streamed: [], chunks: [] }));
    return c;
  };
  for (const f of frames) {
    if (f.response.case === "chunk") {
      const c = get(f.response.value.index);
      c.chunks.push(f.response.value);
      c.streamed.push(...f.response.value.tokenIds);
    } else if (f.response.case === "complete") {
      const c = get(f.response.value.index);
      if (c.complete) throw new Error(`two completes for index ${f.response.value.index}`);
      c.complete = f.response.value;
    }
  }
  return out;
}

/** Waits for an event on an emitter, with a timeout so a missing event fails the test instead of hanging it. */
export async function waitEvent(emitter: NodeJS.EventEmitter, name: string, ms = 5000): Promise<unknown[]> {
  return (await once(emitter, name, { signal: AbortSignal.timeout(ms) })) as unknown[];
}

export function deadline(ms: number): Date {
  return new Date(Date.now() + ms);
}

/** Cancels client calls and resolves once the worker has emitted "cancel" for every one of their request ids. */
export async function cancelAndWait(events: NodeJS.EventEmitter, calls: { call: grpc.ClientReadableStream<unknown>; requestId: string }[], ms = 5000): Promise<void> {
  const pending = new Set(calls.map((c) => c.requestId));
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no cancel event for ${[...pending].join(",")}`)), ms);
    const on = (rid: string) => {
      pending.delete(rid);
      if (!pending.size) {
        clearTimeout(timer);
        events.off("cancel", on);
        resolve();
      }
    };
    events.on("cancel", on);
  });
  for (const c of calls) c.call.cancel();
  await done;
}
