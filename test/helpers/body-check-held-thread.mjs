// A body-check thread module for tests (edge/node/body-check.ts): the warm-up task
// (no models) passes at once; a task for model "hold" waits until the test posts
// "release" on the BroadcastChannel "body-check-test"; "throw" fails the task; "exit"
// kills the thread mid-task.
const channel = new BroadcastChannel("body-check-test");
let release;
const released = new Promise((resolve) => (release = resolve));
channel.onmessage = () => release();
channel.unref();

export default async function check(task) {
  const model = task.models[0]?.id;
  if (model === "hold") await released;
  if (model === "throw") throw new Error("thread failed");
  if (model === "exit") process.exit(1);
  return model === "refuse" ? { error: { code: "invalid_request", message: "refused by the test thread", param: "model" } } : {};
}
