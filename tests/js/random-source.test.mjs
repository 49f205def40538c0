// Ids in Node come from the Node entry's source of random bytes (/dev/urandom through node:fs,
// installed with `__setRandomFill`), not from Web Crypto, which Node loads at the first touch of
// `globalThis.crypto` (milliseconds of a first `create()`); where the installed source throws,
// the module falls back on Web Crypto.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SessionStore } from "agent-sessions";
import { __setRandomFill } from "../../pkg/agent_sessions_server.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

test("a fresh Node process makes its ids without touching Web Crypto", () => {
  const script = `
    const own = Object.getOwnPropertyDescriptor(globalThis, "crypto");
    let touched = 0;
    Object.defineProperty(globalThis, "crypto", { configurable: true, enumerable: own.enumerable,
      get() { touched++; return own.get ? own.get.call(globalThis) : own.value; } });
    const { SessionStore } = await import("agent-sessions");
    const store = await SessionStore.open({ storage: { type: "memory" } });
    const ids = [];
    for (let i = 0; i < 400; i++) {
      const s = await store.create();
      ids.push(s.id, (await s.addMessage({ role: "user", content: "hi" })).id);
    }
    console.log(JSON.stringify({ touched, ids }));`;
  const out = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" }));
  assert.equal(out.touched, 0, "globalThis.crypto was read");
  // 400 sessions and 400 messages: more than one 4 KB refill of the pool.
  assert.equal(new Set(out.ids).size, 800);
  for (const [i, id] of out.ids.entries()) assert.match(id, i % 2 ? /^msg_[0-9a-f]{24}$/ : /^sess_[0-9a-f]{32}$/);
});

test("the installed source is the one ids come from, and Web Crypto stands in when it throws", async () => {
  __setRandomFill((bytes) => bytes.fill(7));
  const fixed = await SessionStore.open({ storage: { type: "memory" } });
  assert.equal((await fixed.create()).id, "sess_" + "07".repeat(16));

  let calls = 0;
  __setRandomFill(() => {
    calls++;
    throw new Error("no source here");
  });
  const fallback = await SessionStore.open({ storage: { type: "memory" } });
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await fallback.create()).id);
  assert.ok(calls >= 1);
  assert.equal(new Set(ids).size, 3);
  for (const id of ids) assert.match(id, /^sess_[0-9a-f]{32}$/);
  assert.notEqual(ids[0], "sess_" + "07".repeat(16));
});
