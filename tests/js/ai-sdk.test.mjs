// agent-sessions/ai-sdk driven by the real AI SDK (`ai`, exact version in package.json): streamText
// + toUIMessageStream saving through chatStore (an OpenAI-compatible provider pointed at the local
// mock server, and the SDK's own MockLanguageModelV4 for reasoning, tools, sources, files and data
// parts), every UIMessage part round-tripped through a fresh store, the reconciliation rules (no
// writes for the same array, continuation in place, regenerate as a branch, prefix as a rewind),
// and the SDK's AbstractChat over SessionsChatTransport (send, regenerate, resume).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as ai from "ai";
import { createUIMessageStream, readUIMessageStream, stepCountIs, streamText, tool } from "ai";
import { MockLanguageModelV4, convertArrayToReadableStream } from "ai/test";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { z } from "zod";
import { Agent, SessionStore } from "agent-sessions";
import { chatStore, SessionsChatTransport } from "agent-sessions/ai-sdk";
import { startMockLlmServer } from "../support/mock-llm-server.mjs";
import { chatClass } from "../support/ai-sdk-chat.mjs";

const Chat = chatClass(ai);

function mapKv() {
  const map = new Map();
  let writes = 0;
  return {
    map,
    get writes() { return writes; },
    async get(k) { return map.get(k) ?? null; },
    async put(k, v) { writes++; map.set(k, v); },
    async delete(k) { writes++; map.delete(k); },
    async list({ prefix }) { return [...map.keys()].filter((k) => k.startsWith(prefix)).sort(); },
  };
}
const open = (kv) => SessionStore.open({ storage: { type: "kv", kv } });
/** What JSON (and so every storage) keeps of a value: undefined-valued keys are not data. */
const json = (v) => JSON.parse(JSON.stringify(v));
const snapshot = (kv) => JSON.stringify([...kv.map.entries()].sort());

let llm;
before(async () => { llm = await startMockLlmServer(); });
after(() => llm?.close());

/** Drains a UI message stream (as a route handler's response would be read). */
async function drain(stream) {
  const reader = stream.getReader();
  while (!(await reader.read()).done);
}

test("streamText + toUIMessageStream through an OpenAI-compatible provider: a fresh store loads exactly onFinish's messages, and turn 2 sees turn 1", async () => {
  const kv = mapKv();
  const chats = chatStore(await open(kv));
  const provider = createOpenAICompatible({ name: "mock", baseURL: `${llm.url}/v1`, apiKey: "test" });
  const model = provider.chatModel("ai-sdk-compat");
  let saved;
  const turn = async (messages) => {
    const result = streamText({ model, messages: await ai.convertToModelMessages(messages) });
    await drain(result.toUIMessageStream({
      originalMessages: messages,
      generateMessageId: () => `a-${messages.length}`,
      onFinish: async ({ messages: all }) => { saved = all; await chats.saveChat({ chatId: "compat", messages: all }); },
    }));
    return saved;
  };
  const first = await turn([{ id: "u-1", role: "user", parts: [{ type: "text", text: "My name is Sarah." }] }]);
  assert.equal(first.length, 2);
  const fresh = chatStore(await open(kv));
  assert.deepEqual(await fresh.loadChat("compat"), json(first));

  const loaded = await fresh.loadChat("compat");
  const second = await turn([...loaded, { id: "u-2", role: "user", parts: [{ type: "text", text: "What is my name?" }] }]);
  assert.equal(Chat.text(second.at(-1)), "Your name is Sarah.");
  assert.deepEqual(await chatStore(await open(kv)).loadChat("compat"), json(second));
  // The mock model received turn 1 from what our store returned.
  const sent = llm.requests("ai-sdk-compat").at(-1).messages.map((m) => m.text);
  assert.deepEqual(sent, ["My name is Sarah.", Chat.text(first[1]), "What is my name?"]);
  // And our own context builder sees the same conversation (the text parts as content).
  const session = await (await open(kv)).get("compat");
  assert.deepEqual((await session.getMessagesForLLM()).map((m) => m.content), [...sent, "Your name is Sarah."]);
});

const usage = { inputTokens: { total: 3, noCache: 3, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 10, text: 6, reasoning: 4 } };

