// agent-sessions/langchain driven by the real LangChain.js (`@langchain/core`, `@langchain/openai`,
// exact versions in package.json): RunnableWithMessageHistory over ChatOpenAI pointed at the
// local mock server keeps its history in our store (turn 2's request carries turn 1, sessions
// isolated, a reopened store has it all), every message comes back equal in its toDict() form,
// and our context builder sees an AIMessage's tool_calls and a ToolMessage as a tool round.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ChatPromptTemplate, MessagesPlaceholder } from "@langchain/core/prompts";
import { RunnableWithMessageHistory } from "@langchain/core/runnables";
import { AIMessage, HumanMessage, SystemMessage, ToolMessage, mapChatMessagesToStoredMessages } from "@langchain/core/messages";
import { ChatOpenAI } from "@langchain/openai";
import { SessionStore } from "agent-sessions";
import { AgentSessionsChatMessageHistory } from "agent-sessions/langchain";
import { startMockLlmServer } from "../support/mock-llm-server.mjs";
import { mapKv } from "./map-kv.mjs";

const open = (kv) => SessionStore.open({ storage: { type: "kv", kv } });
const json = (v) => JSON.parse(JSON.stringify(v));
const dicts = (messages) => json(mapChatMessagesToStoredMessages(messages));

let llm;
before(async () => { llm = await startMockLlmServer(); });
after(() => llm?.close());

function chain(store, model) {
  const prompt = ChatPromptTemplate.fromMessages([["system", "Be brief."], new MessagesPlaceholder("history"), ["human", "{input}"]]);
  const chat = new ChatOpenAI({ model, apiKey: "test", configuration: { baseURL: `${llm.url}/v1` } });
  return new RunnableWithMessageHistory({
    runnable: prompt.pipe(chat),
    getMessageHistory: (sessionId) => new AgentSessionsChatMessageHistory({ store, sessionId }),
    inputMessagesKey: "input",
    historyMessagesKey: "history",
  });
}

test("RunnableWithMessageHistory over ChatOpenAI: turn 2's request carries turn 1, sessions are isolated, a reopened store has both", async () => {
  const kv = mapKv();
  const run = chain(open(kv), "lc-turns");
  const ask = (sessionId, input) => run.invoke({ input }, { configurable: { sessionId } });
  assert.equal((await ask("alice", "My name is Sarah.")).content, "Echo: My name is Sarah. (turn 1)");
  assert.equal((await ask("bob", "My name is Tom.")).content, "Echo: My name is Tom. (turn 1)");
  assert.equal((await ask("alice", "What is my name?")).content, "Your name is Sarah.");
  assert.equal((await ask("bob", "What is my name?")).content, "Your name is Tom.");

  const requests = llm.requests("lc-turns");
  assert.equal(requests.length, 4);
  assert.deepEqual(requests[2].messages.map((m) => [m.role, m.text]), [
    ["user", "My name is Sarah."], ["assistant", "Echo: My name is Sarah. (turn 1)"], ["user", "What is my name?"],
  ]);
  assert.equal(requests[2].system, "Be brief.");

  const reopened = await open(kv);
  const alice = await new AgentSessionsChatMessageHistory({ store: reopened, sessionId: "alice" }).getMessages();
  assert.deepEqual(alice.map((m) => [m.getType(), m.content]), [
    ["human", "My name is Sarah."], ["ai", "Echo: My name is Sarah. (turn 1)"], ["human", "What is my name?"], ["ai", "Your name is Sarah."],
  ]);
  const bob = await new AgentSessionsChatMessageHistory({ store: reopened, sessionId: "bob" }).getMessages();
  assert.deepEqual(bob.map((m) => m.content), ["My name is Tom.", "Echo: My name is Tom. (turn 1)", "What is my name?", "Your name is Tom."]);
  // What ChatOpenAI returned (ids, response metadata, usage) is kept whole.
  assert.ok(alice[1].id && alice[1].response_metadata?.model_name === "lc-turns", JSON.stringify(alice[1].toDict()));
  assert.deepEqual((await (await reopened.get("alice")).getMessagesForLLM()).map((m) => m.content), alice.map((m) => m.content));
});

