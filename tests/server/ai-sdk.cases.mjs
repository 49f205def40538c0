// The API's AI SDK mode (`POST /agents/{agent}/chat`, `GET …/chat/{id}/stream`), driven by the
// AI SDK's own client: its DefaultChatTransport, under its AbstractChat (useChat's core) or read
// with readUIMessageStream. Part of apiCases: runs against Node's server and the Worker alike.
import assert from "node:assert/strict";
import * as ai from "ai";
import { DefaultChatTransport, readUIMessageStream } from "ai";
import { chatClass } from "../support/ai-sdk-chat.mjs";
import { client, TOKENS } from "./support.mjs";

const Chat = chatClass(ai);
const LONG = "Please repeat after me: " + Array.from({ length: 30 }, (_, i) => `u${i}`).join(" ");
const uid = (p) => `${p}-${Math.random().toString(36).slice(2)}`;
const userMessage = (text) => ({ id: uid("msg"), role: "user", parts: [{ type: "text", text }] });

const errorShape = (r, status, code) => {
  assert.equal(r.status, status, `${status} ${code}: got ${r.status} ${r.text}`);
  assert.equal(r.json?.error?.code, code, r.text);
  assert.equal(typeof r.json.error.message, "string");
};

/** The last message a UI chunk stream builds (the AI SDK's own reader). */
async function lastMessage(stream) {
  let last;
  for await (const m of readUIMessageStream({ stream })) last = m;
  return last;
}

