// The API as a Cloudflare Worker (edge/worker.js's createWorker + AgentSessionsObject) in workerd
// through miniflare, one Durable Object per tenant and agent with SQLite-backed storage persisted
// on disk: the shared cases, the seed's curl sequence, a restart of workerd, an object evicted
// between requests, a small load run.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { apiCases } from "./api.cases.mjs";
import { a2aCases } from "./a2a.cases.mjs";
import { runSeedCurls } from "./seed-curl.mjs";
import { cleanup, client, startWorkerd, tempDir, TOKENS, workerdConfig } from "./support.mjs";
import { loadRun } from "../../bench/server/load.mjs";

const config = workerdConfig({ cors: { origins: ["https://app.example"] } });

describe("workerd: the API", () => {
  let srv;
  let dir;
  before(async () => {
    dir = tempDir("workerd");
    srv = await startWorkerd({ config, dir });
  });
  after(async () => {
    await srv?.stop();
    cleanup(dir);
  });
  apiCases(test, () => srv);
  a2aCases(test, () => srv);

  test("a Durable Object evicted between requests loses nothing", async () => {
    const a = client(srv.url, TOKENS.a);
    const id = (await a.call("POST", "/agents/assistant/sessions", { metadata: { k: 1 } })).json.session_id;
    await a.call("POST", `/agents/assistant/sessions/${id}/messages`, { message: "My name is Eve." });
    const before = (await a.call("GET", `/agents/assistant/sessions/${id}/messages`)).json.messages;
    const ev = await fetch(`${srv.url}/__test/evict/a/assistant`);
    assert.equal(await ev.text(), "evicted");
    const afterEvict = (await a.call("GET", `/agents/assistant/sessions/${id}/messages`)).json.messages;
    assert.deepEqual(afterEvict, before);
    assert.deepEqual((await a.call("GET", `/agents/assistant/sessions/${id}`)).json.metadata, { k: 1 });
    const r = await a.call("POST", `/agents/assistant/sessions/${id}/messages`, { message: "What is my name?" });
    assert.equal(r.json.message.content, "Your name is Eve.");
  });

  test("a small load run: every history exact over both tenants", async () => {
    const r = await loadRun({ url: srv.url, sessions: 20, turns: 2 });
    assert.equal(r.errors, 0, JSON.stringify(r.firstError));
    assert.equal(r.checked, 20);
  });
});

test("workerd: the seed's curl sequence, verbatim", async () => {
  const dir = tempDir("workerd-seed");
  const open = { ...config };
  delete open.auth;
  const srv = await startWorkerd({ config: open, dir });
  try {
    await runSeedCurls(srv.url);
  } finally {
    await srv.stop();
    cleanup(dir);
  }
});

test("workerd: a restart of workerd keeps every session", async () => {
  const dir = tempDir("workerd-restart");
  let srv = await startWorkerd({ config, dir });
  try {
    const ids = {};
    for (const t of ["a", "b"]) {
      const c = client(srv.url, TOKENS[t]);
      ids[t] = (await c.call("POST", "/agents/assistant/sessions", { title: `of ${t}` })).json.session_id;
      await c.call("POST", `/agents/assistant/sessions/${ids[t]}/messages`, { message: `My name is ${t.toUpperCase()}nne.` });
    }
    await srv.stop();
    srv = await startWorkerd({ config, dir });
    for (const t of ["a", "b"]) {
      const c = client(srv.url, TOKENS[t]);
      const list = (await c.call("GET", "/agents/assistant/sessions")).json.sessions;
      assert.deepEqual(list.map((s) => [s.session_id, s.title, s.message_count]), [[ids[t], `of ${t}`, 2]]);
      const r = await c.call("POST", `/agents/assistant/sessions/${ids[t]}/messages`, { message: "What is my name?" });
      assert.equal(r.json.message.content, `Your name is ${t.toUpperCase()}nne.`);
    }
  } finally {
    await srv.stop();
    cleanup(dir);
  }
});

test("workerd: a bad config is a JSON 500 naming the key, without the secret", async () => {
  const dir = tempDir("workerd-badcfg");
  const bad = workerdConfig();
  bad.llms.real = { type: "openai", api_key: "${OPENAI_KEY}" };
  bad.agents.assistant.llm = "missing";
  const srv = await startWorkerd({ config: bad, dir });
  try {
    const r = await client(srv.url, TOKENS.a).call("GET", "/agents/assistant/sessions");
    assert.equal(r.status, 500);
    assert.equal(r.json.error.code, "INVALID_CONFIG");
    assert.match(r.json.error.message, /^llms\.real\.api_key: environment variable OPENAI_KEY is not set|^agents\.assistant\.llm:/);
  } finally {
    await srv.stop();
    cleanup(dir);
  }
});
