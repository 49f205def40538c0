// The API's A2A face, the same against every runtime: @a2a-js/sdk's own client (ClientFactory,
// its JSON-RPC transport) reads the agent card, sends and streams on one context (= session),
// reads and cancels tasks (= runs); tenants stay apart; bad requests get JSON-RPC error codes.
import assert from "node:assert/strict";
import { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory } from "@a2a-js/sdk/client";
import { Role, TaskState } from "@a2a-js/sdk";
import { client, TOKENS } from "./support.mjs";

const LONG = "Please repeat after me: " + Array.from({ length: 30 }, (_, i) => `w${i}`).join(" ");

/** The SDK's client for one agent, its requests carrying the tenant's bearer token. */
async function a2aClient(base, agent, token) {
  const fetchImpl = (url, init = {}) => fetch(url, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } });
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, { transports: [new JsonRpcTransportFactory({ fetchImpl })] }),
  );
  return factory.createFromUrl(`${base}/agents/${agent}/`);
}

const userMessage = (text, contextId) => ({
  message: { messageId: crypto.randomUUID(), role: Role.ROLE_USER, parts: [{ content: { $case: "text", value: text } }], ...(contextId ? { contextId } : {}) },
});
const texts = (parts) => parts.map((p) => p.content.value).join("");

/** Reads a stream of StreamResponse events until `stop(event)` (the stream stays open) or its end. */
async function collect(stream, stop = () => false) {
  const out = [];
  for (let r; !(r = await stream.next()).done; ) {
    out.push(r.value.payload);
    if (stop(r.value.payload)) break;
  }
  return out;
}

