// The CLI entry: several ports in one process, the ready line, the admin
// endpoint, and a clean exit on SIGTERM.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { grpc } from "../../pool/workers/grpc-bridge.js";
import { collect, schedulerClient } from "./helpers.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

it("serves several ports, prints the ready line, takes faults over HTTP, exits 0 on SIGTERM", async () => {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "sim/main.ts", "--port", "0", "--port", "0", "--model", "cli-sim", "--decode-ms-per-token", "1", "--admin-port", "0"],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
  );
  try {
    const lines = createInterface({ input: child.stdout! });
    const [line] = (await once(lines, "line", { signal: AbortSignal.timeout(20_000) })) as [string];
    const ready = JSON.parse(line) as { ready: boolean; addresses: string[]; admin: string };
    expect(ready.ready).toBe(true);
    expect(ready.addresses).toHaveLength(2);
    expect(new Set(ready.addresses).size).toBe(2);

    const clients = ready.addresses.map((a) => schedulerClient(a));
    for (const c of clients) expect((await c.getModelInfo({})).servedModelName).toBe("cli-sim");

    const port1 = Number(ready.addresses[1].split(":").at(-1));
    const res = await fetch(`${ready.admin}/fault`, {
      method: "POST",
      body: JSON.stringify({ kind: "failBeforeFirstToken", n: 1, port: port1 }),
    });
    expect(res.status).toBe(200);
    const gen = (c: (typeof clients)[number], requestId: string) =>
      collect(c.generate({ requestId, tokenized: { inputIds: [1, 2, 3] }, samplingParams: { maxNewTokens: 3 }, stream: true }));
    expect((await gen(clients[1], "a")).error?.code).toBe(grpc.status.UNAVAILABLE);
    expect((await gen(clients[0], "b")).error).toBeUndefined();
    const stats = (await (await fetch(`${ready.admin}/stats`)).json()) as { address: string }[];
    expect(stats.map((s) => s.address)).toEqual(ready.addresses);

    for (const c of clients) c.close();
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});
