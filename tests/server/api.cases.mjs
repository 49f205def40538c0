// The API's behaviour, the same against every runtime (Node's `agent-sessions serve`, the Worker
// in workerd): every endpoint and error status, tenant isolation, streaming, resume after a
// dropped connection, busy and cancel, CORS. `server()` gives the running server's URL.
import assert from "node:assert/strict";
import { client, openStream, TOKENS } from "./support.mjs";
import { aiSdkCases } from "./ai-sdk.cases.mjs";

const LONG = "Please repeat after me: " + Array.from({ length: 30 }, (_, i) => `w${i}`).join(" ");

const errorShape = (r, status, code) => {
  assert.equal(r.status, status, `${status} ${code}: got ${r.status} ${r.text}`);
  assert.equal(r.json?.error?.code, code, r.text);
  assert.equal(typeof r.json.error.message, "string");
  assert.ok("details" in r.json.error);
};

export function apiCases(test, server) {
  const A = () => client(server().url, TOKENS.a);
  const B = () => client(server().url, TOKENS.b);
  const S = "/agents/assistant/sessions";
  const SLOW = "/agents/slow/sessions";
  aiSdkCases(test, server);

  test("create with no body, send, and the agent remembers", async () => {
    const a = A();
    const c = await a.call("POST", S, undefined, { "content-type": "application/json" });
    assert.equal(c.status, 201);
    assert.match(c.json.session_id, /^sess_[0-9a-f]{32}$/);
    assert.equal(c.json.title, null);
    assert.deepEqual(c.json.metadata, {});
    assert.ok(Date.parse(c.json.created_at));
    const id = c.json.session_id;
    const r1 = await a.call("POST", `${S}/${id}/messages`, { message: "My name is Sarah." });
    assert.equal(r1.status, 200, r1.text);
    assert.equal(r1.json.session_id, id);
    assert.equal(r1.json.message.role, "assistant");
    assert.equal(r1.json.finish_reason, "stop");
    assert.ok(r1.json.usage.total_tokens > 0);
    const r2 = await a.call("POST", `${S}/${id}/messages`, { message: { role: "user", content: "What is my name?" } });
    assert.equal(r2.json.message.content, "Your name is Sarah.");
    const h = await a.call("GET", `${S}/${id}/messages`);
    assert.deepEqual(h.json.messages.map((m) => [m.role, m.status]), [
      ["user", "complete"], ["assistant", "complete"], ["user", "complete"], ["assistant", "complete"],
    ]);
    assert.equal(h.json.messages[3].id, r2.json.message.id);
    const last = await a.call("GET", `${S}/${id}/messages?limit=1`);
    assert.deepEqual(last.json.messages.map((m) => m.content), ["Your name is Sarah."]);
  });

  test("create with id, title and metadata; get; list with paging; delete", async () => {
    const a = A();
    const base = `org-${Math.random().toString(36).slice(2)}`;
    const c = await a.call("POST", S, { session_id: `${base}/user-1`, title: "First", metadata: { tier: "premium" } });
    assert.equal(c.status, 201, c.text);
    assert.deepEqual([c.json.session_id, c.json.title, c.json.metadata], [`${base}/user-1`, "First", { tier: "premium" }]);
    errorShape(await a.call("POST", S, { session_id: `${base}/user-1` }), 409, "SESSION_EXISTS");
    const enc = encodeURIComponent(`${base}/user-1`);
    const g = await a.call("GET", `${S}/${enc}`);
    assert.equal(g.status, 200);
    assert.deepEqual(
      { ...g.json, created_at: 0, updated_at: 0 },
      { session_id: `${base}/user-1`, title: "First", metadata: { tier: "premium" }, created_at: 0, updated_at: 0,
        message_count: 0, usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 }, busy: false },
    );
    for (let i = 2; i <= 4; i++) assert.equal((await a.call("POST", S, { session_id: `${base}/user-${i}` })).status, 201);
    const seen = [];
    let cursor = null;
    for (let page = 0; page < 100; page++) {
      const l = await a.call("GET", `${S}?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      assert.equal(l.status, 200);
      assert.ok(l.json.sessions.length <= 2);
      for (const s of l.json.sessions) {
        assert.deepEqual(Object.keys(s).sort(), ["created_at", "message_count", "session_id", "title", "updated_at"]);
        seen.push(s.session_id);
      }
      cursor = l.json.next_cursor;
      if (!cursor) break;
    }
    for (let i = 1; i <= 4; i++) assert.ok(seen.includes(`${base}/user-${i}`));
    assert.equal(new Set(seen).size, seen.length, "no session twice across pages");
    const d = await a.call("DELETE", `${S}/${enc}`);
    assert.equal(d.status, 204);
    errorShape(await a.call("GET", `${S}/${enc}`), 404, "SESSION_NOT_FOUND");
    errorShape(await a.call("DELETE", `${S}/${enc}`), 404, "SESSION_NOT_FOUND");
    errorShape(await a.call("GET", `${S}/${enc}/messages`), 404, "SESSION_NOT_FOUND");
    errorShape(await a.call("POST", `${S}/${enc}/messages`, { message: "hi" }), 404, "SESSION_NOT_FOUND");
  });

  test("error statuses: 400, 401, 404, 405, 413 with the JSON error body", async () => {
    const a = A();
    const id = (await a.call("POST", S)).json.session_id;
    errorShape(await a.call("POST", S, "{not json"), 400, "INVALID_JSON");
    errorShape(await a.call("POST", S, { metadata: [1] }), 400, "INVALID_METADATA");
    errorShape(await a.call("POST", S, { session_id: "" }), 400, "INVALID_ID");
    errorShape(await a.call("POST", `${S}/${id}/messages`, {}), 400, "INVALID_MESSAGE");
    errorShape(await a.call("POST", `${S}/${id}/messages`, { message: "" }), 400, "INVALID_MESSAGE");
    errorShape(await a.call("POST", `${S}/${id}/messages`, "[1,2]"), 400, "INVALID_ARGUMENT");
    errorShape(await a.call("POST", `${S}/${id}/messages/stream`, { nope: 1 }), 400, "INVALID_ARGUMENT");
    errorShape(await a.call("GET", `${S}?limit=0`), 400, "INVALID_ARGUMENT");
    errorShape(await a.call("GET", `${S}/%ZZ`), 400, "INVALID_ID");
    const noAuth = await client(server().url).call("GET", S);
    errorShape(noAuth, 401, "UNAUTHENTICATED");
    assert.match(noAuth.headers.get("www-authenticate"), /^Bearer/);
    errorShape(await client(server().url, "not-a-token").call("GET", S), 401, "UNAUTHENTICATED");
    errorShape(await a.call("GET", S, undefined, { authorization: "Basic abc" }), 401, "UNAUTHENTICATED");
    errorShape(await a.call("GET", "/agents/nobody/sessions"), 404, "AGENT_NOT_FOUND");
    errorShape(await a.call("GET", "/nothing/here"), 404, "NOT_FOUND");
    errorShape(await a.call("GET", `${S}/sess_none`), 404, "SESSION_NOT_FOUND");
    const m = await a.call("PUT", S);
    errorShape(m, 405, "METHOD_NOT_ALLOWED");
    assert.equal(m.headers.get("allow"), "GET, POST");
    errorShape(await a.call("POST", `${S}/${id}/messages`, { message: "x".repeat(70_000) }), 413, "BODY_TOO_LARGE");
    // Nothing of the refused requests was stored.
    assert.equal((await a.call("GET", `${S}/${id}`)).json.message_count, 0);
    const health = await client(server().url).call("GET", "/health");
    assert.deepEqual([health.status, health.json], [200, { ok: true }]);
  });

  test("an LLM that cannot be reached is 502 LLM_NETWORK; in a stream, an error event then done", async () => {
    const a = A();
    const B_ = "/agents/broken/sessions";
    const id = (await a.call("POST", B_)).json.session_id;
    const r = await a.call("POST", `${B_}/${id}/messages`, { message: "hello" });
    errorShape(r, 502, "LLM_NETWORK");
    assert.ok(!r.text.includes("sk-test-not-a-key"), "the key is never in an answer");
    const s = await openStream(`${server().url}${B_}/${id}/messages/stream`, {
      method: "POST", headers: { authorization: `Bearer ${TOKENS.a}` }, body: { message: "hello" },
    });
    const events = await s.all();
    assert.deepEqual(events.slice(-2).map((e) => [e.event, e.data.code ?? null]), [["error", "LLM_NETWORK"], ["done", null]]);
    // The user messages are stored (before each call), the session still works.
    const h = (await a.call("GET", `${B_}/${id}/messages`)).json.messages;
    assert.deepEqual(h.filter((m) => m.role === "user").map((m) => m.content), ["hello", "hello"]);
    assert.equal((await a.call("GET", `${B_}/${id}`)).json.busy, false);
  });

  test("tenant isolation: B cannot read, list, write or delete A's sessions; same ids are independent", async () => {
    const a = A();
    const b = B();
    const id = `shared-${Math.random().toString(36).slice(2)}`;
    assert.equal((await a.call("POST", S, { session_id: id, metadata: { owner: "a" } })).status, 201);
    await a.call("POST", `${S}/${id}/messages`, { message: "My name is Alice." });
    errorShape(await b.call("GET", `${S}/${id}`), 404, "SESSION_NOT_FOUND");
    errorShape(await b.call("GET", `${S}/${id}/messages`), 404, "SESSION_NOT_FOUND");
    errorShape(await b.call("POST", `${S}/${id}/messages`, { message: "hi" }), 404, "SESSION_NOT_FOUND");
    errorShape(await b.call("POST", `${S}/${id}/cancel`), 404, "SESSION_NOT_FOUND");
    errorShape(await b.call("GET", `${S}/${id}/stream`), 404, "SESSION_NOT_FOUND");
    errorShape(await b.call("DELETE", `${S}/${id}`), 404, "SESSION_NOT_FOUND");
    const listB = await b.call("GET", `${S}?limit=1000`);
    assert.ok(!listB.json.sessions.some((s) => s.session_id === id));
    // B's own session with the same id.
    assert.equal((await b.call("POST", S, { session_id: id, metadata: { owner: "b" } })).status, 201);
    await b.call("POST", `${S}/${id}/messages`, { message: "My name is Bob." });
    assert.equal((await b.call("POST", `${S}/${id}/messages`, { message: "What is my name?" })).json.message.content, "Your name is Bob.");
    assert.equal((await a.call("POST", `${S}/${id}/messages`, { message: "What is my name?" })).json.message.content, "Your name is Alice.");
    assert.deepEqual((await a.call("GET", `${S}/${id}`)).json.metadata, { owner: "a" });
    assert.equal((await b.call("DELETE", `${S}/${id}`)).status, 204);
    assert.equal((await a.call("GET", `${S}/${id}/messages`)).json.messages.length, 4);
  });

  test("stream: start, deltas, message, done, with increasing ids; the stored reply is the stream", async () => {
    const a = A();
    const id = (await a.call("POST", SLOW)).json.session_id;
    const s = await openStream(`${server().url}${SLOW}/${id}/messages/stream`, {
      method: "POST", headers: { authorization: `Bearer ${TOKENS.a}` }, body: { message: LONG },
    });
    assert.equal(s.status, 200);
    assert.match(s.headers.get("content-type"), /^text\/event-stream/);
    const events = await s.all();
    const names = events.map((e) => e.event);
    assert.equal(names[0], "start");
    assert.deepEqual(names.slice(-2), ["message", "done"]);
    assert.ok(names.slice(1, -2).every((n) => n === "delta") && names.length > 10, names.join(","));
    const key = events[0].id.split("-")[0];
    events.forEach((e, i) => assert.equal(e.id, `${key}-${i + 1}`));
    assert.equal(events[0].data.session_id, id);
    assert.match(events[0].data.run_id, /^run_/);
    const text = events.filter((e) => e.event === "delta").map((e) => e.data.text).join("");
    assert.equal(events.at(-2).data.message.content, text);
    assert.ok(s.comments > 0, "keepalive comments while the reply streams (keepalive_ms 50)");
    const h = await a.call("GET", `${SLOW}/${id}/messages`);
    assert.equal(h.json.messages.at(-1).content, text);
    assert.equal(h.json.messages.at(-1).status, "complete");
  });

  test("resume after a client disconnect: exactly the remaining events, then the stored reply equals the whole stream", async () => {
    const a = A();
    const auth = { authorization: `Bearer ${TOKENS.a}` };
    const id = (await a.call("POST", SLOW)).json.session_id;
    const first = await openStream(`${server().url}${SLOW}/${id}/messages/stream`, { method: "POST", headers: auth, body: { message: LONG } });
    const seen = [];
    while (seen.filter((e) => e.event === "delta").length < 3) seen.push(await first.next());
    first.abort(); // the connection drops; the run goes on
    const lastId = seen.at(-1).id;
    const resumed = await openStream(`${server().url}${SLOW}/${id}/stream`, { headers: { ...auth, "last-event-id": lastId } });
    assert.equal(resumed.status, 200);
    const rest = await resumed.all();
    const [key, n] = [lastId.split("-")[0], Number(lastId.split("-")[1])];
    rest.forEach((e, i) => assert.equal(e.id, `${key}-${n + 1 + i}`, "exactly the events after Last-Event-ID"));
    assert.deepEqual(rest.slice(-2).map((e) => e.event), ["message", "done"]);
    const all = [...seen, ...rest];
    const text = all.filter((e) => e.event === "delta").map((e) => e.data.text).join("");
    const stored = (await a.call("GET", `${SLOW}/${id}/messages?limit=1`)).json.messages[0];
    assert.equal(stored.content, text);
    assert.equal(stored.status, "complete");
    assert.equal(rest.at(-2).data.message.content, text);
    // The whole run is still there for a client with no Last-Event-ID; nothing after the last id.
    const again = await openStream(`${server().url}${SLOW}/${id}/stream`, { headers: auth });
    assert.deepEqual((await again.all()).map((e) => e.id), all.map((e) => e.id));
    const none = await a.call("GET", `${SLOW}/${id}/stream`, undefined, { "last-event-id": all.at(-1).id });
    assert.equal(none.status, 204);
    const idle = (await a.call("POST", SLOW)).json.session_id;
    assert.equal((await a.call("GET", `${SLOW}/${idle}/stream`)).status, 204);
  });

  test("a second message while a run is active is 409 SESSION_BUSY; cancel stops it and keeps the partial reply interrupted", async () => {
    const a = A();
    const auth = { authorization: `Bearer ${TOKENS.a}` };
    const id = (await a.call("POST", SLOW)).json.session_id;
    const s = await openStream(`${server().url}${SLOW}/${id}/messages/stream`, { method: "POST", headers: auth, body: { message: LONG } });
    const seen = [await s.next(), await s.next()];
    assert.deepEqual(seen.map((e) => e.event), ["start", "delta"]);
    const busy = await a.call("POST", `${SLOW}/${id}/messages`, { message: "again" });
    errorShape(busy, 409, "SESSION_BUSY");
    assert.equal(busy.json.error.details.run_id, seen[0].data.run_id);
    errorShape(await a.call("POST", `${SLOW}/${id}/messages/stream`, { message: "again" }), 409, "SESSION_BUSY");
    assert.equal((await a.call("GET", `${SLOW}/${id}`)).json.busy, true);
    const c = await a.call("POST", `${SLOW}/${id}/cancel`);
    assert.deepEqual([c.status, c.json], [200, { cancelled: true }]);
    const rest = await s.all();
    assert.deepEqual(rest.slice(-2).map((e) => [e.event, e.data.code ?? null]), [["error", "ABORTED"], ["done", null]]);
    const text = [...seen, ...rest].filter((e) => e.event === "delta").map((e) => e.data.text).join("");
    const h = (await a.call("GET", `${SLOW}/${id}/messages`)).json.messages;
    assert.deepEqual(h.map((m) => [m.role, m.status]), [["user", "complete"], ["assistant", "interrupted"]]);
    assert.equal(h[1].content, text);
    assert.ok(LONG.includes(text.split('"')[1]?.split(" ")[0] ?? ""), "a prefix of the reply");
    assert.deepEqual((await a.call("POST", `${SLOW}/${id}/cancel`)).json, { cancelled: false });
    assert.equal((await a.call("GET", `${SLOW}/${id}`)).json.busy, false);
    const next = await a.call("POST", `${SLOW}/${id}/messages`, { message: "hi" });
    assert.equal(next.status, 200);
    // A non-streamed message that is cancelled answers with its partial reply (a fresh session:
    // no earlier run whose kept events the wait below could mistake for this one's).
    const id2 = (await a.call("POST", SLOW)).json.session_id;
    const pending = a.call("POST", `${SLOW}/${id2}/messages`, { message: LONG });
    // Wait for that run to exist (the POST and this GET race): 204 until it starts, then 200.
    let watch;
    for (let tries = 0; tries < 1000; tries++) {
      watch = await openStream(`${server().url}${SLOW}/${id2}/stream`, { headers: auth });
      if (watch.status === 200) break;
    }
    assert.equal(watch.status, 200);
    for (let e; (e = await watch.next()) && e.event !== "delta"; );
    assert.deepEqual((await a.call("POST", `${SLOW}/${id2}/cancel`)).json, { cancelled: true });
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(r.json.finish_reason, "cancelled");
    assert.equal(r.json.message.status, "interrupted");
    watch.abort();
  });

  test("deleting a session with an active run cancels the run, then deletes", async () => {
    const a = A();
    const auth = { authorization: `Bearer ${TOKENS.a}` };
    const id = (await a.call("POST", SLOW)).json.session_id;
    const s = await openStream(`${server().url}${SLOW}/${id}/messages/stream`, { method: "POST", headers: auth, body: { message: LONG } });
    assert.equal((await s.next()).event, "start");
    assert.equal((await a.call("DELETE", `${SLOW}/${id}`)).status, 204);
    const rest = await s.all();
    assert.deepEqual(rest.slice(-2).map((e) => [e.event, e.data.code ?? null]), [["error", "ABORTED"], ["done", null]]);
    errorShape(await a.call("GET", `${SLOW}/${id}`), 404, "SESSION_NOT_FOUND");
    errorShape(await a.call("GET", `${SLOW}/${id}/stream`), 404, "SESSION_NOT_FOUND");
  });

  test("edit: the agent answers the edited message; the original stays a branch; branches, ?branch= and switch", async () => {
    const a = A();
    const id = (await a.call("POST", S)).json.session_id;
    const a1 = (await a.call("POST", `${S}/${id}/messages`, { message: "My name is Sarah." })).json.message;
    await a.call("POST", `${S}/${id}/messages`, { message: "What is my name?" });
    const sarah = (await a.call("GET", `${S}/${id}/messages`)).json.messages;
    const q1 = sarah[0];
    const texts = (ms) => ms.map((m) => m.content);

    const e = await a.call("POST", `${S}/${id}/messages/${q1.id}/edit`, { message: "My name is Tom." });
    assert.equal(e.status, 200, e.text);
    assert.deepEqual(Object.keys(e.json).sort(), ["finish_reason", "message", "session_id", "usage"]);
    assert.equal(e.json.session_id, id);
    assert.equal(e.json.message.role, "assistant");
    assert.equal(e.json.message.status, "complete");
    assert.equal(e.json.message.content, "Nice to meet you, Tom! I'll remember that.", "the model saw the edited message");
    assert.equal(e.json.finish_reason, "stop");
    const r = await a.call("POST", `${S}/${id}/messages`, { message: { role: "user", content: "What is my name?" } });
    assert.equal(r.json.message.content, "Your name is Tom.");
    const tom = (await a.call("GET", `${S}/${id}/messages`)).json.messages;
    assert.deepEqual(texts(tom), ["My name is Tom.", e.json.message.content, "What is my name?", "Your name is Tom."]);
    assert.equal(tom[1].id, e.json.message.id);

    const br = await a.call("GET", `${S}/${id}/messages/${q1.id}/branches`);
    assert.equal(br.status, 200, br.text);
    assert.deepEqual(texts(br.json.branches), ["My name is Sarah.", "My name is Tom."]);
    assert.deepEqual(br.json.branches.map((m) => m.id), [q1.id, tom[0].id]);
    // The other branch, read without switching (limit still applies); the active path is unchanged.
    const other = await a.call("GET", `${S}/${id}/messages?branch=${encodeURIComponent(q1.id)}`);
    assert.equal(other.status, 200, other.text);
    assert.deepEqual(other.json.messages, sarah);
    assert.deepEqual(texts((await a.call("GET", `${S}/${id}/messages?branch=${q1.id}&limit=1`)).json.messages), ["Your name is Sarah."]);
    assert.deepEqual(texts((await a.call("GET", `${S}/${id}/messages`)).json.messages), texts(tom));

    // Switch back: the history is Sarah's again, and so is the model's answer.
    const sw = await a.call("POST", `${S}/${id}/messages/${a1.id}/switch`);
    assert.equal(sw.status, 200, sw.text);
    assert.deepEqual(sw.json.messages, sarah);
    assert.deepEqual((await a.call("GET", `${S}/${id}/messages`)).json.messages, sarah);
    assert.equal((await a.call("POST", `${S}/${id}/messages`, { message: "What is my name?" })).json.message.content, "Your name is Sarah.");
    assert.equal((await a.call("POST", `${S}/${id}/messages/${tom[3].id}/switch`, {})).json.messages.length, 4);

    // Refused requests store nothing.
    const count = (await a.call("GET", `${S}/${id}`)).json.message_count;
    const M = `${S}/${id}/messages`;
    errorShape(await a.call("POST", `${M}/msg_nope/edit`, { message: "x" }), 404, "MESSAGE_NOT_FOUND");
    errorShape(await a.call("POST", `${M}/msg_nope/edit/stream`, { message: "x" }), 404, "MESSAGE_NOT_FOUND");
    errorShape(await a.call("POST", `${M}/${a1.id}/edit`, { message: "x" }), 400, "INVALID_ARGUMENT");
    errorShape(await a.call("POST", `${M}/${q1.id}/edit`, {}), 400, "INVALID_MESSAGE");
    errorShape(await a.call("POST", `${M}/${q1.id}/edit`, { message: " " }), 400, "INVALID_MESSAGE");
    errorShape(await a.call("POST", `${M}/${q1.id}/edit`, { message: "x", metadata: {} }), 400, "INVALID_ARGUMENT");
    errorShape(await a.call("POST", `${M}/${q1.id}/edit`, "{nope"), 400, "INVALID_JSON");
    errorShape(await a.call("POST", `${M}/%ZZ/edit`, { message: "x" }), 400, "INVALID_ID");
    errorShape(await a.call("GET", `${M}?branch=msg_nope`), 404, "MESSAGE_NOT_FOUND");
    errorShape(await a.call("GET", `${M}/msg_nope/branches`), 404, "MESSAGE_NOT_FOUND");
    errorShape(await a.call("POST", `${M}/msg_nope/switch`), 404, "MESSAGE_NOT_FOUND");
    errorShape(await a.call("POST", `${M}/${q1.id}/switch`, { to: 1 }), 400, "INVALID_ARGUMENT");
    const m = await a.call("GET", `${M}/${q1.id}/edit`);
    errorShape(m, 405, "METHOD_NOT_ALLOWED");
    assert.equal(m.headers.get("allow"), "POST");
    errorShape(await a.call("POST", `${S}/sess_none/messages/${q1.id}/edit`, { message: "x" }), 404, "SESSION_NOT_FOUND");
    // Another tenant's session stays not found, whatever the message id.
    const b = B();
    errorShape(await b.call("POST", `${M}/${q1.id}/edit`, { message: "x" }), 404, "SESSION_NOT_FOUND");
    errorShape(await b.call("POST", `${M}/${q1.id}/regenerate`), 404, "SESSION_NOT_FOUND");
    errorShape(await b.call("GET", `${M}/${q1.id}/branches`), 404, "SESSION_NOT_FOUND");
    errorShape(await b.call("GET", `${M}?branch=${q1.id}`), 404, "SESSION_NOT_FOUND");
    errorShape(await b.call("POST", `${M}/${q1.id}/switch`), 404, "SESSION_NOT_FOUND");
    errorShape(await b.call("POST", `${S}/${id}/fork`), 404, "SESSION_NOT_FOUND");
    assert.equal((await a.call("GET", `${S}/${id}`)).json.message_count, count);
  });

  test("regenerate: a new answer, the old one kept as its sibling", async () => {
    const a = A();
    const id = (await a.call("POST", S)).json.session_id;
    const first = (await a.call("POST", `${S}/${id}/messages`, { message: "Hello there" })).json.message;
    const [q] = (await a.call("GET", `${S}/${id}/messages`)).json.messages;
    // Naming the assistant reply re-answers its question.
    const r = await a.call("POST", `${S}/${id}/messages/${first.id}/regenerate`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.json).sort(), ["finish_reason", "message", "session_id", "usage"]);
    assert.notEqual(r.json.message.id, first.id);
    assert.equal(r.json.message.content, first.content, "the same question, answered the same way (turn 1 again)");
    assert.match(first.content, /This is message 1 of/);
    const h = (await a.call("GET", `${S}/${id}/messages`)).json.messages;
    assert.deepEqual(h.map((m) => m.id), [q.id, r.json.message.id]);
    const br = (await a.call("GET", `${S}/${id}/messages/${r.json.message.id}/branches`)).json.branches;
    assert.deepEqual(br.map((m) => m.id), [first.id, r.json.message.id]);
    // Naming the user message (a body of {} is no options).
    const r3 = await a.call("POST", `${S}/${id}/messages/${q.id}/regenerate`, {});
    assert.equal(r3.status, 200, r3.text);
    const three = (await a.call("GET", `${S}/${id}/messages/${first.id}/branches`)).json.branches;
    assert.deepEqual(three.map((m) => m.id), [first.id, r.json.message.id, r3.json.message.id]);
    // The first answer is still readable along its branch.
    assert.deepEqual((await a.call("GET", `${S}/${id}/messages?branch=${first.id}`)).json.messages.map((m) => m.id), [q.id, first.id]);
    const stored = (await a.call("GET", `${S}/${id}`)).json.message_count;
    errorShape(await a.call("POST", `${S}/${id}/messages/msg_nope/regenerate`), 404, "MESSAGE_NOT_FOUND");
    errorShape(await a.call("POST", `${S}/${id}/messages/msg_nope/regenerate/stream`), 404, "MESSAGE_NOT_FOUND");
    errorShape(await a.call("POST", `${S}/${id}/messages/${q.id}/regenerate`, { message: "x" }), 400, "INVALID_ARGUMENT");
    assert.equal((await a.call("GET", `${S}/${id}`)).json.message_count, stored);
  });

  test("fork: a new session holding the active history, in create's shape", async () => {
    const a = A();
    const id = (await a.call("POST", S, { title: "Names", metadata: { k: 1 } })).json.session_id;
    await a.call("POST", `${S}/${id}/messages`, { message: "My name is Sarah." });
    const [q1] = (await a.call("GET", `${S}/${id}/messages`)).json.messages;
    await a.call("POST", `${S}/${id}/messages/${q1.id}/edit`, { message: "My name is Ann." });
    const active = (await a.call("GET", `${S}/${id}/messages`)).json.messages;
    const f = await a.call("POST", `${S}/${id}/fork`);
    assert.equal(f.status, 201, f.text);
    assert.deepEqual(Object.keys(f.json).sort(), ["created_at", "metadata", "session_id", "title"]);
    assert.match(f.json.session_id, /^sess_[0-9a-f]{32}$/);
    assert.equal(f.json.title, "Fork: Names");
    assert.deepEqual(f.json.metadata, { k: 1 });
    assert.ok(Date.parse(f.json.created_at));
    const fh = (await a.call("GET", `${S}/${f.json.session_id}/messages`)).json.messages;
    assert.deepEqual(fh.map((m) => [m.id, m.role, m.content]), active.map((m) => [m.id, m.role, m.content]));
    assert.equal((await a.call("POST", `${S}/${f.json.session_id}/messages`, { message: "What is my name?" })).json.message.content, "Your name is Ann.");
    assert.deepEqual((await a.call("GET", `${S}/${id}/messages`)).json.messages, active, "the source is untouched");
    // At a message (on another branch), with an id and a title.
    const fid = `fork-${Math.random().toString(36).slice(2)}/1`;
    const g = await a.call("POST", `${S}/${id}/fork`, { at_message_id: q1.id, session_id: fid, title: "Sarah's" });
    assert.equal(g.status, 201, g.text);
    assert.deepEqual([g.json.session_id, g.json.title], [fid, "Sarah's"]);
    const gh = (await a.call("GET", `${S}/${encodeURIComponent(fid)}/messages`)).json.messages;
    assert.deepEqual(gh.map((m) => m.content), ["My name is Sarah."]);
    errorShape(await a.call("POST", `${S}/${id}/fork`, { session_id: fid }), 409, "SESSION_EXISTS");
    errorShape(await a.call("POST", `${S}/${id}/fork`, { at_message_id: "msg_nope" }), 404, "MESSAGE_NOT_FOUND");
    errorShape(await a.call("POST", `${S}/${id}/fork`, { atMessageId: q1.id }), 400, "INVALID_ARGUMENT");
    errorShape(await a.call("POST", `${S}/${id}/fork`, { session_id: "" }), 400, "INVALID_ID");
    errorShape(await a.call("POST", `${S}/${id}/fork`, { title: 3 }), 400, "INVALID_ARGUMENT");
    errorShape(await a.call("POST", `${S}/sess_none/fork`), 404, "SESSION_NOT_FOUND");
    // The fork is an ordinary session of this tenant only.
    errorShape(await B().call("GET", `${S}/${f.json.session_id}`), 404, "SESSION_NOT_FOUND");
  });

  test("edit/stream and regenerate/stream: the frames of messages/stream, busy while they run, resumable", async () => {
    const a = A();
    const auth = { authorization: `Bearer ${TOKENS.a}` };
    const id = (await a.call("POST", SLOW)).json.session_id;
    const shape = (events) => {
      const names = events.map((e) => e.event);
      assert.equal(names[0], "start");
      assert.deepEqual(names.slice(-2), ["message", "done"]);
      assert.ok(names.slice(1, -2).every((n) => n === "delta") && names.length > 10, names.join(","));
      const key = events[0].id.split("-")[0];
      events.forEach((e, i) => assert.equal(e.id, `${key}-${i + 1}`));
      assert.deepEqual(Object.keys(events[0].data).sort(), ["message_id", "run_id", "session_id"]);
      assert.equal(events[0].data.session_id, id);
      assert.deepEqual(Object.keys(events.at(-2).data).sort(), ["finish_reason", "message", "usage"]);
      const text = events.filter((e) => e.event === "delta").map((e) => e.data.text).join("");
      assert.equal(events.at(-2).data.message.content, text);
      return text;
    };
    const base = await openStream(`${server().url}${SLOW}/${id}/messages/stream`, { method: "POST", headers: auth, body: { message: LONG } });
    const baseText = shape(await base.all());
    const [q] = (await a.call("GET", `${SLOW}/${id}/messages`)).json.messages;

    const rs = await openStream(`${server().url}${SLOW}/${id}/messages/${q.id}/regenerate/stream`, { method: "POST", headers: auth });
    assert.equal(rs.status, 200);
    assert.match(rs.headers.get("content-type"), /^text\/event-stream/);
    const seen = [await rs.next(), await rs.next()];
    assert.deepEqual(seen.map((e) => e.event), ["start", "delta"]);
    // Busy while it runs: every run-starting or path-moving request.
    for (const [p, body] of [
      ["messages", { message: "again" }],
      [`messages/${q.id}/edit`, { message: "again" }],
      [`messages/${q.id}/edit/stream`, { message: "again" }],
      [`messages/${q.id}/regenerate`, undefined],
      [`messages/${q.id}/switch`, undefined],
    ]) {
      const busy = await a.call("POST", `${SLOW}/${id}/${p}`, body);
      errorShape(busy, 409, "SESSION_BUSY");
      assert.equal(busy.json.error.details.run_id, seen[0].data.run_id);
    }
    assert.equal((await a.call("GET", `${SLOW}/${id}`)).json.busy, true);
    rs.abort(); // the run goes on; resume it
    const resumed = await openStream(`${server().url}${SLOW}/${id}/stream`, { headers: { ...auth, "last-event-id": seen[1].id } });
    const regenText = shape([...seen, ...(await resumed.all())]);
    assert.equal(regenText, baseText, "the mock answers the same question the same way");
    const h = (await a.call("GET", `${SLOW}/${id}/messages`)).json.messages;
    assert.equal(h.length, 2);
    assert.equal(h[1].content, regenText);
    assert.equal((await a.call("GET", `${SLOW}/${id}/messages/${h[1].id}/branches`)).json.branches.length, 2);

    const edited = "Please repeat after me: " + Array.from({ length: 30 }, (_, i) => `e${i}`).join(" ");
    const es = await openStream(`${server().url}${SLOW}/${id}/messages/${q.id}/edit/stream`, { method: "POST", headers: auth, body: { message: edited } });
    assert.equal(es.status, 200);
    const editText = shape(await es.all());
    assert.ok(editText.includes("e0 e1") && !editText.includes("w0"), editText);
    const after = (await a.call("GET", `${SLOW}/${id}/messages`)).json.messages;
    assert.deepEqual(after.map((m) => [m.role, m.content, m.status]), [["user", edited, "complete"], ["assistant", editText, "complete"]]);
    assert.equal((await a.call("GET", `${SLOW}/${id}/messages/${q.id}/branches`)).json.branches.length, 2);
    assert.equal((await a.call("GET", `${SLOW}/${id}`)).json.busy, false);
  });

  test("CORS preflight for the configured origins only", async () => {
    const ok = await fetch(`${server().url}${S}`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization" },
    });
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get("access-control-allow-origin"), "https://app.example");
    assert.match(ok.headers.get("access-control-allow-headers"), /authorization/);
    const other = await fetch(`${server().url}${S}`, { method: "OPTIONS", headers: { origin: "https://evil.example" } });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    const get = await fetch(`${server().url}${S}`, { headers: { origin: "https://app.example", authorization: `Bearer ${TOKENS.a}` } });
    assert.equal(get.headers.get("access-control-allow-origin"), "https://app.example");
  });
}

/** The REST examples of the Hector seed (../shared/seeds/004_…, "### REST API"), copied verbatim
 * (the seed is not in the repo; when it is next to it, a test checks the copy). Only the host of
 * the examples (localhost:8080) and their session id (sess_abc123) are replaced when they run. */
export const SEED_CURLS = [
  `curl -X POST http://localhost:8080/agents/assistant/sessions \\
  -H "Content-Type: application/json"`,
  `curl -X POST http://localhost:8080/agents/assistant/sessions/sess_abc123/messages \\
  -H "Content-Type: application/json" \\
  -d '{
    "message": "Hello, remember me?"
  }'`,
  `curl -X POST http://localhost:8080/agents/assistant/sessions/sess_abc123/messages \\
  -H "Content-Type: application/json" \\
  -d '{
    "message": "What did we talk about earlier?"
  }'`,
];

export async function seedCopyMatches() {
  const { existsSync, readFileSync, readdirSync } = await import("node:fs");
  const dir = new URL("../../../shared/seeds/", import.meta.url);
  if (!existsSync(dir)) return null;
  const file = readdirSync(dir).find((f) => f.startsWith("004_"));
  const text = readFileSync(new URL(file, dir), "utf8");
  const rest = text.slice(text.indexOf("### REST API"), text.indexOf("### gRPC API"));
  const blocks = [...rest.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1].trim());
  return JSON.stringify(blocks) === JSON.stringify(SEED_CURLS);
}
