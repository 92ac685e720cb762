// Worker-thread entry: registers tsx (the bench runs from TypeScript sources) and loads the thread's module.
import { register } from "tsx/esm/api";
register();
await import("./flood-thread.ts");
