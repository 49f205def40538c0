// Crash safety: the browser is killed with SIGKILL (its whole process group: no shutdown, no
// flush) while a page appends to a session in a loop, and again while a reply streams. Relaunched
// on the same profile, every append that resolved is there, the streamed reply is there marked
// `interrupted`, and nothing is duplicated or torn.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM, routeHarness, servedOrigin } from "./browser.mjs";
import { SessionStore, Agent } from "agent-sessions";

const APPEND_KILLS = 10;
const STREAM_KILLS = 6;

const served = servedOrigin();
// A profile per round: each round is a crash and a relaunch on its own data, so what a round
// checks does not also depend on how Chromium recovered the rounds before it.
const profiles = [];
after(() => profiles.forEach((p) => rmSync(p, { recursive: true, force: true })));
function newProfile() {
  const p = mkdtempSync(path.join(tmpdir(), "agent-sessions-crash-"));
  profiles.push(p);
  return p;
}

/** Starts Chromium on `profile` in its own process group and connects over CDP. */
async function launch(profile) {
  const child = spawn(CHROMIUM, [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update", "--remote-debugging-port=0",
    `--user-data-dir=${profile}`, "about:blank",
  ], { detached: true, stdio: ["ignore", "ignore", "pipe"] });
  const ws = await new Promise((ok, fail) => {
    let err = "";
    const timer = setTimeout(() => fail(new Error(`chromium did not start: ${err}`)), 20_000);
    child.stderr.on("data", (d) => {
      err += d;
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) { clearTimeout(timer); ok(m[1]); }
    });
    child.on("exit", (code) => fail(new Error(`chromium exited (${code}): ${err}`)));
  });
  const browser = await chromium.connectOverCDP(ws);
  const context = browser.contexts()[0];
  const page = await context.newPage();
  // A blank page on the server's origin (IndexedDB is per origin); the package is at /pkg/.
  await routeHarness(page, served.origin);
  await page.goto(`${served.origin}/harness.html`);
  const exited = new Promise((ok) => child.on("exit", ok));
  return {
    page,
    async kill() {
      process.kill(-child.pid, "SIGKILL");
      await exited;
      await browser.close().catch(() => {});
    },
    async close() {
      await browser.close().catch(() => {});
      try { process.kill(-child.pid, "SIGKILL"); } catch {}
      await exited;
    },
  };
}

/** Resolves once `count` console lines matching `re` have been seen; returns them. */
function waitForLines(page, re, count, timeoutMs = 20_000) {
  const seen = [];
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`saw ${seen.length}/${count} ${re}`)), timeoutMs);
    page.on("console", (msg) => {
      const m = re.exec(msg.text());
      if (!m) return;
      seen.push(m);
      if (seen.length === count) { clearTimeout(timer); ok(seen); }
    });
  });
}

async function readSession(profile, id) {
  const b = await launch(profile);
  try {
    return await b.page.evaluate(async (id) => {
      const { SessionStore } = await import("/pkg/browser.js");
      const store = await SessionStore.open({ storage: { type: "indexeddb", name: "crash" } });
      const s = await store.get(id);
      if (s) return { count: s.messageCount, history: await s.getHistory() };
      // What the browser kept instead, so a failure says whether the origin's data was reset.
      const databases = (await indexedDB.databases()).map((d) => d.name);
      const sessions = await store.listSessions();
      return { missing: true, databases, sessions, estimate: await navigator.storage.estimate() };
    }, id);
  } finally {
    await b.close();
  }
}

