// agent-sessions/ai-sdk in headless Chromium: the AI SDK's own AbstractChat (a useChat-equivalent
// client with a plain state, as the SDK's tests do; `ai` bundled for the page with esbuild) over
// SessionsChatTransport, our Agent running in the page with IndexedDB and the offline mock
// provider. Send, the answer streams; reload, the history loads from our store and the next
// answer shows the agent saw turn 1; regenerate keeps the old answer as a branch; a reload in the
// middle of a stream, then resumeStream (reconnectToStream) finishes the same message.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { launch, routeHarness, servedOrigin } from "./browser.mjs";

const served = servedOrigin();
const root = fileURLToPath(new URL("../../", import.meta.url));
const DEADLINE = 60_000;
let bundle;

before(async () => {
  // The real `ai` package (its ESM build) and the test client, as one module for the page.
  const out = await esbuild.build({
    stdin: {
      contents: 'export { AbstractChat } from "ai"; export { chatClass } from "./tests/support/ai-sdk-chat.mjs";',
      resolveDir: root, sourcefile: "ai-sdk-page.mjs", loader: "js",
    },
    bundle: true, format: "esm", platform: "browser", target: "es2022", write: false, logLevel: "error",
  });
  bundle = out.outputFiles[0].text;
});

async function page(context) {
  const p = await context.newPage();
  p.on("pageerror", (e) => console.error("[page error]", e));
  await routeHarness(p, served.origin);
  await p.route(`${served.origin}/ai-sdk-page.js`, (r) => r.fulfill({ contentType: "text/javascript", body: bundle }));
  await p.goto(`${served.origin}/harness.html`);
  return p;
}

/** In the page: a store over IndexedDB, an agent, the transport, and a chat loaded from the store. */
async function setup(p, { chatId, chunkDelayMs = 0 }) {
  await p.evaluate(async ({ chatId, chunkDelayMs }) => {
    const { Agent, SessionStore } = await import("/pkg/browser.js");
    const { chatStore, SessionsChatTransport } = await import("/pkg/ai-sdk.js");
    const ai = await import("/ai-sdk-page.js");
    const Chat = ai.chatClass(ai);
    const store = await SessionStore.open({ storage: { type: "indexeddb", name: "ai-sdk-e2e" } });
    const agent = new Agent({ store, llm: { provider: "mock", chunkDelayMs } });
    const transport = new SessionsChatTransport({ agent });
    const chats = chatStore(store);
    const chat = new Chat({ id: chatId, transport, messages: await chats.loadChat(chatId) });
    const stored = [];
    store.on("message:added", (e) => stored.push({ id: e.message.id, role: e.message.role, status: e.message.status }));
    const plain = (v) => JSON.parse(JSON.stringify(v));
    window.t = { store, agent, transport, chats, chat, Chat, stored, plain, chatId };
  }, { chatId, chunkDelayMs });
}

const state = (p) => p.evaluate(() => ({ status: t.chat.status, messages: t.plain(t.chat.messages) }));
const text = (m) => m.parts.filter((x) => x.type === "text").map((x) => x.text).join("");

test("useChat over SessionsChatTransport in the page: send, reload, the history and turn 1 are there, regenerate keeps a branch", async () => {
  const { context } = await launch();
  try {
    const p = await page(context);
    await setup(p, { chatId: "sarah" });
    await p.evaluate(() => t.chat.sendMessage({ text: "My name is Sarah." }));
    const first = await state(p);
    assert.equal(first.status, "ready");
    assert.equal(first.messages.length, 2);
    assert.equal(text(first.messages[1]), "Nice to meet you, Sarah! I'll remember that.");

    await p.reload();
    await setup(p, { chatId: "sarah" });
    const reloaded = await state(p);
    assert.deepEqual(reloaded.messages, first.messages, "the history loads from IndexedDB with the ids the stream announced");
    await p.evaluate(() => t.chat.sendMessage({ text: "What is my name?" }));
    const second = await state(p);
    assert.equal(second.status, "ready");
    assert.equal(text(second.messages[3]), "Your name is Sarah.", "the agent saw turn 1");

    const old = second.messages[3].id;
    await p.evaluate(() => t.chat.regenerate());
    const after = await state(p);
    assert.equal(after.messages.length, 4);
    assert.notEqual(after.messages[3].id, old);
    assert.equal(text(after.messages[3]), "Your name is Sarah.");
    const branches = await p.evaluate(async (old) => (await (await t.store.get(t.chatId)).getBranches(old)).map((m) => m.id), old);
    assert.deepEqual(branches, [old, after.messages[3].id], "the old answer stays as a branch");

    await p.reload();
    await setup(p, { chatId: "sarah" });
    assert.deepEqual((await state(p)).messages, after.messages, "the regenerated answer is the active one after a reload");
    assert.equal(await p.evaluate(() => t.transport.reconnectToStream({ chatId: t.chatId })), null, "nothing to resume");
  } finally {
    await context.close();
  }
});

test("a reload in the middle of a stream: resumeStream (reconnectToStream) finishes the same message", async () => {
  const { context } = await launch();
  try {
    const p = await page(context);
    // Slow enough that the reload lands mid-answer: 8 words, 400 ms apart.
    await setup(p, { chatId: "cut", chunkDelayMs: 400 });
    await p.evaluate(() => { t.sending = t.chat.sendMessage({ text: "My name is Sarah." }); });
    // The first deltas are on screen and the partial reply is in IndexedDB.
    await p.waitForFunction(() => t.chat.messages.length === 2 && t.chat.messages[1].parts.some((x) => x.type === "text" && x.text.split(" ").length >= 3)
      && t.stored.some((m) => m.role === "assistant"), null, { timeout: DEADLINE, polling: 20 });
    const partialId = await p.evaluate(() => t.chat.messages[1].id);
    await p.reload();

    await setup(p, { chatId: "cut" });
    const before = await state(p);
    assert.equal(before.messages.length, 2);
    assert.equal(before.messages[1].id, partialId, "the cut reply, under the id the stream announced");
    const cut = text(before.messages[1]);
    assert.ok(cut.length > 0 && "Nice to meet you, Sarah! I'll remember that.".startsWith(cut), cut);
    const stored = await p.evaluate(async () => (await (await t.store.get(t.chatId)).getHistory()).map((m) => m.status));
    assert.deepEqual(stored, ["complete", "interrupted"]);

    await p.evaluate(() => t.chat.resumeStream());
    const after = await state(p);
    assert.equal(after.status, "ready");
    assert.equal(after.messages.length, 2);
    assert.equal(after.messages[1].id, partialId);
    assert.equal(text(after.messages[1]), "Nice to meet you, Sarah! I'll remember that.");
    const done = await p.evaluate(async () => (await (await t.store.get(t.chatId)).getHistory()).map((m) => m.status));
    assert.deepEqual(done, ["complete", "complete"]);
    assert.deepEqual(await p.evaluate(async () => t.plain(await t.chats.loadChat(t.chatId))), after.messages);

    // And the conversation goes on from the resumed reply.
    await p.evaluate(() => t.chat.sendMessage({ text: "What is my name?" }));
    assert.equal(text((await state(p)).messages[3]), "Your name is Sarah.");
  } finally {
    await context.close();
  }
});
