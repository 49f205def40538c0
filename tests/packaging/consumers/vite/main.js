// A Vite app: the bundler resolves the package's `browser` entry and emits the .wasm as an asset.
import * as lib from "agent-sessions";
import { runScenario } from "./scenario.js";

runScenario(lib, { reopen: true }).then(
  (result) => (window.packagingResult = result),
  (e) => (window.packagingResult = { error: String(e?.stack ?? e) }),
);
