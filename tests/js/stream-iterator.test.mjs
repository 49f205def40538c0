// The async iterator `agent.stream()` returns hands its items over in batches (one JSON.parse
// per batch of what the run produced meanwhile). These cases pin what a consumer sees
// regardless: every item once and in order (also with next() calls made before the earlier
// ones resolved), the run's error at the next() right after the last item that came before it,
// then done; return() and throw() mid-stream abort the run, which keeps what arrived stored as
// `interrupted`, and every later next() is done.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { Agent } from "agent-sessions";

const word = (i) => `w${i} `;
const chunk = (obj) => `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [obj] })}\n\n`;
const delta = (i) => chunk({ index: 0, delta: { content: word(i) }, logprobs: null, finish_reason: null });
const textOf = (n) => Array.from({ length: n }, (_, i) => word(i)).join("");

let server;
let baseUrl;
/** Called once each when a `stall` request's connection closes: the abort reached the network. */
let onStallClosed = [];
const stallClosed = () => new Promise((r) => onStallClosed.push(r));

before(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const { model } = JSON.parse(body);
      res.writeHead(200, { "content-type": "text/event-stream" });
      if (model === "stall") {
        res.on("close", () => {
          const waiting = onStallClosed;
          onStallClosed = [];
          for (const r of waiting) r();
        });
      }
      if (model === "many") {
        // Many small writes: the run sees them in several body chunks, so in several batches.
        let i = 0;
        const more = () => {
          let out = "";
          for (let k = 0; k < 100 && i < 2000; k++) out += delta(i++);
          res.write(out);
          if (i < 2000) setImmediate(more);
          else res.end(chunk({ index: 0, delta: {}, finish_reason: "stop" }) + "data: [DONE]\n\n");
        };
        more();
      } else if (model === "truncated") {
        // 50 deltas, then the body ends without a finish_reason or [DONE].
        let out = "";
        for (let i = 0; i < 50; i++) out += delta(i);
        res.end(out);
      } else if (model === "stall") {
        // 30 deltas, then nothing until the client goes away.
        let out = "";
        for (let i = 0; i < 30; i++) out += delta(i);
        res.write(out);
      } else {
        res.end("data: [DONE]\n\n");
      }
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  baseUrl = `http://127.0.0.1:${server.address().port}/v1`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function agentFor(model) {
  const agent = new Agent({
    name: "iter",
    llm: { provider: "openai", model, apiKey: "k", baseUrl },
    retry: { maxRetries: 0 },
  });
  const runErrors = [];
  let onRunError = () => {};
  agent.on("run:error", (e) => {
    runErrors.push(e);
    onRunError();
  });
  const runError = () => (runErrors.length ? Promise.resolve(runErrors[0]) : new Promise((r) => (onRunError = () => r(runErrors[0]))));
  return { agent, runError };
}

test("every item once and in order, over many batches; then done for good", async () => {
  const { agent } = agentFor("many");
  const s = await agent.createSession();
  const it = agent.stream("go", s.id);
  assert.equal(it[Symbol.asyncIterator](), it);
  const items = [];
  for (;;) {
    const r = await it.next();
    if (r.done) {
      assert.equal(r.value, undefined);
      break;
    }
    items.push(r.value);
  }
  assert.equal(items[0].type, "start");
  assert.equal(items.at(-1).type, "done");
  const deltas = items.slice(1, -1);
  assert.ok(deltas.every((d) => d.type === "delta"));
  assert.deepEqual(deltas.map((d) => d.text), Array.from({ length: 2000 }, (_, i) => word(i)));
  assert.equal(items.at(-1).result.content, textOf(2000));
  assert.deepEqual(await it.next(), { value: undefined, done: true });
  const last = (await agent.getSessionHistory(s.id)).at(-1);
  assert.deepEqual([last.status, last.content], ["complete", textOf(2000)]);
});

test("next() calls made before the earlier ones resolved still resolve in order", async () => {
  const { agent } = agentFor("many");
  const s = await agent.createSession();
  const it = agent.stream("go", s.id);
  const first = await Promise.all(Array.from({ length: 5 }, () => it.next()));
  assert.deepEqual(first.map((r) => r.value.type), ["start", "delta", "delta", "delta", "delta"]);
  assert.deepEqual(first.slice(1).map((r) => r.value.text), [word(0), word(1), word(2), word(3)]);
  // And in the middle of the stream: a burst of 300 at once.
  const burst = await Promise.all(Array.from({ length: 300 }, () => it.next()));
  assert.deepEqual(burst.map((r) => r.value.text), Array.from({ length: 300 }, (_, i) => word(i + 4)));
  let rest = 0;
  for await (const ev of it) if (ev.type === "delta") rest++;
  assert.equal(rest, 2000 - 304);
});

test("the run's error comes at the next() after the items that came before it, then done", async () => {
  const { agent } = agentFor("truncated");
  const s = await agent.createSession();
  const it = agent.stream("go", s.id);
  const seen = [];
  let error = null;
  for (;;) {
    try {
      const r = await it.next();
      assert.equal(r.done, false, "the stream must not end quietly");
      seen.push(r.value);
    } catch (e) {
      error = e;
      break;
    }
  }
  assert.equal(error.name, "AgentSessionsError");
  assert.equal(error.code, "LLM_STREAM_TRUNCATED");
  assert.equal(seen[0].type, "start");
  assert.equal(seen.slice(1).map((d) => d.text).join(""), textOf(50), "every delta before the error");
  assert.deepEqual(await it.next(), { value: undefined, done: true });
  const last = (await agent.getSessionHistory(s.id)).at(-1);
  assert.deepEqual([last.role, last.status, last.content], ["assistant", "error", textOf(50)]);
});

for (const how of ["return", "throw"]) {
  test(`${how}() mid-stream aborts the run, which keeps the text stored as interrupted`, async () => {
    const { agent, runError } = agentFor("stall");
    const s = await agent.createSession();
    const aborted = stallClosed();
    const it = agent.stream("go", s.id);
    let text = "";
    while (text !== textOf(30)) {
      const r = await it.next();
      if (r.value.type === "delta") text += r.value.text;
    }
    if (how === "return") {
      assert.deepEqual(await it.return(), { value: undefined, done: true });
    } else {
      const reason = new Error("consumer gave up");
      await assert.rejects(it.throw(reason), (e) => e === reason);
    }
    assert.deepEqual(await it.next(), { value: undefined, done: true });
    const e = await runError();
    assert.equal(e.error.code, "ABORTED");
    assert.equal(e.run.status, "aborted");
    const last = (await agent.getSessionHistory(s.id)).at(-1);
    assert.deepEqual([last.role, last.status, last.content], ["assistant", "interrupted", textOf(30)]);
    await aborted; // the request itself was aborted
  });
}
