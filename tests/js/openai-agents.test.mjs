// agent-sessions/openai-agents driven by the real OpenAI Agents SDK (`@openai/agents`, exact
// version in package.json): the SDK's own run loop (`runner.run(agent, input, { session })`, a
// chat-completions model pointed at the local mock server, a scripted tool round) writes and reads
// our session exactly as it does its MemorySession; the items survive a reopened store, our
// context builder sees them as tool calls and results, and the Session methods hold to the SDK's
// contract (limit, popItem, clearSession, idempotent applyHistoryTransaction, typed errors).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Agent, MemorySession, OpenAIProvider, Runner, tool } from "@openai/agents";
import { z } from "zod";
import { SessionStore } from "agent-sessions";
import { AgentSessionsSession } from "agent-sessions/openai-agents";
import { startMockLlmServer } from "../support/mock-llm-server.mjs";
import { mapKv } from "./map-kv.mjs";

const open = (kv) => SessionStore.open({ storage: { type: "kv", kv } });
/** What JSON (and so every storage) keeps of a value: undefined-valued keys are not data. */
const json = (v) => JSON.parse(JSON.stringify(v));

let llm;
let runner;
before(async () => {
  llm = await startMockLlmServer();
  runner = new Runner({ modelProvider: new OpenAIProvider({ baseURL: `${llm.url}/v1`, apiKey: "test", useResponses: false }), tracingDisabled: true });
});
after(() => llm?.close());

const weather = tool({
  name: "weather",
  description: "The weather in a city.",
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => `Sunny in ${city}`,
});

/** Two turns of the same agent on `session`: a tool round (scripted call, the tool's result
 * back to the model), then a question whose answer needs turn 1. */
async function twoTurns(session, model) {
  const agent = new Agent({ name: "Assistant", instructions: "Be brief.", model, tools: [weather] });
  llm.script(model, [{ toolCalls: [{ id: "call_weather_1", name: "weather", arguments: { city: "Lisbon" } }] }]);
  const first = await runner.run(agent, "My name is Sarah. Weather in Lisbon?", { session });
  assert.equal(first.finalOutput, "Tool result received: Sunny in Lisbon");
  const second = await runner.run(agent, "What is my name?", { session });
  assert.equal(second.finalOutput, "Your name is Sarah.");
  return [...first.rawResponses, ...second.rawResponses].map((r) => r.responseId);
}

/** Items with each assistant message's id (the mock's response id, a counter) as its response's
 * place in the runs: the one thing two identical runs against the mock do not share. */
function byResponse(items, responseIds) {
  return json(items).map((i) => {
    if (i.id === undefined) return i;
    assert.ok(responseIds.includes(i.id), `${i.id} is one of ${responseIds}`);
    return { ...i, id: `response ${responseIds.indexOf(i.id)}` };
  });
}

test("run(agent, input, { session }) twice: our session holds exactly the items MemorySession holds, and a reopened store returns them", async () => {
  const kv = mapKv();
  const ours = new AgentSessionsSession({ store: open(kv), sessionId: "user-1/agents" });
  const ourIds = await twoTurns(ours, "agents-ours");
  const memory = new MemorySession({ sessionId: "memory" });
  const memoryIds = await twoTurns(memory, "agents-memory");

  const expected = byResponse(await memory.getItems(), memoryIds);
  assert.deepEqual(expected.map((i) => i.type), ["message", "function_call", "function_call_result", "message", "message", "message"]);
  assert.deepEqual(byResponse(await ours.getItems(), ourIds), expected);
  const reopened = new AgentSessionsSession({ store: open(kv), sessionId: "user-1/agents" });
  assert.deepEqual(byResponse(await reopened.getItems(), ourIds), expected);
  assert.deepEqual(byResponse(await reopened.getItems(2), ourIds), expected.slice(-2));

  // The model's second request carried turn 1, read back from our session.
  const sent = llm.requests("agents-ours").at(-1).messages.map((m) => [m.role, m.text]);
  assert.deepEqual(sent, [
    ["user", "My name is Sarah. Weather in Lisbon?"], ["assistant", ""], ["tool", "Sunny in Lisbon"],
    ["assistant", "Tool result received: Sunny in Lisbon"], ["user", "What is my name?"],
  ]);
  // Our own context builder sees the same conversation, the tool round as a tool call and its result.
  const session = await (await open(kv)).get("user-1/agents");
  const llmView = await session.getMessagesForLLM();
  assert.deepEqual(llmView.map((m) => m.role), ["user", "assistant", "tool", "assistant", "user", "assistant"]);
  assert.deepEqual(llmView[1].tool_calls, [{ id: "call_weather_1", type: "function", function: { name: "weather", arguments: '{"city":"Lisbon"}' } }]);
  assert.deepEqual([llmView[2].tool_call_id, llmView[2].content], ["call_weather_1", "Sunny in Lisbon"]);
  assert.equal(llmView[5].content, "Your name is Sarah.");
});

