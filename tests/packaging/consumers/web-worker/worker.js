// A module Web Worker: the package's browser entry (top-level await, the .wasm by URL) inside it,
// with IndexedDB, the default storage there, read back through a second store.
import * as lib from "agent-sessions";
import { runScenario } from "./scenario.js";

runScenario(lib, { reopen: true }).then(
  (result) => postMessage({ ...result, inWorker: typeof WorkerGlobalScope === "function" && self instanceof WorkerGlobalScope }),
  (e) => postMessage({ error: String(e?.stack ?? e) }),
);
