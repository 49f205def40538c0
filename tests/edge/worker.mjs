// Runs a Worker script in workerd (through miniflare) for one test file. The script imports the
// package through `entry`: the file its exports map names for workerd, as a bundler would.
import { before, after } from "node:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { Miniflare } from "miniflare";
import { moduleWorkerOptions } from "../support/workerd.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(root, "pkg/package.json"), "utf8"));
/** The package's workerd entry, relative to the worker script in test-output/. */
export const entry = "../" + path.posix.join("pkg", pkg.exports["."].workerd);

/** Starts `script` (named `name`) before the file's tests with `options` (bindings); returns a
 * holder whose `mf` is the running Miniflare. */
export function worker(name, script, options = {}) {
  const held = { mf: null };
  before(async () => {
    const scriptPath = path.join(root, "test-output", `${name}.js`);
    mkdirSync(path.dirname(scriptPath), { recursive: true });
    writeFileSync(scriptPath, script);
    held.mf = new Miniflare({
      scriptPath,
      ...moduleWorkerOptions(root),
      ...options,
    });
    await held.mf.ready;
  });
  after(async () => {
    await held.mf?.dispose();
  });
  return held;
}
