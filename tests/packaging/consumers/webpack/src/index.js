// A webpack 5 app: `browser` condition, top-level await (on by default since 5.83), and the .wasm
// emitted as an asset through `new URL(…, import.meta.url)`.
import * as lib from "agent-sessions";
import { runScenario } from "./scenario.js";

runScenario(lib, { reopen: true }).then(
  (result) => (window.packagingResult = result),
  (e) => (window.packagingResult = { error: String(e?.stack ?? e) }),
);