test("streamText with reasoning, a tool round, a source, a file and a data part: lossless through a fresh store", async () => {
  const kv = mapKv();
  const chats = chatStore(await open(kv));
  let call = 0;
  const model = new MockLanguageModelV4({
    doStream: async () => ({
      stream: convertArrayToReadableStream(call++ === 0
        ? [
          { type: "stream-start", warnings: [] },
          { type: "reasoning-start", id: "r1", providerMetadata: { anthropic: { signature: "sig-1" } } },
          { type: "reasoning-delta", id: "r1", delta: "The user wants weather." },
          { type: "reasoning-end", id: "r1", providerMetadata: { anthropic: { signature: "sig-1" } } },
          { type: "tool-call", toolCallId: "call-1", toolName: "weather", input: JSON.stringify({ city: "Lisbon" }) },
          { type: "finish", finishReason: { unified: "tool-calls", raw: "tool_calls" }, usage },
        ]
        : [
          { type: "stream-start", warnings: [] },
          { type: "source", sourceType: "url", id: "src-1", url: "https://weather.example/lisbon", title: "Lisbon weather" },
          { type: "file", mediaType: "image/png", data: { type: "data", data: "iVBORw0KGgo=" } },
          { type: "text-start", id: "t1" },
          { type: "text-delta", id: "t1", delta: "Sunny in " },
          { type: "text-delta", id: "t1", delta: "Lisbon." },
          { type: "text-end", id: "t1" },
          { type: "finish", finishReason: { unified: "stop", raw: "stop" }, usage },
        ]),
    }),
  });
  const originalMessages = [{ id: "u-1", role: "user", metadata: { sentAt: 1 }, parts: [{ type: "text", text: "Weather in Lisbon?" }] }];
  let finished;
  const stream = createUIMessageStream({
    originalMessages,
    generateId: () => "a-1",
    execute: async ({ writer }) => {
      writer.write({ type: "data-weather", id: "w-1", data: { city: "Lisbon", status: "loading" } });
      const result = streamText({
        model,
        messages: await ai.convertToModelMessages(originalMessages),
        tools: { weather: tool({ inputSchema: z.object({ city: z.string() }), execute: async ({ city }) => ({ city, sunny: true }) }) },
        stopWhen: stepCountIs(3),
      });
      writer.merge(result.toUIMessageStream({ sendReasoning: true, sendSources: true, messageMetadata: ({ part }) => (part.type === "finish" ? { model: "mock", done: true } : undefined) }));
    },
    onFinish: async ({ messages }) => { finished = messages; await chats.saveChat({ chatId: "rich", messages }); },
  });
  await drain(stream);
  const reply = finished.at(-1);
  const types = reply.parts.map((p) => p.type);
  for (const t of ["data-weather", "step-start", "reasoning", "tool-weather", "source-url", "file", "text"]) assert.ok(types.includes(t), `${t} in ${types}`);
  assert.equal(reply.parts.find((p) => p.type === "tool-weather").state, "output-available");
  assert.deepEqual(reply.parts.find((p) => p.type === "reasoning").providerMetadata, { anthropic: { signature: "sig-1" } });
  assert.deepEqual(reply.metadata, { model: "mock", done: true });
  assert.deepEqual(await chatStore(await open(kv)).loadChat("rich"), json(finished));
  const stored = await (await (await open(kv)).get("rich")).getHistory();
  assert.deepEqual(stored.map((m) => [m.id, m.role, m.content]), [["u-1", "user", "Weather in Lisbon?"], ["a-1", "assistant", "Sunny in Lisbon."]]);
});

