// The package itself: its exports map, its errors, and behaviour only JavaScript can observe.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as lib from "agent-sessions";

const pkgJson = JSON.parse(readFileSync(new URL("../../pkg/package.json", import.meta.url)));

test("the exports map names an entry per runtime and types", () => {
  const root = pkgJson.exports["."];
  for (const cond of ["types", "workerd", "node", "browser", "default"]) assert.ok(root[cond], cond);
  assert.ok(import.meta.resolve("agent-sessions").endsWith("/pkg/node.js"));
  assert.deepEqual(Object.keys(lib).filter((k) => /^[A-Z]/.test(k)).sort(), ["Agent", "Run", "Session", "SessionStore"]);
});

test("the public declarations never use `any`", () => {
  const dts = readFileSync(new URL("../../pkg/index.d.ts", import.meta.url), "utf8");
  assert.doesNotMatch(dts, /\bany\b/);
  assert.match(dts, /export class SessionStore/);
});

test("every module imports under short names: no wasm-bindgen hash is shipped (scripts/short-imports.mjs)", () => {
  for (const name of ["agent_sessions", "agent_sessions_store", "agent_sessions_server"]) {
    const module = new WebAssembly.Module(readFileSync(new URL(`../../pkg/${name}_bg.wasm`, import.meta.url)));
    const imports = WebAssembly.Module.imports(module);
    assert.ok(imports.length > 50, name);
    assert.deepEqual([...new Set(imports.map((i) => i.module))], ["a"], name);
    for (const i of imports) assert.match(i.name, /^[a-zA-Z]{1,2}$/, `${name}: ${i.name}`);
    const glue = readFileSync(new URL(`../../pkg/${name}.js`, import.meta.url), "utf8");
    assert.doesNotMatch(glue, /__wbg_[A-Za-z0-9_]*_[0-9a-f]{16}\b/, name);
  }
});

test("errors are Error instances named AgentSessionsError with a stable code", async () => {
  const store = await lib.SessionStore.open();
  await assert.rejects(store.create("   "), (e) => {
    assert.ok(e instanceof Error);
    assert.equal(e.name, "AgentSessionsError");
    assert.equal(e.code, "INVALID_ID");
    assert.equal(e.retryable, false);
    assert.match(e.message, /whitespace/);
    return true;
  });
  assert.throws(() => new lib.Agent({ storage: { type: "floppy" } }), { name: "AgentSessionsError", code: "INVALID_CONFIG" });
});

test("JSON.parse'd __proto__ metadata is refused and Object.prototype stays clean", async () => {
  const store = await lib.SessionStore.open();
  const evil = JSON.parse('{"__proto__": {"polluted": "yes"}, "fine": 1}');
  await assert.rejects(store.create("x", { metadata: evil }), { code: "INVALID_METADATA" });
  assert.equal({}.polluted, undefined);
  const s = await store.create("y", { metadata: { nested: { ok: true } } });
  const md = s.metadata;
  assert.equal(Object.getPrototypeOf(md), Object.prototype);
  md.nested.ok = false; // a copy: the store is not mutated through it
  assert.equal(s.metadata.nested.ok, true);
});

test("a session handle sees updates made through another handle", async () => {
  const store = await lib.SessionStore.open();
  const a = await store.create("shared");
  const b = await store.get("shared");
  await b.addMessage({ role: "user", content: "hi" });
  await b.update({ title: "Renamed" });
  assert.equal(a.messageCount, 1);
  assert.equal(a.title, "Renamed");
  await b.update({ title: null });
  assert.equal(a.title, null);
  assert.deepEqual(JSON.parse(JSON.stringify(a)).id, "shared");
});

test("storage keeps every session however small maxSessions is, and reloads evicted ones", async () => {
  const store = await lib.SessionStore.open({ sessions: { maxSessions: 2, sessionTTL: 60_000 } });
  for (let i = 0; i < 5; i++) {
    const s = await store.create(`s${i}`);
    await s.addMessage({ role: "user", content: `m${i}` });
  }
  assert.equal((await store.listSessions()).length, 5);
  const first = await store.get("s0");
  assert.deepEqual((await first.getHistory()).map((m) => m.content), ["m0"]);
});

test("retention deletes expired sessions on sweep and emits session:expired", async () => {
  const store = await lib.SessionStore.open({ retention: { expireAfter: 30 } });
  const expired = [];
  store.on("session:expired", (e) => expired.push(e.sessionId));
  await store.create("short-lived");
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(await store.sweep(), ["short-lived"]);
  assert.deepEqual(expired, ["short-lived"]);
  assert.equal(await store.get("short-lived"), null);
});

test("CommonJS callers load the same module (require(esm) on Node >= 20.19, else import())", async () => {
  const require = createRequire(import.meta.url);
  const viaImport = await import("agent-sessions");
  assert.equal(viaImport.SessionStore, lib.SessionStore);
  if (process.features.require_module) {
    // The Node entry has no top-level await, so require() can load it synchronously.
    assert.equal(require("agent-sessions").SessionStore, lib.SessionStore);
  }
});
