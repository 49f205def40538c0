// The storage conformance suite (tests/store_contract, through tests/sql_workerd.rs) inside
// workerd, on a real SQLite-backed Durable Object and a real D1 binding. wasm-bindgen-test has no
// workerd runner, so this does its job: builds the test binary, binds it with `wasm-bindgen
// --target web`, and runs its tests inside a Durable Object (miniflare) with wasm-bindgen-test's
// own test context, which prints the usual report.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { moduleWorkerOptions } from "../support/workerd.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const out = path.join(root, "test-output", "sql-workerd");
const cargoBin = path.join(homedir(), ".cargo", "bin");
const env = { ...process.env, PATH: `${cargoBin}:${process.env.PATH}` };

function build() {
  const messages = execFileSync(
    "cargo",
    ["build", "--target", "wasm32-unknown-unknown", "--test", "sql_workerd", "--message-format=json"],
    { cwd: root, env, maxBuffer: 1 << 28, timeout: 900_000, stdio: ["ignore", "pipe", "inherit"] },
  ).toString();
  const wasm = messages
    .split("\n")
    .filter((l) => l.includes('"reason":"compiler-artifact"') && l.includes("sql_workerd"))
    .flatMap((l) => JSON.parse(l).filenames)
    .find((f) => f.endsWith(".wasm"));
  assert.ok(wasm, "the test binary was built");
  rmSync(out, { recursive: true, force: true });
  execFileSync("wasm-bindgen", ["--target", "web", "--out-dir", out, "--out-name", "t", wasm], { env, timeout: 300_000 });
}

const worker = `
import module from "./t_bg.wasm";
import * as bindings from "./t.js";

export class Runner {
  constructor(ctx, env) { this.ctx = ctx; this.env = env; }
  async fetch() {
    const lines = [];
    globalThis.__wbgtest_og_console_log = (...a) => lines.push(a.join(" "));
    globalThis.__wbgtest_og_console_error = (...a) => lines.push(a.join(" "));
    globalThis.__wbg_test_invoke = (f) => f();
    globalThis.__wbg_test_output_writeln = (s) => lines.push(s);
    globalThis.__agentSessionsTestHost = { storage: this.ctx.storage, d1: this.env.DB };
    const exports = bindings.initSync({ module });
    const cx = new bindings.WasmBindgenTestContext(false);
    const tests = Object.keys(exports).filter((n) => n.startsWith("__wbgt_")).map((n) => exports[n]);
    const ok = await cx.run(tests);
    return Response.json({ ok, count: tests.length, report: lines.join("\\n") });
  }
}

export default {
  fetch(request, env) { return env.RUNNER.get(env.RUNNER.idFromName("contract")).fetch(request); },
};
`;

test("the conformance suite passes on Durable Object SQLite and D1 inside workerd", { timeout: 1_200_000 }, async () => {
  build();
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, "worker.js"), worker);
  const mf = new Miniflare({
    scriptPath: path.join(out, "worker.js"),
    ...moduleWorkerOptions(out),
    durableObjects: { RUNNER: { className: "Runner", useSQLite: true } },
    d1Databases: ["DB"],
  });
  try {
    const res = await mf.dispatchFetch("http://w/run");
    const text = await res.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      assert.fail(`the runner failed (${res.status}): ${text.slice(0, 4000)}`);
    }
    const summary = body.report.split("\n").filter((l) => /^test result/.test(l) || /\.\.\. (FAIL|fail)/.test(l));
    console.log(summary.join("\n"));
    assert.equal(body.count, 39, "13 cases on each of 3 hosts");
    assert.equal(body.ok, true, body.report);
  } finally {
    await mf.dispose();
  }
});