test("sessions are isolated, popItem and clearSession act on one session only, and reading creates nothing", async () => {
  const kv = mapKv();
  const store = await open(kv);
  const a = new AgentSessionsSession({ store, sessionId: "tenant-a/s" });
  const b = new AgentSessionsSession({ store, sessionId: "tenant-b/s" });
  assert.deepEqual(await a.getItems(), []);
  assert.equal(await a.popItem(), undefined);
  assert.deepEqual(await store.listSessions(), []);

  const item = (role, text) => ({ type: "message", role, content: text });
  await a.addItems([item("user", "a1"), item("user", "a2")]);
  await b.addItems([item("user", "b1")]);
  assert.deepEqual(await b.getItems(), [item("user", "b1")]);
  assert.deepEqual(await a.popItem(), item("user", "a2"));
  assert.deepEqual(await a.getItems(), [item("user", "a1")]);
  assert.deepEqual(await a.popItem(), item("user", "a1"));
  assert.equal(await a.popItem(), undefined);
  await a.addItems([item("user", "again")]);
  await a.clearSession();
  assert.deepEqual(await a.getItems(), []);
  assert.deepEqual(await new AgentSessionsSession({ store: open(kv), sessionId: "tenant-b/s" }).getItems(), [item("user", "b1")]);
  assert.match(await new AgentSessionsSession({ store }).getSessionId(), /^[0-9a-f-]{36}$/);
});

test("applyHistoryTransaction: once per operationId, a replaced suffix checked first, a mismatch changes nothing", async () => {
  const kv = mapKv();
  const s = new AgentSessionsSession({ store: open(kv), sessionId: "tx" });
  const call = { type: "function_call", callId: "c1", name: "weather", arguments: '{"city":"Porto"}', status: "completed", providerData: { raw: [1, { x: null }] } };
  const result = { type: "function_call_result", callId: "c1", name: "weather", status: "completed", output: { type: "text", text: "Rain" } };
  const append = { type: "append_items", items: [call, result] };
  await s.applyHistoryTransaction({ operationId: "op-1", transaction: append });
  await s.applyHistoryTransaction({ operationId: "op-1", transaction: structuredClone(append) });
  assert.deepEqual(await s.getItems(), [call, result]);
  await assert.rejects(s.applyHistoryTransaction({ operationId: "op-1", transaction: { type: "append_items", items: [result] } }), { name: "AgentSessionsError", code: "INVALID_ARGUMENT" });

  const answer = { type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text: "Rain in Porto." }] };
  await assert.rejects(
    s.applyHistoryTransaction({ operationId: "op-2", transaction: { type: "replace_suffix", expectedSuffix: [call], replacement: [answer] } }),
    { code: "INVALID_ARGUMENT", message: /expectedSuffix/ },
  );
  assert.deepEqual(await s.getItems(), [call, result]);
  const replace = { type: "replace_suffix", expectedSuffix: [result], replacement: [answer] };
  await s.applyHistoryTransaction({ operationId: "op-2", transaction: replace });
  // A retry of an applied replacement is a no-op (its precondition no longer holds, but it was applied).
  const reopened = new AgentSessionsSession({ store: open(kv), sessionId: "tx" });
  await reopened.applyHistoryTransaction({ operationId: "op-2", transaction: replace });
  assert.deepEqual(await reopened.getItems(), [call, answer]);
  await reopened.clearSession();
  await reopened.applyHistoryTransaction({ operationId: "op-1", transaction: append });
  assert.deepEqual(await reopened.getItems(), [call, result]);
});

