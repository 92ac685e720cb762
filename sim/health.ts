// grpc.health.v1.Health for readiness probes (`ts serve`, Kubernetes, our pool):
// "" and the scheduler service name are known; anything else is NOT_FOUND.
// Watch sends the current status once and ends, like the real servicer.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import {
  Health,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../contract/grpc/grpc/health/v1/health_pb.js";
import { addService } from "../pool/workers/grpc-bridge.js";
import { statusError } from "./generate.js";

export const SCHEDULER_SERVICE = "tokenspeed.grpc.scheduler.TokenSpeedScheduler";

/** `statusOf` returns the status for a known service name, undefined for unknown ones. */
export function addHealthService(server: grpc.Server, statusOf: (service: string) => ServingStatus | undefined): void {
  addService(server, Health, {
    check(call, callback) {
      const status = statusOf(call.request.service);
      if (status === undefined) return callback(statusError(grpc.status.NOT_FOUND, "SERVICE_UNKNOWN"));
      callback(null, create(HealthCheckResponseSchema, { status }));
    },
    watch(call) {
      const status = statusOf(call.request.service) ?? ServingStatus.SERVICE_UNKNOWN;
      call.write(create(HealthCheckResponseSchema, { status }));
      call.end();
    },
  });
}

export { ServingStatus };
