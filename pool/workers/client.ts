// A client for one TokenSpeed worker (wire §8.1). grpc-js errors become RpcError
// values here; nothing above this file sees a grpc-js exception.
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { createClient, type ServiceClient } from "./grpc-bridge.js";
import {
  TokenSpeedScheduler,
  GenerateRequestSchema,
  GenerateResponseSchema,
  type GenerateResponse,
  type GenerateStreamChunk,
  type GenerateComplete,
  type GetModelInfoResponse,
  type GetLoadsResponse,
} from "../../contract/grpc/tokenspeed/tokenspeed_scheduler_pb.js";
import type { KvEventBatch } from "../../contract/grpc/tokenspeed/common_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../contract/grpc/grpc/health/v1/health_pb.js";
import { err, ok, type Result } from "../../contract/result.js";
import { localRpcError, toRpcError, type RpcError } from "./rpc-error.js";
import type { BundleChunk } from "../tokenizer/bundle.js";

/** Channel options per wire §4.1: keepalive 30 s / 10 s even when idle, inbound limit raised from 4 MiB. */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.max_receive_message_length": 256 * 1024 * 1024,
  "grpc.initial_reconnect_backoff_ms": 200,
  "grpc.max_reconnect_backoff_ms": 5_000,
};

export type GenerateRequestInit = MessageInitShape<typeof GenerateRequestSchema>;

/** A frame handler's answer: nothing (keep reading) or "stop" (the caller is done with the call). */
export type FrameVerdict = void | "stop";

/** Per-frame handlers of a Generate call; they run synchronously as each frame arrives. */
export interface GenerateHandlers {
  chunk(chunk: GenerateStreamChunk): FrameVerdict;
  /** one per choice index (n>1 sends n of them) */
  complete(complete: GenerateComplete): FrameVerdict;
}

/** The :path a real TokenSpeed worker routes Generate on (wire §8.1). */
const GENERATE_PATH = `/${TokenSpeedScheduler.typeName}/${TokenSpeedScheduler.method.generate.name}`;

