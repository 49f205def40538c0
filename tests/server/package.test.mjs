// The server is its own entry and module: `agent-sessions/server` resolves per runtime, the
// browser module carries none of the server's code, and the package lists every server file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { root } from "./support.mjs";

const pkgDir = path.join(root, "pkg");
const pkg = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8"));

test("the exports map has a server entry per runtime, a bin, and yaml as the only dependency", () => {
  assert.deepEqual(pkg.exports["./server"], {
    types: "./server.d.ts", workerd: "./server-workerd.js", node: "./server-node.js", default: "./server.js",
  });
  assert.deepEqual(pkg.bin, { "agent-sessions": "./cli.js" });
  assert.deepEqual(Object.keys(pkg.dependencies), ["yaml"]);
  assert.match(pkg.dependencies.yaml, /^\d+\.\d+\.\d+$/, "exact-pinned");
  for (const f of pkg.files) assert.ok(existsSync(path.join(pkgDir, f)), `${f} is built`);
  for (const f of Object.values(pkg.exports["./server"])) assert.ok(pkg.files.includes(f.slice(2)), `${f} is in files`);
  assert.ok(readFileSync(path.join(pkgDir, "cli.js"), "utf8").startsWith("#!/usr/bin/env node\n"));
});

test("the browser module has none of the server's code; the browser entries never load yaml", () => {
  const browserGlue = readFileSync(path.join(pkgDir, "agent_sessions.js"), "utf8");
  const serverGlue = readFileSync(path.join(pkgDir, "agent_sessions_server.js"), "utf8");
  for (const name of ["serverRoute", "serverNormalizeConfig", "ServerRunBuffer"]) {
    assert.ok(!browserGlue.includes(name), `${name} is not in the browser module`);
    assert.ok(serverGlue.includes(name), `${name} is in the server module`);
  }
  const browserWasm = readFileSync(path.join(pkgDir, "agent_sessions_bg.wasm"));
  assert.equal(browserWasm.indexOf("METHOD_NOT_ALLOWED"), -1, "no server strings in the browser wasm");
  for (const entry of ["browser.js", "node.js", "workerd.js", "server-handler.js", "server-workerd.js", "server-durable-object.js"]) {
    assert.ok(!readFileSync(path.join(pkgDir, entry), "utf8").includes("yaml"), `${entry} does not import yaml`);
  }
});

test("the Node entry serves: createHandler answers a Request", async () => {
  const { createHandler } = await import("agent-sessions/server");
  const h = createHandler({ llms: { m: { type: "mock" } }, agents: { assistant: { llm: "m" } } });
  const c = await h(new Request("http://x/agents/assistant/sessions", { method: "POST" }));
  assert.equal(c.status, 201);
  const { session_id } = await c.json();
  const r = await h(new Request(`http://x/agents/assistant/sessions/${session_id}/messages`, {
    method: "POST", body: JSON.stringify({ message: "My name is Ada." }),
  }));
  assert.equal((await r.json()).message.content, "Nice to meet you, Ada! I'll remember that.");
  assert.throws(() => createHandler({ agents: { x: { llm: "nope" } } }), (e) => e.code === "INVALID_CONFIG" && /^agents\.x\.llm:/.test(e.message));
  await h.close();
});