/** UIMessages made by hand: every part type, tool parts in every state, metadata of every shape. */
function everyPart() {
  const tool = (state, extra) => ({ type: "tool-search", toolCallId: `call-${state}`, state, ...extra });
  return [
    { id: "sys", role: "system", parts: [{ type: "text", text: "Be brief." }] },
    {
      id: "u1", role: "user", metadata: { createdAt: 1717171717, tags: ["a", "b"], nested: { deep: [1, { x: null }] } },
      parts: [
        { type: "text", text: "Look at this" },
        { type: "file", mediaType: "image/png", filename: "cat.png", url: "data:image/png;base64,iVBORw0KGgo=", providerMetadata: { openai: { detail: "low" } } },
      ],
    },
    {
      id: "a1", role: "assistant", metadata: "a string is metadata too",
      parts: [
        { type: "step-start" },
        { type: "reasoning", text: "Thinking…", state: "done", providerMetadata: { anthropic: { signature: "abc", redactedData: "xyz" } } },
        tool("input-streaming", { input: { q: "ca" }, rawInput: "{\"q\":\"ca" }),
        tool("input-available", { input: { q: "cats" }, callProviderMetadata: { openai: { itemId: "fc_1" } } }),
        tool("approval-requested", { input: { q: "cats" }, approval: { id: "ap-1" } }),
        tool("approval-responded", { input: { q: "cats" }, approval: { id: "ap-2", approved: true, reason: "fine" } }),
        tool("output-available", { input: { q: "cats" }, output: { hits: [{ title: "Cats", score: 0.9 }] }, providerExecuted: true, preliminary: false }),
        tool("output-error", { input: { q: "dogs" }, errorText: "rate limited" }),
        tool("output-denied", { input: { q: "rm -rf" }, approval: { id: "ap-3", approved: false, reason: "no" } }),
        { type: "dynamic-tool", toolName: "mcp_lookup", toolCallId: "dyn-1", state: "output-available", input: { id: 7 }, output: "seven" },
        { type: "source-url", sourceId: "s1", url: "https://example.com/cats", title: "Cats" },
        { type: "source-document", sourceId: "s2", mediaType: "application/pdf", title: "Cat facts", filename: "cats.pdf" },
        { type: "file", mediaType: "image/png", url: "https://example.com/cat.png" },
        { type: "data-chart", id: "d1", data: { series: [1, 2, 3], unicode: "ünï ☃ \u0000 \"quoted\"" } },
        { type: "step-start" },
        { type: "text", text: "Here are cats.", state: "done", providerMetadata: { openai: { itemId: "msg_1" } } },
      ],
    },
    { id: "u2", role: "user", parts: [{ type: "file", mediaType: "application/pdf", filename: "only-a-file.pdf", url: "data:application/pdf;base64,JVBERi0=" }] },
  ];
}

test("every UIMessage part, state, id and metadata round-trips through a fresh store; loadChat of an unknown chat is []", async () => {
  const kv = mapKv();
  const chats = chatStore(await open(kv));
  assert.deepEqual(await chats.loadChat("nobody"), []);
  await chats.saveChat({ chatId: "parts", messages: everyPart() });
  const loaded = await chatStore(await open(kv)).loadChat("parts");
  assert.deepEqual(loaded, everyPart());
  // Our context builder sees the text (a file-only user message is described, never empty).
  const s = await (await open(kv)).get("parts");
  const history = await s.getHistory();
  assert.deepEqual(history.map((m) => m.content), ["Be brief.", "Look at this", "Here are cats.", "[file: only-a-file.pdf]"]);
});

test("saving the same array twice writes nothing", async () => {
  const kv = mapKv();
  const chats = chatStore(await open(kv));
  await chats.saveChat({ chatId: "same", messages: everyPart() });
  const before = snapshot(kv);
  const writes = kv.writes;
  await chats.saveChat({ chatId: "same", messages: everyPart() });
  await chatStore(await open(kv)).saveChat({ chatId: "same", messages: structuredClone(await chats.loadChat("same")) });
  assert.equal(kv.writes, writes, "no put or delete");
  assert.equal(snapshot(kv), before);
});

test("a continuation (same last assistant id, more parts) updates that message in place", async () => {
  const kv = mapKv();
  const store = await open(kv);
  const chats = chatStore(store);
  const u = { id: "u1", role: "user", parts: [{ type: "text", text: "Weather?" }] };
  const partial = { id: "a1", role: "assistant", parts: [{ type: "step-start" }, { type: "tool-weather", toolCallId: "c1", state: "input-available", input: { city: "Oslo" } }] };
  await chats.saveChat({ chatId: "cont", messages: [u, partial] });
  const [, first] = await (await store.get("cont")).getHistory();
  const done = { ...partial, parts: [...partial.parts.slice(0, 1), { ...partial.parts[1], state: "output-available", output: { temp: -3 } }, { type: "step-start" }, { type: "text", text: "Cold: -3°C." }] };
  await chats.saveChat({ chatId: "cont", messages: [u, done] });
  const s = await (await open(kv)).get("cont");
  const history = await s.getHistory();
  assert.equal(history.length, 2);
  assert.equal(history[1].id, "a1");
  assert.equal(history[1].seq, first.seq, "the same record, rewritten");
  assert.equal(history[1].content, "Cold: -3°C.");
  assert.equal((await s.getBranches("a1")).length, 1, "no branch made");
  assert.deepEqual(await chatStore(await open(kv)).loadChat("cont"), [u, done]);
});

