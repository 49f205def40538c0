// The `custom` provider: a JavaScript function is the model (e.g. a Workers AI binding).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Agent } from "agent-sessions";

test("a custom handler receives the system prompt and the history, and its reply is stored", async () => {
  const seen = [];
  const agent = new Agent({
    name: "edge-bot",
    instructions: "Answer in one word.",
    llm: {
      provider: "custom",
      model: "@cf/meta/llama",
      handler: async (request) => {
        seen.push(request);
        return { content: `reply ${request.messages.length}`, usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 } };
      },
    },
  });
  const s = await agent.createSession("c1");
  const first = await agent.generate("hello", s.id);
  assert.equal(first.content, "reply 1");
  assert.deepEqual(first.usage, { inputTokens: 3, outputTokens: 1, totalTokens: 4 });
  const second = await agent.generate("again", s.id);
  assert.equal(second.content, "reply 3");
  assert.equal(seen[1].system, "Answer in one word.");
  assert.deepEqual(seen[1].messages.map((m) => [m.role, m.content]), [
    ["user", "hello"], ["assistant", "reply 1"], ["user", "again"],
  ]);
  assert.equal(seen[0].model, "@cf/meta/llama");
  const history = await agent.getSessionHistory("c1");
  assert.deepEqual(history.map((m) => m.name ?? null), [null, "edge-bot", null, "edge-bot"]);
  const runs = await s.getRuns();
  assert.equal(runs[0].provider, "custom");
});

test("a plain string reply works, streamed too", async () => {
  const agent = new Agent({ llm: { provider: "custom", handler: () => "just text" } });
  const s = await agent.createSession();
  const events = [];
  for await (const ev of agent.stream("hi", s.id)) events.push(ev.type);
  assert.deepEqual(events, ["start", "delta", "done"]);
});

test("a handler that throws fails the run with its message and keeps the user message", async () => {
  const agent = new Agent({ llm: { provider: "custom", handler: async () => { throw new Error("binding unavailable"); } } });
  const s = await agent.createSession();
  await assert.rejects(agent.generate("hi", s.id), (e) => {
    assert.equal(e.name, "AgentSessionsError");
    assert.equal(e.code, "LLM_HTTP");
    assert.match(e.message, /binding unavailable/);
    return true;
  });
  const history = await agent.getSessionHistory(s.id);
  assert.deepEqual(history.map((m) => m.role), ["user"]);
  const [run] = await s.getRuns();
  assert.equal(run.status, "failed");
});

test("a handler result that is not a reply is LLM_BAD_RESPONSE, and the handler is not called again", async () => {
  let calls = 0;
  const retries = [];
  const agent = new Agent({
    llm: { provider: "custom", handler: async () => { calls += 1; return 42; } },
    retry: { baseDelayMs: 1, maxDelayMs: 1 },
  });
  agent.on("llm:retry", (e) => retries.push(e));
  const s = await agent.createSession();
  await assert.rejects(agent.generate("hi", s.id), { name: "AgentSessionsError", code: "LLM_BAD_RESPONSE", retryable: false });
  assert.equal(calls, 1, "a wrong shape would come back the same: the handler (and its side effects) runs once");
  assert.deepEqual(retries, []);
  assert.deepEqual((await agent.getSessionHistory(s.id)).map((m) => m.role), ["user"]);
  const [run] = await s.getRuns();
  assert.equal(run.attempts, 1);
  // Streaming, with restarts allowed, too.
  calls = 0;
  const streaming = new Agent({
    llm: { provider: "custom", handler: () => { calls += 1; return { content: 7 }; } },
    retry: { midStream: true, baseDelayMs: 1 },
  });
  const t = await streaming.createSession();
  await assert.rejects(async () => { for await (const _ of streaming.stream("hi", t.id)); }, { code: "LLM_BAD_RESPONSE" });
  assert.equal(calls, 1);
});

test("a custom provider without a handler is refused at construction", () => {
  assert.throws(() => new Agent({ llm: { provider: "custom" } }), { code: "INVALID_CONFIG" });
  assert.throws(() => new Agent({ llm: { provider: "openai" } }), { code: "INVALID_CONFIG" });
  assert.throws(() => new Agent({ llm: { provider: "openai", model: "x", apiKye: "typo" } }), { code: "INVALID_CONFIG" });
});
