// SubscribeKvEvents: relays the engine's KV batches to one subscriber.
// Like the real servicer: headers are sent at once (clients wait for them to
// know the subscription is live), `start_sequence_number` is ignored (no
// replay), `sequence_number` is the engine's publisher counter (starts at 1,
// +1 per batch, so a subscriber that joins late starts above 1), `event_id`
// restarts at 1 per subscription, `dp_rank` is 0.
import * as grpc from "@grpc/grpc-js";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  KvEventBatchSchema,
  KvCacheEventSchema,
  type KvEventBatch,
  type SubscribeKvEventsRequest,
} from "../contract/grpc/tokenspeed/common_pb.js";
import type { Engine, KvBatch } from "./engine.js";
import type { KvEvent } from "./kv-cache.js";
import { statusError } from "./generate.js";

type KvCall = grpc.ServerWritableStream<SubscribeKvEventsRequest, KvEventBatch>;

function toProtoEvent(e: KvEvent, eventId: bigint, blockSize: number): MessageInitShape<typeof KvCacheEventSchema> {
  switch (e.kind) {
    case "stored":
      return {
        eventId,
        data: {
          case: "stored",
          value: {
            parentBlockHash: e.parentBlockHash,
            blocks: e.blocks.map((b) => ({ blockHash: b.hash, tokenIds: b.tokenIds, blockSize })),
          },
        },
      };
    case "removed":
      return { eventId, data: { case: "removed", value: { blockHashes: e.blockHashes } } };
    case "cleared":
      return { eventId, data: { case: "cleared", value: {} } };
  }
}

export function handleSubscribeKvEvents(engine: Engine, enabled: boolean, subscribers: Set<KvCall>, call: KvCall): void {
  if (!enabled) {
    call.emit("error", statusError(grpc.status.UNIMPLEMENTED, "KV cache events are not enabled on this worker"));
    return;
  }
  call.sendMetadata(new grpc.Metadata());
  let eventId = 0n;
  const onBatch = (b: KvBatch) => {
    call.write(
      create(KvEventBatchSchema, {
        sequenceNumber: b.sequenceNumber,
        timestamp: b.timestamp,
        dpRank: 0,
        events: b.events.map((e) => toProtoEvent(e, ++eventId, engine.opts.blockSize)),
      }),
    );
  };
  const done = () => {
    engine.off("kv", onBatch);
    subscribers.delete(call);
  };
  engine.on("kv", onBatch);
  subscribers.add(call);
  call.on("cancelled", done);
  call.on("finish", done);
  call.on("error", done);
}
