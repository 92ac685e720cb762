// The body-check threads' pool on the edge's side (edge/node/body-check.ts), with real
// threads running a test module that can hold, fail or kill a task: a full queue is
// refused with a retryable 503, and a thread that fails or dies leaves the decision to
// the route (the check passes) instead of failing the request.
import { afterEach, expect, it } from "vitest";
import { ThreadBodyChecker } from "../../edge/node/body-check.js";
import { EdgeError } from "../../edge/errors.js";
import type { ServedModel } from "../../edge/models.js";

const ENTRY = new URL("../helpers/body-check-held-thread.mjs", import.meta.url).href;
const body = new TextEncoder().encode(JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }));
const model = (id: string): ServedModel[] => [{ id, created: 0, contextLength: 32768 }];

let checker: ThreadBodyChecker | undefined;
afterEach(async () => {
  new BroadcastChannel("body-check-test").postMessage("release"); // frees held tasks so the pool can close
  await checker?.close();
  checker = undefined;
});

it("refuses a body with a retryable 503 once every thread and its queue are taken, and checks again once they free up", async () => {
  checker = new ThreadBodyChecker(1, 1, ENTRY);
  await checker.warm();
  // one task runs, 16 wait: the queue's bound for one thread
  const held = Array.from({ length: 17 }, () => checker!.check("chat", body, model("hold")));
  const refused = await checker.check("chat", body, model("hold")).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(refused).toBeInstanceOf(EdgeError);
  expect((refused as EdgeError).status).toBe(503);
  expect((refused as EdgeError).code).toBe("service_unavailable");
  expect((refused as EdgeError).retryAfterS).toBe(1);

  new BroadcastChannel("body-check-test").postMessage("release");
  await expect(Promise.all(held)).resolves.toHaveLength(17);
  await expect(checker.check("chat", body, model("refuse"))).rejects.toMatchObject({ code: "invalid_request", param: "model" });
  expect(checker.refused).toBe(1);
});

it("passes a body to the route when its thread throws or dies, and keeps checking with a new thread", async () => {
  checker = new ThreadBodyChecker(1, 1, ENTRY);
  await checker.warm();
  await expect(checker.check("chat", body, model("throw"))).resolves.toBeUndefined();
  await expect(checker.check("chat", body, model("exit"))).resolves.toBeUndefined();
  expect(checker.refused).toBe(0);
  expect(checker.failed).toBe(2);
  // piscina replaced the dead thread: refusals still come from a thread
  await expect(checker.check("chat", body, model("refuse"))).rejects.toMatchObject({ code: "invalid_request" });
  expect(checker.refused).toBe(1);
});