/** "grpc://host:port" and "http://host:port" -> "host:port" (plaintext only for now). */
export function grpcTarget(address: string): string {
  return address.replace(/^(grpc|http):\/\//, "");
}

export class WorkerClient {
  private readonly sched: ServiceClient<(typeof TokenSpeedScheduler)["method"]>;
  private readonly health: ServiceClient<(typeof Health)["method"]>;

  constructor(readonly address: string) {
    const target = grpcTarget(address);
    this.sched = createClient(TokenSpeedScheduler, target, CHANNEL_OPTIONS);
    this.health = createClient(Health, target, CHANNEL_OPTIONS);
  }

  /**
   * Runs a Generate call, handing each frame to `h` as it arrives. Resolves when the call
   * is over: with the worker's error (a status other than OK, possibly after some frames),
   * else undefined (the stream ended, a handler said "stop", or `signal` aborted).
   * A call stopped before its stream ended is cancelled AND sent a best-effort Abort,
   * since a worker may keep generating for an rid whose stream is merely gone (wire
   * §3.5, §7.5). A handler that throws ends the call the same way and rejects.
   *
   * The call is made on the channel itself (grpc-js's Channel.createCall, what its Client
   * builds every call on), with a listener, and each frame is decoded here: the Client's
   * readable stream and interceptor layer cost a Readable push, a nextTick and an emitted
   * event per token, on the pool's hottest path.
   */
  generate(req: GenerateRequestInit, h: GenerateHandlers, signal?: AbortSignal): Promise<RpcError | undefined> {
    if (signal?.aborted) return Promise.resolve(undefined);
    const rid = req.requestId ?? "";
    return new Promise((resolve, reject) => {
      const call = this.sched.raw.getChannel().createCall(GENERATE_PATH, Infinity, undefined, null, undefined);
      let ended = false;
      const end = (error: RpcError | undefined, thrown?: unknown) => {
        if (ended) return;
        ended = true;
        signal?.removeEventListener("abort", drop);
        if (thrown !== undefined) reject(thrown);
        else resolve(error);
      };
      // We stop before the stream ended: cancel it (its status is then ours, ignored) and Abort.
      const stopEarly = (thrown?: unknown) => {
        if (ended) return;
        end(undefined, thrown);
        call.cancelWithStatus(grpc.status.CANCELLED, "Cancelled on client");
        void this.abort(rid, "Stream dropped");
      };
      const drop = () => stopEarly();
      signal?.addEventListener("abort", drop, { once: true });
      call.start(new grpc.Metadata(), {
        onReceiveMetadata() {},
        onReceiveMessage(message: Buffer) {
          if (ended) return;
          let r: GenerateResponse["response"];
          try {
            r = fromBinary(GenerateResponseSchema, message).response;
          } catch (e) {
            // as grpc-js's own deserializing layer answers it: the call fails with INTERNAL
            call.cancelWithStatus(grpc.status.INTERNAL, `Response message parsing error: ${(e as Error).message}`);
            return;
          }
          let verdict: FrameVerdict = undefined;
          try {
            if (r.case === "chunk") verdict = h.chunk(r.value);
            else if (r.case === "complete") verdict = h.complete(r.value);
          } catch (e) {
            return stopEarly(e ?? new Error("a Generate frame handler threw"));
          }
          if (verdict === "stop") stopEarly();
          else call.startRead(); // the next frame
        },
        onReceiveStatus(status: grpc.StatusObject) {
          end(status.code === grpc.status.OK ? undefined : toRpcError(status));
        },
      });
      call.sendMessageWithContext({}, Buffer.from(toBinary(GenerateRequestSchema, create(GenerateRequestSchema, req))));
      call.halfClose();
      call.startRead();
    });
  }

  /** Fire-and-forget friendly: never rejects; AbortResponse.success is ignored on purpose. */
  async abort(requestId: string, reason: string): Promise<void> {
    try {
      await this.sched.abort({ requestId, reason }, { deadline: Date.now() + 5_000 });
    } catch {
      // best effort: the call is already cancelled
    }
  }

  async getModelInfo(timeoutMs = 5_000): Promise<Result<GetModelInfoResponse, RpcError>> {
    try {
      return ok(await this.sched.getModelInfo({}, { deadline: Date.now() + timeoutMs }));
    } catch (e) {
      return err(toRpcError(e));
    }
  }

  async getLoads(timeoutMs = 5_000): Promise<Result<GetLoadsResponse, RpcError>> {
    try {
      return ok(await this.sched.getLoads({ include: ["core", "queues", "memory"] }, { deadline: Date.now() + timeoutMs }));
    } catch (e) {
      return err(toRpcError(e));
    }
  }

  /** TokenSpeedScheduler/HealthCheck: a deep probe on real workers (runs a generation); call sparingly. */
  async healthCheck(timeoutMs = 5_000): Promise<Result<{ healthy: boolean; message: string }, RpcError>> {
    try {
      const r = await this.sched.healthCheck({}, { deadline: Date.now() + timeoutMs });
      return ok({ healthy: r.healthy, message: r.message });
    } catch (e) {
      return err(toRpcError(e));
    }
  }

  /** grpc.health.v1 Check: cheap readiness. True only for SERVING. */
  async ready(service = "", timeoutMs = 2_000): Promise<Result<boolean, RpcError>> {
    try {
      const r = await this.health.check({ service }, { deadline: Date.now() + timeoutMs });
      return ok(r.status === HealthCheckResponse_ServingStatus.SERVING);
    } catch (e) {
      return err(toRpcError(e));
    }
  }

  /** GetTokenizer chunks under one deadline covering the call and the whole stream. */
  async getTokenizerChunks(timeoutMs: number): Promise<Result<BundleChunk[], RpcError>> {
    const chunks: BundleChunk[] = [];
    let total = 0;
    const call = this.sched.getTokenizer({}, { deadline: Date.now() + timeoutMs });
    try {
      for await (const c of call as AsyncIterable<{ data: Uint8Array; sha256: string }>) {
        total += c.data.length;
        // Stop reading early rather than buffer an oversized bundle; assembleBundle rejects it.
        if (total > 200 * 1024 * 1024 + 1) {
          call.cancel();
          return err(localRpcError(grpc.status.RESOURCE_EXHAUSTED, "tokenizer bundle larger than 200 MiB"));
        }
        chunks.push({ data: c.data, sha256: c.sha256 });
      }
      return ok(chunks);
    } catch (e) {
      return err(toRpcError(e));
    }
  }

  /**
   * SubscribeKvEvents (long-lived server stream). Handlers: onLive once the response
   * headers arrived (the subscription is live), onBatch per KvEventBatch, onEnd exactly
   * once (error undefined = the stream ended cleanly or we cancelled it). Returns cancel().
   */
  subscribeKvEvents(
    startSequenceNumber: bigint,
    h: { onLive(): void; onBatch(b: KvEventBatch): void; onEnd(error: RpcError | undefined): void },
  ): () => void {
    const call = this.sched.subscribeKvEvents({ startSequenceNumber });
    let ended = false;
    let cancelled = false;
    const end = (e: RpcError | undefined) => {
      if (ended) return;
      ended = true;
      h.onEnd(e);
    };
    call.on("metadata", () => h.onLive());
    call.on("data", (b: KvEventBatch) => {
      if (!ended) h.onBatch(b);
    });
    call.on("error", (e: unknown) => end(cancelled ? undefined : toRpcError(e)));
    call.on("end", () => end(undefined));
    return () => {
      cancelled = true;
      call.cancel();
      end(undefined);
    };
  }

  close(): void {
    this.sched.close();
    this.health.close();
  }
}