export function a2aCases(test, server) {
  const url = () => server().url;
  const rpc = (token, body, agent = "assistant") => client(url(), token).call("POST", `/agents/${agent}/a2a`, body);

  test("A2A: the agent card is public and points at the JSON-RPC endpoint; the endpoint is not", async () => {
    const r = await fetch(`${url()}/agents/assistant/.well-known/agent-card.json`);
    assert.equal(r.status, 200);
    const card = await r.json();
    assert.equal(card.name, "assistant");
    assert.deepEqual(card.supportedInterfaces, [{ url: `${url()}/agents/assistant/a2a`, protocolBinding: "JSONRPC", protocolVersion: "1.0" }]);
    assert.equal(card.capabilities.streaming, true);
    assert.equal(card.securitySchemes.bearer.httpAuthSecurityScheme.scheme, "Bearer");
    assert.deepEqual(card.securityRequirements, [{ schemes: { bearer: { list: [] } } }]);
    assert.ok(card.skills.length >= 1 && card.description);
    const missing = await client(url()).call("GET", "/agents/nobody/.well-known/agent-card.json");
    assert.deepEqual([missing.status, missing.json.error.code], [404, "AGENT_NOT_FOUND"]);
    const anon = await client(url()).call("POST", "/agents/assistant/a2a", { jsonrpc: "2.0", id: 1, method: "GetTask", params: { id: "x" } });
    assert.deepEqual([anon.status, anon.json.error.code], [401, "UNAUTHENTICATED"]);
  });

  test("A2A: the SDK client sends twice on one context and the agent remembers; the context is the session", async () => {
    const a = await a2aClient(url(), "assistant", TOKENS.a);
    const t1 = await a.sendMessage(userMessage("My name is Sarah."));
    assert.equal(t1.status.state, TaskState.TASK_STATE_COMPLETED);
    assert.match(t1.contextId, /^sess_[0-9a-f]{32}$/);
    const t2 = await a.sendMessage(userMessage("What is my name?", t1.contextId));
    assert.equal(t2.contextId, t1.contextId);
    assert.notEqual(t2.id, t1.id);
    assert.equal(texts(t2.artifacts[0].parts), "Your name is Sarah.");
    assert.equal(t2.status.message.role, Role.ROLE_AGENT);
    assert.equal(texts(t2.status.message.parts), "Your name is Sarah.");
    assert.deepEqual(t2.history.map((m) => [m.role, texts(m.parts)]), [
      [Role.ROLE_USER, "My name is Sarah."], [Role.ROLE_AGENT, t1.artifacts[0].parts[0].content.value],
      [Role.ROLE_USER, "What is my name?"], [Role.ROLE_AGENT, "Your name is Sarah."],
    ]);
    // The same session over REST.
    const h = await client(url(), TOKENS.a).call("GET", `/agents/assistant/sessions/${encodeURIComponent(t1.contextId)}/messages`);
    assert.deepEqual(h.json.messages.map((m) => m.content).at(-1), "Your name is Sarah.");
    assert.equal(h.json.messages.at(-1).id, t2.status.message.messageId);
    // GetTask: the first task, later, with the newest two messages of its context.
    const g = await a.getTask({ id: t1.id, historyLength: 2 });
    assert.deepEqual([g.id, g.contextId, g.status.state], [t1.id, t1.contextId, TaskState.TASK_STATE_COMPLETED]);
    assert.equal(texts(g.artifacts[0].parts), texts(t1.artifacts[0].parts));
    assert.deepEqual(g.history.map((m) => texts(m.parts)), ["What is my name?", "Your name is Sarah."]);
    // A contextId the client chose starts a session by that id.
    const own = `a2a-${crypto.randomUUID()}`;
    const t3 = await a.sendMessage(userMessage("My name is Olga.", own));
    assert.equal(t3.contextId, own);
    assert.equal(texts((await a.sendMessage(userMessage("What is my name?", own))).artifacts[0].parts), "Your name is Olga.");
  });

  test("A2A: a streamed message: the task, working, the answer's artifact chunks, completed; GetTask agrees", async () => {
    const a = await a2aClient(url(), "slow", TOKENS.a);
    const events = await collect(a.sendMessageStream(userMessage(LONG)));
    const cases = events.map((e) => e.$case);
    assert.equal(cases[0], "task");
    const task = events[0].value;
    assert.equal(task.status.state, TaskState.TASK_STATE_SUBMITTED);
    assert.equal(texts(task.history[0].parts), LONG);
    assert.equal(events[1].value.status.state, TaskState.TASK_STATE_WORKING);
    const chunks = events.filter((e) => e.$case === "artifactUpdate").map((e) => e.value);
    assert.ok(chunks.length > 3, `several chunks: ${cases}`);
    assert.deepEqual(chunks.map((c) => c.append), [false, ...chunks.slice(1).map(() => true)]);
    assert.ok(chunks.every((c) => c.taskId === task.id && c.contextId === task.contextId));
    const last = events.at(-1);
    assert.equal(last.$case, "statusUpdate");
    assert.equal(last.value.status.state, TaskState.TASK_STATE_COMPLETED);
    const answer = chunks.map((c) => texts(c.artifact.parts)).join("");
    assert.equal(texts(last.value.status.message.parts), answer);
    assert.match(answer, /You said: "Please repeat after me: w0 w1/);
    const g = await a.getTask({ id: task.id });
    assert.equal(g.status.state, TaskState.TASK_STATE_COMPLETED);
    assert.equal(texts(g.artifacts[0].parts), answer);
    assert.deepEqual(g.history.map((m) => m.role), [Role.ROLE_USER, Role.ROLE_AGENT]);
  });

  test("A2A: CancelTask stops a working task (the stream ends canceled); a finished task is not cancelable", async () => {
    const a = await a2aClient(url(), "slow", TOKENS.a);
    const stream = a.sendMessageStream(userMessage(LONG));
    const head = await collect(stream, (e) => e.$case === "artifactUpdate");
    const task = head[0].value;
    const canceled = await a.cancelTask({ id: task.id });
    assert.equal(canceled.status.state, TaskState.TASK_STATE_CANCELED);
    const rest = await collect(stream);
    assert.equal(rest.at(-1).value.status.state, TaskState.TASK_STATE_CANCELED);
    assert.equal((await a.getTask({ id: task.id })).status.state, TaskState.TASK_STATE_CANCELED);
    const again = await rpc(TOKENS.a, { jsonrpc: "2.0", id: 7, method: "CancelTask", params: { id: task.id } }, "slow");
    assert.deepEqual([again.status, again.json.id, again.json.error.code], [200, 7, -32002]);
  });

  test("A2A: another tenant sees neither the task nor the context's memory", async () => {
    const a = await a2aClient(url(), "assistant", TOKENS.a);
    const b = await a2aClient(url(), "assistant", TOKENS.b);
    const t = await a.sendMessage(userMessage("My name is Sarah."));
    await assert.rejects(b.getTask({ id: t.id }), (e) => e.name === "TaskNotFoundError");
    await assert.rejects(b.cancelTask({ id: t.id }), (e) => e.name === "TaskNotFoundError");
    const tb = await b.sendMessage(userMessage("What is my name?", t.contextId));
    assert.doesNotMatch(texts(tb.artifacts[0].parts), /Sarah/);
    // A's context is as A left it.
    const g = await a.getTask({ id: t.id });
    assert.deepEqual(g.history.map((m) => texts(m.parts)), ["My name is Sarah.", texts(t.artifacts[0].parts)]);
  });

  test("A2A: JSON-RPC errors with the spec's codes, over HTTP 200", async () => {
    const expect = async (body, code, id = 1) => {
      const r = await rpc(TOKENS.a, body);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.jsonrpc, "2.0");
      assert.equal(r.json.id, id);
      assert.equal(r.json.error.code, code, r.text);
      assert.equal(typeof r.json.error.message, "string");
      assert.equal(r.json.result, undefined);
    };
    await expect("{not json", -32700, null);
    await expect({ id: 1, method: "GetTask" }, -32600);
    await expect([{ jsonrpc: "2.0", id: 1, method: "GetTask" }], -32600, null);
    await expect({ jsonrpc: "2.0", id: 1, method: "message/teleport", params: {} }, -32601);
    await expect({ jsonrpc: "2.0", id: 1, method: "SendMessage", params: {} }, -32602);
    await expect({ jsonrpc: "2.0", id: 1, method: "SendMessage", params: [] }, -32602);
    await expect({ jsonrpc: "2.0", id: 1, method: "SendMessage", params: { message: { role: "ROLE_AGENT", parts: [{ text: "hi" }] } } }, -32602);
    await expect({ jsonrpc: "2.0", id: 1, method: "SendMessage", params: { message: { role: "ROLE_USER", parts: [{ url: "https://x/y.png" }] } } }, -32005);
    await expect({ jsonrpc: "2.0", id: "q", method: "GetTask", params: {} }, -32602, "q");
    await expect({ jsonrpc: "2.0", id: 1, method: "GetTask", params: { id: "run_0:sess_missing" } }, -32001);
    await expect({ jsonrpc: "2.0", id: 1, method: "GetTask", params: { id: "no-such-task" } }, -32001);
    // A bad session id is the library's INVALID_ID, as invalid params, its code kept.
    const bad = await rpc(TOKENS.a, { jsonrpc: "2.0", id: 2, method: "SendMessage", params: { message: { role: "ROLE_USER", contextId: "x".repeat(5000), parts: [{ text: "hi" }] } } });
    assert.deepEqual([bad.json.error.code, bad.json.error.data?.code], [-32602, "INVALID_ID"], bad.text);
    // And through the SDK: its typed error.
    const a = await a2aClient(url(), "assistant", TOKENS.a);
    await assert.rejects(a.getTask({ id: "run_0:sess_missing" }), (e) => e.name === "TaskNotFoundError");
  });
}