test(`appends that resolved survive SIGKILL (${APPEND_KILLS} kills)`, async () => {
  for (let round = 0; round < APPEND_KILLS; round++) {
    const id = `loop-${round}`;
    const profile = newProfile();
    const b = await launch(profile);
    const acks = [];
    b.page.on("console", (msg) => {
      const m = /^ACK (\d+)$/.exec(msg.text());
      if (m) acks.push(Number(m[1]));
    });
    // Kill after a varying number of acknowledged appends.
    const target = 5 + round * 7;
    const enough = waitForLines(b.page, /^ACK (\d+)$/, target);
    b.page.evaluate(async (id) => {
      const { SessionStore } = await import("/pkg/browser.js");
      const store = await SessionStore.open({ storage: { type: "indexeddb", name: "crash" } });
      const s = await store.create(id);
      for (let i = 0; ; i++) {
        await s.addMessage({ role: "user", content: `message ${i} ${"x".repeat(i % 50)}` });
        console.log(`ACK ${i}`);
      }
    }, id).catch(() => {});
    await enough;
    await b.kill();

    const after = await readSession(profile, id);
    assert.ok(!after.missing, `round ${round}: the session is gone; the browser kept ${JSON.stringify(after)}`);
    const { history, count } = after;
    const maxAck = Math.max(...acks);
    assert.ok(history.length >= maxAck + 1, `round ${round}: ${history.length} stored, ${maxAck + 1} acknowledged`);
    assert.equal(count, history.length, `round ${round}: record count vs messages`);
    history.forEach((m, i) => {
      assert.equal(m.content, `message ${i} ${"x".repeat(i % 50)}`, `round ${round}: message ${i} torn or out of order`);
      assert.equal(m.status, "complete");
      if (i > 0) assert.ok(m.seq > history[i - 1].seq);
    });
  }
});

test(`a reply streaming when the browser dies is kept as interrupted (${STREAM_KILLS} kills)`, async () => {
  const prompt = "Please tell me everything you can about the sea, the tides and the moon.";
  for (let round = 0; round < STREAM_KILLS; round++) {
    const id = `stream-${round}`;
    // The whole reply the mock gives this history, computed in Node for comparison.
    const ref = await SessionStore.open();
    const refAgent = new Agent({ name: "bot", llm: { provider: "mock" }, store: ref });
    await refAgent.start();
    await ref.create(id);
    let full = "";
    let deltas = 0;
    for await (const ev of refAgent.stream(prompt, { sessionId: id })) {
      if (ev.type === "delta") deltas++;
      if (ev.type === "done") full = ev.result.content;
    }
    // Kill after a different number of deltas each round, never past the first half of the
    // reply: the rest (half the reply at 40 ms a chunk) is the margin, so the kill always lands
    // mid-stream however slow the machine is.
    const killAfter = 1 + Math.floor((round * Math.floor(deltas / 2)) / STREAM_KILLS);

    const profile = newProfile();
    const b = await launch(profile);
    const stored = waitForLines(b.page, /^STORED$/, 1);
    const seen = waitForLines(b.page, /^DELTA$/, killAfter);
    b.page.evaluate(async ({ id, prompt }) => {
      const { SessionStore, Agent } = await import("/pkg/browser.js");
      const store = await SessionStore.open({ storage: { type: "indexeddb", name: "crash" } });
      store.on("message:added", (e) => { if (e.message.role === "assistant") console.log("STORED"); });
      const agent = new Agent({ name: "bot", llm: { provider: "mock", chunkDelayMs: 40 }, store });
      await agent.start();
      await store.create(id);
      for await (const ev of agent.stream(prompt, { sessionId: id })) {
        if (ev.type === "delta") console.log("DELTA");
      }
      console.log("DONE");
    }, { id, prompt }).catch(() => {});
    await stored;
    await seen;
    await b.kill();

    const after = await readSession(profile, id);
    assert.ok(!after.missing, `round ${round}: the session is gone; the browser kept ${JSON.stringify(after)}`);
    const { history } = after;
    assert.deepEqual(history.map((m) => m.role), ["user", "assistant"], `round ${round}`);
    assert.equal(history[0].content, prompt);
    const reply = history[1];
    assert.equal(reply.status, "interrupted", `round ${round}: ${reply.status}`);
    assert.ok(reply.content.length > 0 && reply.content.length < full.length, `round ${round}: ${reply.content.length}/${full.length}`);
    assert.ok(full.startsWith(reply.content), `round ${round}: stored text is not a prefix of the reply`);
  }
});
