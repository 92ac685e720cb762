// Worker-thread entry: registers tsx (the bench runs from TypeScript sources) and hands piscina the thread's task.
import { register } from "tsx/esm/api";
register();
const thread = await import("./flood-thread.ts");
export default thread.default;