test("applyHistoryTransaction is one write: a replacement the store refuses changes nothing, and the newest 64 operation ids are kept", async () => {
  const kv = mapKv();
  const store = await open(kv);
  const s = new AgentSessionsSession({ store, sessionId: "tx-atomic" });
  const item = (role, text) => ({ type: "message", role, content: text });
  await s.applyHistoryTransaction({ operationId: "op-a", transaction: { type: "append_items", items: [item("user", "q"), item("assistant", "a1"), item("user", "more")] } });
  const writes = [];
  store.on("session:updated", (e) => writes.push(e));
  store.on("message:added", (e) => writes.push(e));
  // Replacing the last two items with a user message our store refuses (empty): nothing is
  // truncated, nothing appended, the operation is not recorded.
  const bad = { type: "replace_suffix", expectedSuffix: [item("assistant", "a1"), item("user", "more")], replacement: [item("assistant", "a2"), item("user", "")] };
  await assert.rejects(s.applyHistoryTransaction({ operationId: "op-b", transaction: bad }), { name: "AgentSessionsError", code: "INVALID_MESSAGE" });
  assert.deepEqual(writes, []);
  const reopened = new AgentSessionsSession({ store: open(kv), sessionId: "tx-atomic" });
  assert.deepEqual(json(await reopened.getItems()), [item("user", "q"), item("assistant", "a1"), item("user", "more")]);
  // The same id with a good replacement: truncation, the new items and the record, one update.
  const good = { ...bad, replacement: [item("assistant", "a2")] };
  await s.applyHistoryTransaction({ operationId: "op-b", transaction: good });
  assert.deepEqual(writes.map((e) => e.type), ["message:added", "session:updated"]);
  assert.deepEqual(json(await reopened.getItems()), [item("user", "q"), item("assistant", "a2")]);
  // Replacing the whole history (nothing before the suffix).
  await s.applyHistoryTransaction({ operationId: "op-c", transaction: { type: "replace_suffix", expectedSuffix: [item("user", "q"), item("assistant", "a2")], replacement: [item("user", "fresh")] } });
  assert.deepEqual(json(await s.getItems()), [item("user", "fresh")]);

  for (let i = 0; i < 70; i++) await s.applyHistoryTransaction({ operationId: `n-${i}`, transaction: { type: "append_items", items: [item("user", `n${i}`)] } });
  const ops = (await store.get("tx-atomic")).metadata["openai-agents:operations"];
  assert.deepEqual(ops.map(([id]) => id), Array.from({ length: 64 }, (_, i) => `n-${i + 6}`));
  // The newest are still applied once; the oldest are forgotten (applied again if replayed).
  await s.applyHistoryTransaction({ operationId: "n-69", transaction: { type: "append_items", items: [item("user", "n69")] } });
  await assert.rejects(s.applyHistoryTransaction({ operationId: "n-69", transaction: { type: "append_items", items: [item("user", "other")] } }), { code: "INVALID_ARGUMENT" });
  assert.equal((await s.getItems()).length, 71);
});

test("bad input is a typed error and stores nothing", async () => {
  const kv = mapKv();
  const store = await open(kv);
  for (const bad of [undefined, {}, { store, sessionId: "" }, { store, sessionId: 7 }, { store: {}, sessionId: "x" }]) {
    assert.throws(() => new AgentSessionsSession(bad), { name: "AgentSessionsError", code: "INVALID_ARGUMENT" });
  }
  const s = new AgentSessionsSession({ store, sessionId: "bad" });
  await assert.rejects(s.addItems("hello"), { name: "AgentSessionsError", code: "INVALID_ARGUMENT" });
  await assert.rejects(s.addItems([{ type: "message", role: "user", content: "ok" }, null]), { code: "INVALID_ARGUMENT" });
  await assert.rejects(s.getItems(-1), { code: "INVALID_ARGUMENT" });
  await assert.rejects(s.applyHistoryTransaction({ operationId: " ", transaction: { type: "append_items", items: [] } }), { code: "INVALID_ARGUMENT" });
  await assert.rejects(s.applyHistoryTransaction({ operationId: "op", transaction: { type: "rewrite" } }), { code: "INVALID_ARGUMENT" });
  assert.deepEqual(await store.listSessions(), []);
});

test("an item with no text (an image, a file) is stored whole, named in our content", async () => {
  const store = await open(mapKv());
  const session = new AgentSessionsSession({ store, sessionId: "pictures" });
  const image = { type: "message", role: "user", content: [{ type: "input_image", image: "https://example.invalid/cat.png" }] };
  const file = { type: "message", role: "user", content: [{ type: "input_file", file: { id: "file_1" }, filename: "report.pdf" }] };
  await session.addItems([image, file]);
  assert.deepEqual(await session.getItems(), [image, file]);
  const stored = await (await store.get("pictures")).getHistory();
  assert.deepEqual(stored.map((m) => m.content), ["[image]", "[file: report.pdf]"]);
});
