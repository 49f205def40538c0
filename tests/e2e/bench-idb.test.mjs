// The IndexedDB benchmark (bench/idb.mjs) once, in short mode, in Chromium and Firefox: it runs
// and prints its table. Timings are not asserted (the figures come from the benchmark command).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

test("bench/idb.mjs runs in short mode in Chromium and Firefox", async () => {
  const script = fileURLToPath(new URL("../../bench/idb.mjs", import.meta.url));
  const out = await new Promise((ok, fail) => {
    execFile(process.execPath, [script], {
      env: { ...process.env, N: "30", ROUNDS: "1", RESTORES: "1", BROWSERS: "chromium,firefox" },
      timeout: 240_000,
    }, (e, stdout, stderr) => (e ? fail(new Error(`${e.message}\n${stderr}`)) : ok(stdout)));
  });
  for (const b of ["chromium", "firefox"]) assert.match(out, new RegExp(`^\\| ${b} \\| [0-9.]+ ms \\| [0-9.]+ ms \\| [0-9.]+× \\|`, "m"));
});