test("a regenerate keeps the old answer as a branch; going back to it switches; an edit of the first message and a prefix are branches too", async () => {
  const kv = mapKv();
  const chats = chatStore(await open(kv));
  const msg = (id, role, text) => ({ id, role, parts: [{ type: "text", text }] });
  const [u1, a1, a1b, u2, a2] = [msg("u1", "user", "Hi"), msg("a1", "assistant", "Hello!"), msg("a1b", "assistant", "Hey there!"), msg("u2", "user", "Bye"), msg("a2", "assistant", "Bye!")];
  await chats.saveChat({ chatId: "regen", messages: [u1, a1, u2, a2] });
  // The AI SDK's regenerate of a1: the array diverges at position 1 with a new id.
  await chats.saveChat({ chatId: "regen", messages: [u1, a1b] });
  const s = await (await open(kv)).get("regen");
  assert.deepEqual(await chats.loadChat("regen"), [u1, a1b]);
  assert.deepEqual((await s.getBranches("a1b")).map((m) => m.id), ["a1", "a1b"]);
  const count = (await s.export()).messages.length;
  // Back to the old answer (its whole branch follows): a switch, nothing new written.
  await chats.saveChat({ chatId: "regen", messages: [u1, a1, u2, a2] });
  assert.deepEqual(await chats.loadChat("regen"), [u1, a1, u2, a2]);
  // A shorter prefix rewinds (the rest stays a branch), and the longer array comes back to it.
  await chats.saveChat({ chatId: "regen", messages: [u1, a1] });
  assert.deepEqual(await chats.loadChat("regen"), [u1, a1]);
  await chats.saveChat({ chatId: "regen", messages: [u1, a1, u2, a2] });
  assert.deepEqual(await chats.loadChat("regen"), [u1, a1, u2, a2]);
  assert.equal((await (await (await open(kv)).get("regen")).export()).messages.length, count, "switches and rewinds only");
  // A new first message (an edit under a new id) is an alternative to the old first one.
  const u1b = msg("u1b", "user", "Hello");
  await chats.saveChat({ chatId: "regen", messages: [u1b] });
  const t = await (await open(kv)).get("regen");
  assert.deepEqual((await t.getBranches("u1")).map((m) => m.id), ["u1", "u1b"]);
  assert.deepEqual(await chatStore(await open(kv)).loadChat("regen"), [u1b]);
  await chats.saveChat({ chatId: "regen", messages: [u1, a1b] });
  assert.deepEqual(await chats.loadChat("regen"), [u1, a1b]);
});

test("AbstractChat over SessionsChatTransport: send, the answer streams and is stored with the ids it announced; turn 2 sees turn 1; regenerate keeps a branch", async () => {
  const kv = mapKv();
  const store = await open(kv);
  const agent = new Agent({ store, llm: { provider: "mock" } });
  const transport = new SessionsChatTransport({ agent, sessionId: (id) => `chat:${id}` });
  const chat = new Chat({ id: "t1", transport });
  await chat.sendMessage({ text: "My name is Sarah." });
  assert.equal(chat.status, "ready");
  assert.equal(Chat.text(chat.messages[1]), "Nice to meet you, Sarah! I'll remember that.");
  await chat.sendMessage({ text: "What is my name?" });
  assert.equal(Chat.text(chat.messages[3]), "Your name is Sarah.");
  const chats = chatStore(await open(kv));
  assert.deepEqual(await chats.loadChat("chat:t1"), json(chat.messages), "the same ids and parts the stream announced");
  // Saving the client's array (what an app's onFinish does) writes nothing more.
  const writes = kv.writes;
  await chats.saveChat({ chatId: "chat:t1", messages: chat.messages });
  assert.equal(kv.writes, writes);

  const old = chat.messages[3].id;
  await chat.regenerate();
  assert.equal(chat.status, "ready");
  assert.notEqual(chat.messages[3].id, old);
  const s = await (await open(kv)).get("chat:t1");
  assert.deepEqual((await s.getBranches(old)).map((m) => m.id), [old, chat.messages[3].id]);
  assert.deepEqual(await chatStore(await open(kv)).loadChat("chat:t1"), json(chat.messages));
  assert.equal(await transport.reconnectToStream({ chatId: "t1" }), null, "nothing to resume");
});

test("SessionsChatTransport: an error is an error chunk; an abort keeps the partial reply, not resumed", async () => {
  const store = await SessionStore.open({ storage: { type: "memory" } });
  const failing = new Agent({ store, llm: { provider: "openai", model: "m", apiKey: "k", baseUrl: "http://127.0.0.1:9/v1" }, retry: { maxRetries: 0 } });
  const errors = [];
  const chat = new Chat({ id: "err", transport: new SessionsChatTransport({ agent: failing }), onError: (e) => errors.push(e) });
  await chat.sendMessage({ text: "Hello?" });
  assert.equal(chat.status, "error");
  assert.match(errors[0].message, /^LLM_NETWORK/);

  const slow = new Agent({ store, llm: { provider: "mock", chunkDelayMs: 50 } });
  const transport = new SessionsChatTransport({ agent: slow });
  const stopped = new Chat({ id: "stop", transport });
  const sending = stopped.sendMessage({ text: "My name is Sarah." });
  await stopped.until((c) => c.messages.length === 2 && Chat.text(c.messages[1]).length > 0, "a first delta");
  await stopped.stop();
  await sending;
  const s = await store.get("stop");
  const [, reply] = await s.getHistory();
  assert.equal(reply.status, "interrupted");
  assert.equal(reply.id, stopped.messages[1].id);
  assert.equal(await transport.reconnectToStream({ chatId: "stop" }), null, "a stopped reply is not resumed");
});