export function aiSdkCases(test, server) {
  const S = "/agents/assistant/sessions";
  /** A DefaultChatTransport for `agent` as the tenant of `token`; `responses` sees every Response. */
  const transport = (token, agent = "assistant", responses = []) =>
    new DefaultChatTransport({
      api: `${server().url}/agents/${agent}/chat`,
      headers: { authorization: `Bearer ${token}` },
      fetch: async (url, init) => {
        const r = await fetch(url, init);
        responses.push(r);
        return r;
      },
    });
  const storedChat = async (a, id, agent = "assistant") => {
    const r = await a.call("GET", `/agents/${agent}/sessions/${encodeURIComponent(id)}/messages`);
    assert.equal(r.status, 200, r.text);
    return r.json.messages;
  };
  const shape = (messages) => messages.map((m) => [m.id, m.role, m.parts ? Chat.text(m) : m.content]);

  test("AI SDK chat: DefaultChatTransport's turns; the agent remembers; the chat is stored as the client has it", async () => {
    const a = client(server().url, TOKENS.a);
    const responses = [];
    const chat = new Chat({ id: uid("chat"), transport: transport(TOKENS.a, "assistant", responses) });
    await chat.sendMessage({ text: "My name is Sarah." });
    assert.equal(chat.error, undefined, String(chat.error));
    assert.equal(responses[0].headers.get("x-vercel-ai-ui-message-stream"), "v1");
    assert.match(responses[0].headers.get("content-type"), /^text\/event-stream/);
    await chat.sendMessage({ text: "What is my name?" });
    assert.equal(chat.error, undefined, String(chat.error));
    assert.deepEqual(chat.messages.map((m) => m.role), ["user", "assistant", "user", "assistant"]);
    assert.equal(Chat.text(chat.messages[3]), "Your name is Sarah.");
    // The session is the chat: the same ids (the client's for questions, ours for replies), texts.
    assert.deepEqual(shape(await storedChat(a, chat.id)), shape(chat.messages));
    // A reply's UI form: a step and its text, done.
    assert.deepEqual(JSON.parse(JSON.stringify(chat.messages[3].parts)), [{ type: "step-start" }, { type: "text", text: "Your name is Sarah.", state: "done" }]);
    // Nothing is left to resume once a reply is complete... other than its replay.
    assert.equal((await a.call("GET", `${S}/${encodeURIComponent(chat.id)}`)).json.busy, false);
  });

  test("AI SDK chat: regenerate answers the question again on a new branch, the old answer kept", async () => {
    const a = client(server().url, TOKENS.a);
    const chat = new Chat({ id: uid("chat"), transport: transport(TOKENS.a) });
    await chat.sendMessage({ text: "Hello there" });
    const [q, first] = chat.messages;
    await chat.regenerate();
    assert.equal(chat.error, undefined, String(chat.error));
    assert.equal(chat.messages.length, 2);
    const second = chat.messages[1];
    assert.notEqual(second.id, first.id);
    assert.equal(chat.messages[0].id, q.id);
    assert.deepEqual(shape(await storedChat(a, chat.id)), shape(chat.messages));
    const br = (await a.call("GET", `${S}/${encodeURIComponent(chat.id)}/messages/${second.id}/branches`)).json.branches;
    assert.deepEqual(br.map((m) => m.id), [first.id, second.id]);
    // Regenerating a question that is not in the chat, or in a chat that does not exist.
    const body = { id: chat.id, trigger: "regenerate-message", messages: [userMessage("x")] };
    errorShape(await a.call("POST", "/agents/assistant/chat", body), 404, "MESSAGE_NOT_FOUND");
    errorShape(await a.call("POST", "/agents/assistant/chat", { ...body, id: uid("none") }), 404, "SESSION_NOT_FOUND");
  });

  test("AI SDK chat: a dropped stream is resumed with reconnectToStream; busy meanwhile; 204 when nothing runs; tenants apart", async () => {
    const a = client(server().url, TOKENS.a);
    const b = client(server().url, TOKENS.b);
    const t = transport(TOKENS.a, "slow");
    const chatId = uid("chat");
    const question = userMessage(LONG);
    const ac = new AbortController();
    const stream = await t.sendMessages({ chatId, messages: [question], trigger: "submit-message", messageId: undefined, abortSignal: ac.signal });
    const reader = stream.getReader();
    const seen = [];
    while (!seen.some((c) => c.type === "text-delta")) seen.push((await reader.read()).value);
    assert.equal(seen[0].type, "start");
    ac.abort(); // the connection goes; the run goes on
    await reader.cancel().catch(() => {});
    // While it runs: another message is 409 SESSION_BUSY; the other tenant sees no such chat.
    const body = { id: chatId, trigger: "submit-message", messages: [question, userMessage("and?")] };
    errorShape(await a.call("POST", "/agents/slow/chat", body), 409, "SESSION_BUSY");
    assert.equal(await transport(TOKENS.b, "slow").reconnectToStream({ chatId }), null);
    errorShape(await b.call("GET", `/agents/slow/sessions/${chatId}/messages`), 404, "SESSION_NOT_FOUND");
    // The resumed stream is the whole reply, from its start (the AI SDK rebuilds the message).
    const resumed = await t.reconnectToStream({ chatId });
    assert.ok(resumed, "an active (or just finished) run is resumed");
    const reply = await lastMessage(resumed);
    assert.equal(reply.id, seen[0].messageId);
    const stored = await storedChat(a, chatId, "slow");
    assert.deepEqual(stored.map((m) => [m.id, m.role, m.status]), [[question.id, "user", "complete"], [reply.id, "assistant", "complete"]]);
    assert.equal(Chat.text(reply), stored[1].content);
    assert.ok(stored[1].content.includes("u0 u1") && stored[1].content.includes("message 1 of"), stored[1].content);
    // No run for a chat never used, or for one of another agent.
    assert.equal(await t.reconnectToStream({ chatId: uid("none") }), null);
    assert.equal(await transport(TOKENS.a).reconnectToStream({ chatId }), null);
  });

  test("AI SDK chat: bad requests are typed JSON errors and store nothing", async () => {
    const a = client(server().url, TOKENS.a);
    const C = "/agents/assistant/chat";
    const id = uid("chat");
    const ok = { id, trigger: "submit-message", messages: [userMessage("hi")] };
    errorShape(await a.call("POST", C, "{not json"), 400, "INVALID_JSON");
    errorShape(await a.call("POST", C, []), 400, "INVALID_ARGUMENT");
    errorShape(await a.call("POST", C, { ...ok, id: "" }), 400, "INVALID_ARGUMENT");
    errorShape(await a.call("POST", C, { ...ok, id: "a\u0000b" }), 400, "INVALID_ID");
    errorShape(await a.call("POST", C, { ...ok, trigger: "resume" }), 400, "INVALID_ARGUMENT");
    errorShape(await a.call("POST", C, { ...ok, messages: [] }), 400, "INVALID_ARGUMENT");
    errorShape(await a.call("POST", C, { ...ok, messages: [{ role: "user", content: "hi" }] }), 400, "INVALID_ARGUMENT");
    errorShape(await a.call("POST", C, { ...ok, messages: [{ id: "m1", role: "assistant", parts: [] }] }), 400, "INVALID_ARGUMENT");
    errorShape(await client(server().url).call("POST", C, ok), 401, "UNAUTHENTICATED");
    errorShape(await a.call("POST", "/agents/nobody/chat", ok), 404, "AGENT_NOT_FOUND");
    errorShape(await a.call("GET", C), 405, "METHOD_NOT_ALLOWED");
    errorShape(await a.call("GET", `${S}/${id}`), 404, "SESSION_NOT_FOUND");
    // A question the library refuses (blank text; a payload key that could reach a prototype) is
    // a typed 400 before any stream, and the chat it would have created does not exist.
    const blank = { id: "m-blank", role: "user", parts: [{ type: "text", text: "   " }] };
    errorShape(await a.call("POST", C, { ...ok, messages: [blank] }), 400, "INVALID_MESSAGE");
    const proto = JSON.parse('{"id":"m-proto","role":"user","parts":[{"type":"text","text":"hi"}],"metadata":{"__proto__":{"x":1}}}');
    errorShape(await a.call("POST", C, { ...ok, messages: [proto] }), 400, "INVALID_MESSAGE");
    errorShape(await a.call("GET", `${S}/${id}`), 404, "SESSION_NOT_FOUND");
    // The AI SDK's client reports the error body.
    await assert.rejects(transport(TOKENS.a).sendMessages({ chatId: id, messages: [], trigger: "submit-message" }), /INVALID_ARGUMENT/);
    // A question sent twice (same id) is refused: the first one is stored and answered once.
    assert.equal((await fetch(`${server().url}${C}`, { method: "POST", headers: { authorization: `Bearer ${TOKENS.a}`, "content-type": "application/json" }, body: JSON.stringify(ok) }).then((r) => r.text())).endsWith("data: [DONE]\n\n"), true);
    errorShape(await a.call("POST", C, ok), 400, "INVALID_ARGUMENT");
    assert.deepEqual((await storedChat(a, id)).map((m) => m.role), ["user", "assistant"]);
  });
}
