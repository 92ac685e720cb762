// The pool's status page shows what tenants send: beyond loopback it needs the
// admin token, and without one configured it stays closed there. Probes and
// scrapes stay open.
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { startStatusServer } from "../../pool/telemetry/status/http.js";
import type { StatusSnapshot } from "../../pool/telemetry/status/snapshot.js";

const snapshot = async () => ({}) as StatusSnapshot;

async function statuses(host: string, adminToken?: string, token?: string) {
  const server = await startStatusServer({ port: 0, host, registry: new Registry(), snapshot, adminToken });
  try {
    const get = async (path: string) => (await fetch(`http://127.0.0.1:${server.port}${path}${token ? `?token=${token}` : ""}`)).status;
    return { status: await get("/status"), json: await get("/status.json"), healthz: await get("/healthz"), metrics: await get("/metrics") };
  } finally {
    await server.close();
  }
}

describe("pool status page access", () => {
  it("on loopback without a token: open", async () => {
    expect(await statuses("127.0.0.1")).toEqual({ status: 200, json: 200, healthz: 200, metrics: 200 });
  });

  it("beyond loopback without a token: closed, probes and metrics open", async () => {
    expect(await statuses("0.0.0.0")).toEqual({ status: 401, json: 401, healthz: 200, metrics: 200 });
  });

  it("beyond loopback with a token: only with the token", async () => {
    const token = "admin-token-0123456789";
    expect(await statuses("0.0.0.0", token)).toEqual({ status: 401, json: 401, healthz: 200, metrics: 200 });
    expect(await statuses("0.0.0.0", token, token)).toEqual({ status: 200, json: 200, healthz: 200, metrics: 200 });
  });
});