test("reconnectToStream resumes a reply cut off mid-stream: the whole reply, the same message, complete", async () => {
  const kv = mapKv();
  const store = await open(kv);
  const agent = new Agent({ store, llm: { provider: "mock", chunkDelayMs: 5 } });
  // The page that was streaming went away after three deltas (its run stored the partial reply).
  await store.getOrCreate("cut");
  let seen = 0;
  for await (const e of agent.stream("My name is Sarah.", "cut")) if (e.type === "delta" && ++seen === 3) break;
  const fresh = await open(kv);
  const [, partial] = await (await fresh.get("cut")).getHistory();
  assert.equal(partial.status, "interrupted");
  // The reloaded page: the history from the store, then the AI SDK's resumeStream.
  const reloadedAgent = new Agent({ store: fresh, llm: { provider: "mock", chunkDelayMs: 5 } });
  const reloaded = new Chat({ id: "cut", transport: new SessionsChatTransport({ agent: reloadedAgent }), messages: await chatStore(fresh).loadChat("cut") });
  assert.equal(Chat.text(reloaded.messages[1]), partial.content);
  await reloaded.resumeStream();
  assert.equal(reloaded.status, "ready");
  assert.equal(reloaded.messages.length, 2);
  assert.equal(reloaded.messages[1].id, partial.id);
  assert.equal(Chat.text(reloaded.messages[1]), "Nice to meet you, Sarah! I'll remember that.");
  const [, done] = await (await (await open(kv)).get("cut")).getHistory();
  assert.equal(done.status, "complete");
  assert.deepEqual(await chatStore(await open(kv)).loadChat("cut"), json(reloaded.messages));
});

test("the transport's chunks are what readUIMessageStream turns into the stored UI form", async () => {
  const store = await SessionStore.open({ storage: { type: "memory" } });
  const agent = new Agent({ store, llm: { provider: "mock" } });
  const transport = new SessionsChatTransport({ agent });
  const messages = [{ id: "q", role: "user", parts: [{ type: "text", text: "My name is Sarah." }] }];
  const stream = await transport.sendMessages({ trigger: "submit-message", chatId: "r", messageId: undefined, messages, abortSignal: undefined });
  let last;
  for await (const m of readUIMessageStream({ stream })) last = m;
  const loaded = await chatStore(store).loadChat("r");
  assert.deepEqual(loaded, json([...messages, last]));
});

test("the declarations type a consumer against the real `ai` types (tsc --strict, tests/types/ai-sdk)", () => {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const r = spawnSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, "-p", `${root}tests/types/ai-sdk`], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("the agent's tool calls stream as dynamic-tool parts, stored as the client built them", async () => {
  const store = await SessionStore.open({ storage: { type: "memory" } });
  const agent = new Agent({
    store,
    tools: [{ name: "weather", parameters: { type: "object", properties: { city: { type: "string" } } } }],
    llm: { provider: "custom", handler: () => ({ content: "Checking.", toolCalls: [{ id: "call-1", name: "weather", arguments: '{"city":"Oslo"}' }], finishReason: "tool_calls" }) },
  });
  const chat = new Chat({ id: "tools", transport: new SessionsChatTransport({ agent }) });
  await chat.sendMessage({ text: "Weather in Oslo?" });
  const reply = chat.messages[1];
  assert.deepEqual(reply.parts.map((p) => p.type), ["step-start", "text", "dynamic-tool"]);
  assert.deepEqual(reply.parts[2].input, { city: "Oslo" });
  assert.equal(reply.parts[2].state, "input-available");
  assert.deepEqual(await chatStore(store).loadChat("tools"), json(chat.messages));
  const [, stored] = await (await store.get("tools")).getHistory();
  assert.deepEqual(stored.toolCalls, [{ id: "call-1", name: "weather", arguments: '{"city":"Oslo"}' }], "our own record keeps the call");
});
