// One closed set of error codes (contract/errors.ts): the pool's codes, the
// edge's table, and the tolerant reading of codes this edge does not know.
import { status as Status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, GRPC_STATUS_NAMES, isErrorCode, workerErrorCode } from "../../contract/errors.js";
import { ERROR_CODES as EDGE_TABLE } from "../../edge/errors.js";
import { decodeEntry } from "../../edge/streams/reader.js";

const errorEntry = (code: string | null) =>
  decodeEntry(["1-0", ["e", JSON.stringify({ type: "error", error: { status: 503, type: "server_error", code, message: "m" } })]]);

describe("error codes", () => {
  it("an unknown code from another pool version is read as upstream_error, status and message kept", () => {
    const { event } = errorEntry("worker_exploded");
    expect(event).toEqual({ type: "error", error: { status: 503, type: "server_error", code: "upstream_error", message: "m" } });
  });

  it("known codes and null pass through", () => {
    for (const code of ["no_workers", "worker_lost", "context_length_exceeded", "worker_unavailable", "cancelled"]) {
      expect(errorEntry(code).event).toMatchObject({ error: { code } });
    }
    expect(errorEntry(null).event).toMatchObject({ error: { code: null } });
  });

  it("every gRPC status but OK has its worker_ code", () => {
    const names = Object.keys(Status).filter((k) => isNaN(Number(k)) && k !== "OK");
    expect(names.map((n) => n.toLowerCase()).sort()).toEqual([...GRPC_STATUS_NAMES].sort());
    for (const n of names) expect(workerErrorCode(n)).toBe(`worker_${n.toLowerCase()}`);
  });

  it("the edge's OpenAI table only holds codes of the closed set", () => {
    for (const code of Object.keys(EDGE_TABLE)) expect(isErrorCode(code), code).toBe(true);
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  });
});
