// The API served by `agent-sessions serve` (the package's bin) in Node, over node:http, with
// sessions in a SQLite file: the shared cases, the seed's curl sequence, restart, graceful
// shutdown, config errors, the rate-limit hook, the Dexto /chat pattern, a small load run.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { writeFileSync } from "node:fs";
import { apiCases } from "./api.cases.mjs";
import { a2aCases } from "./a2a.cases.mjs";
import { runSeedCurls } from "./seed-curl.mjs";
import { cleanup, client, node22, openStream, root, startNode, tempDir, testConfig, TOKENS } from "./support.mjs";
import { loadRun } from "../../bench/server/load.mjs";
import * as ai from "ai";
import { SessionStore } from "agent-sessions";
import { chatStore } from "agent-sessions/ai-sdk";
import { tablePrefix } from "../../pkg/server-node-storage.js";
import { chatClass } from "../support/ai-sdk-chat.mjs";

const config = testConfig({ cors: { origins: ["https://app.example"] } });

describe("node: the API", () => {
  let srv;
  let dir;
  before(async () => {
    dir = tempDir("node");
    srv = await startNode({ config, dir });
  });
  after(async () => {
    await srv?.stop();
    cleanup(dir);
  });
  apiCases(test, () => srv);
  a2aCases(test, () => srv);

  test("AI SDK chat: chatStore over the server's own database loads the chat DefaultChatTransport built", async () => {
    const Chat = chatClass(ai);
    const transport = new ai.DefaultChatTransport({ api: `${srv.url}/agents/assistant/chat`, headers: { authorization: `Bearer ${TOKENS.a}` } });
    const chat = new Chat({ id: `chat-${process.pid}`, transport });
    await chat.sendMessage({ text: "My name is Sarah." });
    await chat.sendMessage({ text: "What is my name?" });
    assert.equal(chat.error, undefined, String(chat.error));
    const storage = { type: "sqlite", path: path.join(dir, "sessions.db"), prefix: tablePrefix("a", "assistant") };
    const store = await SessionStore.open({ storage });
    try {
      assert.deepEqual(await chatStore(store).loadChat(chat.id), JSON.parse(JSON.stringify(chat.messages)));
    } finally {
      store.free();
    }
  });

  test("a small load run: every history exact over both tenants", async () => {
    const r = await loadRun({ url: srv.url, sessions: 20, turns: 2 });
    assert.equal(r.errors, 0, JSON.stringify(r.firstError));
    assert.equal(r.checked, 20);
  });
});

test("node: the seed's curl sequence, verbatim", async () => {
  const dir = tempDir("node-seed");
  const open = { ...config, auth: undefined };
  delete open.auth;
  const srv = await startNode({ config: open, dir });
  try {
    await runSeedCurls(srv.url);
  } finally {
    await srv.stop();
    cleanup(dir);
  }
});

test("node: a restart keeps every session; shutdown stores an active run's partial reply as interrupted", async () => {
  const dir = tempDir("node-restart");
  let srv = await startNode({ config, dir, args: ["--grace-ms", "0"] });
  const ids = [];
  try {
    const a = client(srv.url, TOKENS.a);
    for (let i = 0; i < 3; i++) {
      const id = (await a.call("POST", "/agents/assistant/sessions", { title: `t${i}` })).json.session_id;
      await a.call("POST", `/agents/assistant/sessions/${id}/messages`, { message: `My name is N${i}.` });
      ids.push(id);
    }
    const slow = (await a.call("POST", "/agents/slow/sessions")).json.session_id;
    const s = await openStream(`${srv.url}/agents/slow/sessions/${slow}/messages/stream`, {
      method: "POST", headers: { authorization: `Bearer ${TOKENS.a}` }, body: { message: "Please say " + "many ".repeat(20) + "words" },
    });
    const seen = [await s.next(), await s.next()];
    assert.equal(seen[1].event, "delta");
    assert.equal(await srv.stop("SIGTERM"), 0, "graceful shutdown exits 0");
    const rest = await s.all();
    assert.deepEqual(rest.slice(-2).map((e) => e.event), ["error", "done"]);
    const text = [...seen, ...rest].filter((e) => e.event === "delta").map((e) => e.data.text).join("");

    srv = await startNode({ config, dir });
    const a2 = client(srv.url, TOKENS.a);
    for (let i = 0; i < 3; i++) {
      const r = await a2.call("POST", `/agents/assistant/sessions/${ids[i]}/messages`, { message: "What is my name?" });
      assert.equal(r.json.message.content, `Your name is N${i}.`);
      assert.equal((await a2.call("GET", `/agents/assistant/sessions/${ids[i]}`)).json.title, `t${i}`);
    }
    const h = (await a2.call("GET", `/agents/slow/sessions/${slow}/messages`)).json.messages;
    assert.deepEqual(h.map((m) => [m.role, m.status]), [["user", "complete"], ["assistant", "interrupted"]]);
    assert.equal(h[1].content, text);
  } finally {
    await srv.stop();
    cleanup(dir);
  }
});