test("messages round-trip exactly in their toDict() form, and a tool round is a tool call and a tool result to our context builder", async () => {
  const kv = mapKv();
  const history = new AgentSessionsChatMessageHistory({ store: open(kv), sessionId: "tools" });
  const messages = [
    new SystemMessage("Use tools."),
    new HumanMessage({ content: [{ type: "text", text: "Weather in " }, { type: "text", text: "Lisbon?" }], id: "h-1", additional_kwargs: { client: { n: 1 } } }),
    new AIMessage({ content: "", id: "ai-1", tool_calls: [{ id: "call_1", name: "weather", args: { city: "Lisbon", units: ["c"] }, type: "tool_call" }], response_metadata: { finish_reason: "tool_calls" }, usage_metadata: { input_tokens: 5, output_tokens: 7, total_tokens: 12 } }),
    new ToolMessage({ content: "Sunny, 24C", tool_call_id: "call_1", name: "weather", artifact: { raw: { temp: 24 } } }),
    new AIMessage({ content: "Sunny in Lisbon.", name: "forecaster" }),
  ];
  await history.addMessages(messages);
  const back = await new AgentSessionsChatMessageHistory({ store: open(kv), sessionId: "tools" }).getMessages();
  assert.deepEqual(dicts(back), dicts(messages));
  assert.deepEqual(back.map((m) => m.constructor.name), ["SystemMessage", "HumanMessage", "AIMessage", "ToolMessage", "AIMessage"]);
  assert.deepEqual(back[2].tool_calls, messages[2].tool_calls);

  const llmView = await (await (await open(kv)).get("tools")).getMessagesForLLM();
  assert.deepEqual(llmView.map((m) => m.role), ["system", "user", "assistant", "tool", "assistant"]);
  assert.equal(llmView[1].content, "Weather in Lisbon?");
  assert.deepEqual(llmView[2].tool_calls, [{ id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Lisbon","units":["c"]}' } }]);
  assert.deepEqual([llmView[3].tool_call_id, llmView[3].content], ["call_1", "Sunny, 24C"]);

  await history.clear();
  assert.deepEqual(await history.getMessages(), []);
});

test("a message another API stored comes back as a LangChain message; bad input is a typed error and stores nothing", async () => {
  const kv = mapKv();
  const store = await open(kv);
  const session = await store.create("mixed");
  await session.addMessage({ role: "user", content: "hi" });
  await session.addMessage({ role: "assistant", content: "", toolCalls: [{ id: "c9", name: "lookup", arguments: '{"q":"x"}' }] });
  await session.addMessage({ role: "tool", content: "found", toolCallId: "c9" });
  const history = new AgentSessionsChatMessageHistory({ store, sessionId: "mixed" });
  const back = await history.getMessages();
  assert.deepEqual(back.map((m) => m.getType()), ["human", "ai", "tool"]);
  assert.deepEqual(back[1].tool_calls.map(({ id, name, args }) => ({ id, name, args })), [{ id: "c9", name: "lookup", args: { q: "x" } }]);
  assert.equal(back[2].tool_call_id, "c9");

  for (const bad of [undefined, { store }, { store, sessionId: "" }, { store: 1, sessionId: "x" }]) {
    assert.throws(() => new AgentSessionsChatMessageHistory(bad), { name: "AgentSessionsError", code: "INVALID_ARGUMENT" });
  }
  // addMessages is one write: a message the store refuses (an empty human message) in the middle
  // stores none of them.
  const writes = [];
  store.on("message:added", (e) => writes.push(e.message.content));
  await assert.rejects(history.addMessages([new HumanMessage("one"), new HumanMessage(""), new AIMessage("three")]), { name: "AgentSessionsError", code: "INVALID_MESSAGE" });
  assert.deepEqual([writes, (await history.getMessages()).length], [[], 3]);
  await history.addMessages([new HumanMessage("one"), new AIMessage("two")]);
  assert.deepEqual(writes, ["one", "two"]);
  const empty = new AgentSessionsChatMessageHistory({ store, sessionId: "never" });
  await assert.rejects(empty.addMessages([new HumanMessage("ok"), { role: "user", content: "not a message" }]), { name: "AgentSessionsError", code: "INVALID_ARGUMENT" });
  await assert.rejects(empty.addMessage("text"), { code: "INVALID_ARGUMENT" });
  assert.deepEqual(await store.listSessions(), ["mixed"]);
});

test("the declarations type a consumer against the real LangChain and Agents SDK types (tsc --strict, tests/types/adapters)", () => {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const r = spawnSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, "-p", `${root}tests/types/adapters`], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("a message with no text (an image) is stored whole, named in our content", async () => {
  const store = await open(mapKv());
  const history = new AgentSessionsChatMessageHistory({ store, sessionId: "pictures" });
  const image = new HumanMessage({ content: [{ type: "image_url", image_url: { url: "https://example.invalid/cat.png" } }] });
  await history.addMessages([image]);
  const [back] = await history.getMessages();
  assert.deepEqual(back.toDict(), image.toDict());
  const [stored] = await (await store.get("pictures")).getHistory();
  assert.equal(stored.content, "[image]");
});