test("node: a bad config fails at start, naming the key; secrets are not printed", async () => {
  const dir = tempDir("node-badcfg");
  try {
    const file = path.join(dir, "bad.yaml");
    writeFileSync(file, `llms:\n  real: { type: openai, api_key: "\${SECRET_KEY}" }\nagents:\n  assistant:\n    llm: missing\n`);
    const child = spawn(node22, ["--experimental-sqlite", path.join(root, "pkg/cli.js"), "serve", "--config", file], {
      env: { ...process.env, SECRET_KEY: "sk-very-secret" }, stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    const [code] = await once(child, "exit");
    assert.equal(code, 1);
    assert.match(err, /agents\.assistant\.llm: "missing" is not defined under llms/);
    assert.ok(!err.includes("sk-very-secret"));
  } finally {
    cleanup(dir);
  }
});

test("node: the per-tenant rate limit answers 429 with Retry-After", async () => {
  const dir = tempDir("node-rate");
  const srv = await startNode({ config: testConfig({ server: { rate_limit: { requests: 3, per_seconds: 3600 } } }), dir });
  try {
    const a = client(srv.url, TOKENS.a);
    for (let i = 0; i < 3; i++) assert.equal((await a.call("GET", "/agents/assistant/sessions")).status, 200);
    const r = await a.call("GET", "/agents/assistant/sessions");
    assert.equal(r.status, 429);
    assert.equal(r.json.error.code, "RATE_LIMITED");
    assert.ok(Number(r.headers.get("retry-after")) >= 1);
    // Per tenant: B is not limited by A's requests.
    assert.equal((await client(srv.url, TOKENS.b).call("GET", "/agents/assistant/sessions")).status, 200);
  } finally {
    await srv.stop();
    cleanup(dir);
  }
});

test("node: the Dexto /chat pattern written with the library", async () => {
  const child = spawn(process.execPath, [path.join(root, "examples/dexto-chat.mjs")], {
    env: { ...process.env, PORT: "0" }, stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const url = await new Promise((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
        const m = /listening on (\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on("exit", (c) => reject(new Error(`exited ${c}`)));
    });
    // The seed's client, with the server's address.
    let sessionId = null;
    const response1 = await fetch(`${url}/chat`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ message: "Hello" }),
    });
    const data1 = await response1.json();
    sessionId = data1.sessionId;
    const response2 = await fetch(`${url}/chat`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ message: "What did I just say?", sessionId: sessionId }),
    });
    const data2 = await response2.json();
    assert.match(sessionId, /^sess_/);
    assert.equal(data2.sessionId, sessionId);
    assert.equal(data2.response, 'You just said: "Hello"');
  } finally {
    child.kill("SIGTERM");
    await once(child, "exit");
  }
});

test("node: an llm with retry_mid_stream restarts a reply cut after text: SSE `restart`, one stored reply", async () => {
  const { startMockLlmServer } = await import("../support/mock-llm-server.mjs");
  const llm = await startMockLlmServer();
  const dir = tempDir("node-restart-event");
  const model = `sse-restart-${process.pid}`;
  const cfg = testConfig();
  cfg.llms.flaky = { type: "openai", model, host: `${llm.url}/v1`, api_key: "sk-test", max_retries: 1, retry_mid_stream: true };
  cfg.agents.flaky = { llm: "flaky", session_store: "main" };
  const srv = await startNode({ config: cfg, dir });
  try {
    await llm.script(model, [{ reply: "alpha beta gamma delta epsilon", disconnectAfterChunks: 3, chunkDelayMs: 0 }, { reply: "recovered in full" }]);
    const a = client(srv.url, TOKENS.a);
    const id = (await a.call("POST", "/agents/flaky/sessions")).json.session_id;
    const s = await openStream(`${srv.url}/agents/flaky/sessions/${id}/messages/stream`, {
      method: "POST", headers: { authorization: `Bearer ${TOKENS.a}` }, body: { message: "Go" },
    });
    const events = await s.all();
    const names = events.map((e) => e.event);
    const at = names.indexOf("restart");
    assert.ok(at > 0, `a restart event: ${JSON.stringify(names)}`);
    assert.equal(names.filter((n) => n === "restart").length, 1);
    assert.equal(events[at].data.attempt, 1);
    assert.match(events[at].data.reason, /^LLM_(NETWORK|STREAM_TRUNCATED)$/);
    assert.ok(names.slice(0, at).includes("delta"), "text came before the restart");
    const after = events.slice(at).filter((e) => e.event === "delta").map((e) => e.data.text).join("");
    assert.equal(after, "recovered in full");
    assert.deepEqual(names.slice(-2), ["message", "done"]);
    assert.equal(events.at(-2).data.message.content, "recovered in full");
    const h = (await a.call("GET", `/agents/flaky/sessions/${id}/messages`)).json.messages;
    assert.deepEqual(h.map((m) => [m.role, m.content, m.status]), [["user", "Go", "complete"], ["assistant", "recovered in full", "complete"]]);
  } finally {
    await srv.stop();
    await llm.close();
    cleanup(dir);
  }
});
