// Checks the mock LLM server with plain fetch, the way the library will talk to it.
// Run: node --test tests/support/

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { defaultReply, startMockLlmServer } from "./mock-llm-server.mjs";

let llm;
let keyCounter = 0;
/** A fresh model name per test: the server scripts and logs by it. */
const newKey = (label) => `mock-${label}-${++keyCounter}`;

before(async () => {
  llm = await startMockLlmServer();
});
after(async () => {
  await llm.close();
});

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

async function script(key, steps, base = llm.url) {
  const res = await fetch(`${base}/__control/script`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key, steps }),
  });
  assert.equal(res.status, 200);
  return res.json();
}

async function requestLog(key, base = llm.url) {
  const res = await fetch(`${base}/__control/requests?key=${encodeURIComponent(key)}`);
  assert.equal(res.status, 200);
  return res.json();
}

function post(path, body, headers = {}, init = {}) {
  return fetch(`${llm.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
}

const user = (content) => ({ role: "user", content });
const assistant = (content) => ({ role: "assistant", content });

function openai(key, messages, extra = {}, headers = { authorization: "Bearer sk-test" }, init) {
  return post("/v1/chat/completions", { model: key, messages, ...extra }, headers, init);
}

const ANTHROPIC_HEADERS = { "x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01" };
function anthropic(key, messages, extra = {}, headers = ANTHROPIC_HEADERS, init) {
  return post("/v1/messages", { model: key, max_tokens: 256, messages, ...extra }, headers, init);
}

function gemini(key, texts, { stream = false, extra = {}, headers = { "x-goog-api-key": "g-test" }, query, init } = {}) {
  const contents = texts.map((t, i) => ({ role: i % 2 ? "model" : "user", parts: [{ text: t }] }));
  const path = `/v1beta/models/${key}:${stream ? "streamGenerateContent" : "generateContent"}`;
  const qs = query ?? (stream ? "?alt=sse" : "");
  return post(path + qs, { contents, ...extra }, headers, init);
}

function parseSseEvent(raw) {
  let event = "message";
  const data = [];
  for (const line of raw.split(/\r\n|\n|\r/)) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  return { event, data: data.join("\n") };
}

/**
 * Reads an SSE body. Stops early after maxEvents, or when nothing arrives for idleMs (stalled).
 * Network errors (mid-stream disconnects) are returned, not thrown.
 */
async function readSse(res, { maxEvents = Infinity, idleMs } = {}) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const events = [];
  let buf = "";
  let error = null;
  let stalled = false;
  try {
    outer: for (;;) {
      let timer;
      const idle = idleMs ? new Promise((r) => (timer = setTimeout(() => r("idle"), idleMs))) : null;
      const result = await (idle ? Promise.race([reader.read(), idle]) : reader.read());
      clearTimeout(timer);
      if (result === "idle") {
        stalled = true;
        break;
      }
      if (result.done) break;
      buf += decoder.decode(result.value, { stream: true });
      for (let m; (m = /\r\n\r\n|\n\n|\r\r/.exec(buf)); ) {
        events.push(parseSseEvent(buf.slice(0, m.index)));
        buf = buf.slice(m.index + m[0].length);
        if (events.length >= maxEvents) break outer;
      }
    }
  } catch (err) {
    error = err;
  }
  return { events, error, stalled, rest: buf, reader };
}

const json = (e) => JSON.parse(e.data);
const elapsedSince = (t0) => performance.now() - t0;

// ---------------------------------------------------------------------------------------------
// default reply
// ---------------------------------------------------------------------------------------------

describe("default reply", () => {
  it("echoes, remembers names and the previous message", () => {
    const u = (text) => ({ role: "user", text });
    const a = (text) => ({ role: "assistant", text });
    assert.equal(defaultReply([u("hello")]), "Echo: hello (turn 1)");
    assert.equal(defaultReply([u("Hi, my name is Ada."), a("Hi"), u("What is my name?")]), "Your name is Ada.");
    assert.equal(defaultReply([u("hello"), a("Hi"), u("WHAT IS MY NAME")]), "I don't have that information.");
    assert.equal(defaultReply([u("first"), a("ok"), u("What did I just say?")]), 'You said: "first"');
    assert.equal(defaultReply([u("weather?"), a(""), { role: "tool", text: "sunny" }]), "Tool result received: sunny");
  });
});

// ---------------------------------------------------------------------------------------------
// OpenAI
// ---------------------------------------------------------------------------------------------

describe("openai /v1/chat/completions", () => {
  it("returns a chat.completion computed from the history", async () => {
    const key = newKey("oa-json");
    const messages = [{ role: "system", content: "Be brief." }, user("hello there")];
    const res = await openai(key, messages);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.match(res.headers.get("x-request-id"), /^req_mock_/);
    const body = await res.json();
    const reply = "Echo: hello there (turn 1)";
    assert.equal(body.object, "chat.completion");
    assert.match(body.id, /^chatcmpl-/);
    assert.equal(body.model, key);
    assert.deepEqual(body.choices[0].message, { role: "assistant", content: reply, refusal: null });
    assert.equal(body.choices[0].finish_reason, "stop");
    const prompt = Math.ceil(("Be brief.".length + "hello there".length) / 4);
    const completion = Math.ceil(reply.length / 4);
    assert.deepEqual(body.usage, { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion });

    const [entry] = await requestLog(key);
    assert.equal(entry.system, "Be brief.");
    assert.deepEqual(entry.messages, [{ role: "user", text: "hello there" }]);
  });

  it("answers from earlier turns (content parts too)", async () => {
    const key = newKey("oa-history");
    const history = [user([{ type: "text", text: "Hi, my name is Grace!" }]), assistant("Hello."), user("what is my name?")];
    assert.equal((await (await openai(key, history)).json()).choices[0].message.content, "Your name is Grace.");
    const said = [user("the sky is blue"), assistant("ok"), user("What did I just say?")];
    assert.equal((await (await openai(key, said)).json()).choices[0].message.content, 'You said: "the sky is blue"');
    const unknown = [user("what is my name")];
    assert.equal((await (await openai(key, unknown)).json()).choices[0].message.content, "I don't have that information.");
  });

  it("streams role, word deltas, finish_reason, usage and [DONE]", async () => {
    const key = newKey("oa-stream");
    const res = await openai(key, [user("one two three four")], { stream: true, stream_options: { include_usage: true } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type"), /^text\/event-stream/);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    const { events, error } = await readSse(res);
    assert.equal(error, null);
    assert.equal(events.at(-1).data, "[DONE]");
    const chunks = events.slice(0, -1).map(json);
    assert.ok(chunks.every((c) => c.object === "chat.completion.chunk" && c.id === chunks[0].id && c.model === key));
    assert.equal(chunks[0].choices[0].delta.role, "assistant");
    const contentChunks = chunks.filter((c) => c.choices[0]?.delta.content);
    assert.ok(contentChunks.length >= 3, "content is split into several chunks");
    const text = contentChunks.map((c) => c.choices[0].delta.content).join("");
    assert.equal(text, "Echo: one two three four (turn 1)");
    const finish = chunks.at(-2);
    assert.equal(finish.choices[0].finish_reason, "stop");
    const usage = chunks.at(-1);
    assert.deepEqual(usage.choices, []);
    assert.equal(usage.usage.completion_tokens, Math.ceil(text.length / 4));
    assert.ok(chunks.slice(0, -1).every((c) => c.usage === null), "usage: null on the other chunks");
  });

  it("omits the usage chunk without stream_options.include_usage", async () => {
    const res = await openai(newKey("oa-nousage"), [user("hi")], { stream: true });
    const { events } = await readSse(res);
    const chunks = events.slice(0, -1).map(json);
    assert.equal(chunks.at(-1).choices[0].finish_reason, "stop");
    assert.ok(chunks.every((c) => !("usage" in c)));
  });

  it("scripts tool calls (JSON and streamed by index)", async () => {
    const key = newKey("oa-tools");
    const toolCalls = [
      { id: "call_1", name: "get_weather", arguments: '{"city":"Paris","unit":"c"}' },
      { id: "call_2", name: "get_time", arguments: "{}" },
    ];
    await script(key, [{ toolCalls }, { toolCalls, reply: "Checking." }]);

    const body = await (await openai(key, [user("weather?")])).json();
    assert.equal(body.choices[0].finish_reason, "tool_calls");
    assert.equal(body.choices[0].message.content, null);
    assert.deepEqual(body.choices[0].message.tool_calls, toolCalls.map((t) => ({ id: t.id, type: "function", function: { name: t.name, arguments: t.arguments } })));

    const { events } = await readSse(await openai(key, [user("weather?")], { stream: true }));
    const chunks = events.slice(0, -1).map(json);
    assert.equal(chunks.filter((c) => c.choices[0].delta.content).map((c) => c.choices[0].delta.content).join(""), "Checking.");
    const deltas = chunks.flatMap((c) => c.choices[0].delta.tool_calls ?? []);
    for (const [index, tc] of toolCalls.entries()) {
      const mine = deltas.filter((d) => d.index === index);
      assert.equal(mine[0].id, tc.id);
      assert.equal(mine[0].function.name, tc.name);
      assert.ok(mine.slice(1).length >= 2, "arguments arrive in 2+ fragments");
      assert.ok(mine.slice(1).every((d) => d.id === undefined && d.function.name === undefined));
      assert.equal(mine.map((d) => d.function.arguments).join(""), tc.arguments);
    }
    assert.equal(chunks.at(-1).choices[0].finish_reason, "tool_calls");
  });

  it("checks Authorization only when present, and serves /chat/completions", async () => {
    const key = newKey("oa-auth");
    const bad = await openai(key, [user("hi")], {}, { authorization: "Bearer " });
    assert.equal(bad.status, 401);
    assert.equal(bad.headers.get("access-control-allow-origin"), "*");
    const err = await bad.json();
    assert.equal(err.error.type, "invalid_request_error");
    assert.equal(err.error.code, "invalid_api_key");
    assert.equal(typeof err.error.message, "string");
    assert.equal((await openai(key, [user("hi")], {}, { authorization: "Basic abc" })).status, 401);

    const none = await post("/chat/completions", { model: key, messages: [user("hi")] });
    assert.equal(none.status, 200);
    assert.equal((await none.json()).choices[0].message.content, "Echo: hi (turn 1)");

    const noModel = await post("/v1/chat/completions", { messages: [user("hi")] });
    assert.equal(noModel.status, 400);
    assert.equal((await noModel.json()).error.type, "invalid_request_error");
  });
});

// ---------------------------------------------------------------------------------------------
// Anthropic
// ---------------------------------------------------------------------------------------------

describe("anthropic /v1/messages", () => {
  it("rejects missing x-api-key, anthropic-version and max_tokens without consuming a step", async () => {
    const key = newKey("an-validate");
    await script(key, [{ reply: "scripted" }]);

    const noKey = await anthropic(key, [user("hi")], {}, { "anthropic-version": "2023-06-01" });
    assert.equal(noKey.status, 401);
    const e1 = await noKey.json();
    assert.equal(e1.type, "error");
    assert.equal(e1.error.type, "authentication_error");
    assert.equal(typeof e1.error.message, "string");

    const noVersion = await anthropic(key, [user("hi")], {}, { "x-api-key": "k" });
    assert.equal(noVersion.status, 400);
    assert.equal((await noVersion.json()).error.type, "invalid_request_error");

    const noMax = await post("/v1/messages", { model: key, messages: [user("hi")] }, ANTHROPIC_HEADERS);
    assert.equal(noMax.status, 400);
    const e3 = await noMax.json();
    assert.equal(e3.error.type, "invalid_request_error");
    assert.match(e3.error.message, /max_tokens/);

    const ok = await (await anthropic(key, [user("hi")])).json();
    assert.equal(ok.content[0].text, "scripted");
    assert.equal((await requestLog(key)).length, 4, "rejected requests are logged too");
  });

  it("returns a message with text, stop_reason and usage; system goes to the log", async () => {
    const key = newKey("an-json");
    const res = await anthropic(key, [user("hello"), assistant("Hi!"), user("again")], { system: [{ type: "text", text: "You are terse." }] });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.type, "message");
    assert.equal(body.role, "assistant");
    assert.equal(body.model, key);
    assert.deepEqual(body.content, [{ type: "text", text: "Echo: again (turn 2)" }]);
    assert.equal(body.stop_reason, "end_turn");
    assert.deepEqual(body.usage, {
      input_tokens: Math.ceil("You are terse.helloHi!again".length / 4),
      output_tokens: Math.ceil("Echo: again (turn 2)".length / 4),
    });
    const [entry] = await requestLog(key);
    assert.equal(entry.system, "You are terse.");
    assert.equal(entry.headers["x-api-key"], "sk-ant-test");
    assert.equal(entry.body.max_tokens, 256);
  });

  it("streams the real event sequence", async () => {
    const key = newKey("an-stream");
    const res = await anthropic(key, [user("stream this please")], { stream: true });
    assert.equal(res.status, 200);
    const { events, error } = await readSse(res);
    assert.equal(error, null);
    const types = events.map((e) => e.event);
    assert.deepEqual(types.slice(0, 3), ["message_start", "content_block_start", "ping"]);
    assert.deepEqual(types.slice(-3), ["content_block_stop", "message_delta", "message_stop"]);
    assert.ok(events.every((e) => json(e).type === e.event), "data.type matches the event: line");
    const start = json(events[0]);
    assert.equal(start.message.model, key);
    assert.ok(start.message.usage.input_tokens > 0);
    const deltas = events.filter((e) => e.event === "content_block_delta").map(json);
    assert.ok(deltas.length >= 3);
    assert.ok(deltas.every((d) => d.delta.type === "text_delta" && d.index === 0));
    assert.equal(deltas.map((d) => d.delta.text).join(""), "Echo: stream this please (turn 1)");
    const md = json(events.at(-2));
    assert.equal(md.delta.stop_reason, "end_turn");
    assert.equal(md.usage.output_tokens, Math.ceil("Echo: stream this please (turn 1)".length / 4));
  });

  it("scripts tool_use (JSON and input_json_delta stream) and reads tool_result history", async () => {
    const key = newKey("an-tools");
    const call = { id: "toolu_1", name: "get_weather", arguments: '{"city":"Oslo"}' };
    await script(key, [{ toolCalls: [call] }, { reply: "Let me check.", toolCalls: [call] }]);

    const body = await (await anthropic(key, [user("weather?")])).json();
    assert.equal(body.stop_reason, "tool_use");
    assert.deepEqual(body.content, [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Oslo" } }]);

    const { events } = await readSse(await anthropic(key, [user("weather?")], { stream: true }));
    const starts = events.filter((e) => e.event === "content_block_start").map(json);
    assert.deepEqual(starts.map((s) => s.content_block.type), ["text", "tool_use"]);
    assert.deepEqual(starts[1].content_block, { type: "tool_use", id: "toolu_1", name: "get_weather", input: {} });
    const jsonDeltas = events.map(json).filter((e) => e.delta?.type === "input_json_delta");
    assert.ok(jsonDeltas.length >= 2);
    assert.ok(jsonDeltas.every((d) => d.index === 1));
    assert.equal(jsonDeltas.map((d) => d.delta.partial_json).join(""), call.arguments);
    assert.equal(json(events.at(-2)).delta.stop_reason, "tool_use");

    // The tool result round trip: default reply quotes it, and it is not counted as a user turn.
    const history = [
      user("weather?"),
      { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Oslo" } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "12C and rain" }] },
    ];
    const final = await (await anthropic(key, history)).json();
    assert.equal(final.content[0].text, "Tool result received: 12C and rain");
    const last = (await requestLog(key)).at(-1);
    assert.deepEqual(last.messages.map((m) => m.role), ["user", "assistant", "tool"]);
  });
});

// ---------------------------------------------------------------------------------------------
// Gemini
// ---------------------------------------------------------------------------------------------

describe("gemini /v1beta/models/{model}:generateContent", () => {
  it("requires an API key (header or ?key=)", async () => {
    const key = newKey("ge-auth");
    const res = await gemini(key, ["hi"], { headers: {} });
    assert.equal(res.status, 403);
    const err = await res.json();
    assert.equal(err.error.code, 403);
    assert.equal(err.error.status, "PERMISSION_DENIED");
    assert.equal(typeof err.error.message, "string");
    assert.equal((await gemini(key, ["hi"], { headers: {}, query: "?key=abc" })).status, 200);
    assert.equal((await gemini(key, ["hi"])).status, 200);
  });

  it("returns candidates, usageMetadata and modelVersion; systemInstruction goes to the log", async () => {
    const key = newKey("ge-json");
    const res = await gemini(key, ["my name is Linus", "Hello Linus", "What is my name?"], {
      extra: { systemInstruction: { parts: [{ text: "Be nice." }] } },
    });
    const body = await res.json();
    assert.deepEqual(body.candidates[0].content, { role: "model", parts: [{ text: "Your name is Linus." }] });
    assert.equal(body.candidates[0].finishReason, "STOP");
    assert.equal(body.modelVersion, key);
    const u = body.usageMetadata;
    assert.equal(u.candidatesTokenCount, Math.ceil("Your name is Linus.".length / 4));
    assert.equal(u.totalTokenCount, u.promptTokenCount + u.candidatesTokenCount);
    const [entry] = await requestLog(key);
    assert.equal(entry.system, "Be nice.");
    assert.deepEqual(entry.messages.map((m) => m.role), ["user", "assistant", "user"]);
  });

  it("streams data: chunks (CRLF framed), last with finishReason and usageMetadata", async () => {
    const key = newKey("ge-stream");
    const res = await gemini(key, ["streaming works fine"], { stream: true });
    assert.match(res.headers.get("content-type"), /^text\/event-stream/);
    const raw = await res.text();
    assert.match(raw, /^data: \{.*\}\r\n\r\n/);
    const { events } = await readSse(new Response(raw));
    const chunks = events.map(json);
    assert.ok(chunks.length >= 3);
    assert.equal(chunks.map((c) => c.candidates[0].content.parts[0].text).join(""), "Echo: streaming works fine (turn 1)");
    assert.ok(chunks.slice(0, -1).every((c) => !c.candidates[0].finishReason));
    const last = chunks.at(-1);
    assert.equal(last.candidates[0].finishReason, "STOP");
    assert.equal(last.usageMetadata.candidatesTokenCount, Math.ceil("Echo: streaming works fine (turn 1)".length / 4));
  });

  it("answers streamGenerateContent without alt=sse with a JSON array", async () => {
    const res = await gemini(newKey("ge-array"), ["a b c"], { stream: true, query: "" });
    const arr = await res.json();
    assert.ok(Array.isArray(arr) && arr.length >= 2);
    assert.equal(arr.at(-1).candidates[0].finishReason, "STOP");
  });

  it("scripts functionCall parts", async () => {
    const key = newKey("ge-tools");
    const toolCalls = [{ name: "lookup", arguments: '{"q":"rust"}' }];
    await script(key, [{ toolCalls }, { toolCalls }]);
    const body = await (await gemini(key, ["search"])).json();
    assert.deepEqual(body.candidates[0].content.parts, [{ functionCall: { name: "lookup", args: { q: "rust" } } }]);
    assert.equal(body.candidates[0].finishReason, "STOP");
    const { events } = await readSse(await gemini(key, ["search"], { stream: true }));
    const last = json(events.at(-1));
    assert.deepEqual(last.candidates[0].content.parts, [{ functionCall: { name: "lookup", args: { q: "rust" } } }]);
    assert.equal(last.candidates[0].finishReason, "STOP");
  });
});

// ---------------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------------

describe("scripted faults", () => {
  it("HTTP errors in each provider's shape, with headers, then recovery", async () => {
    const oa = newKey("f-status-oa");
    await script(oa, [{ status: 429, headers: { "retry-after-ms": "20" } }]);
    const r1 = await openai(oa, [user("hi")]);
    assert.equal(r1.status, 429);
    assert.equal(r1.headers.get("retry-after-ms"), "20");
    assert.match(r1.headers.get("access-control-expose-headers"), /retry-after-ms/);
    const e1 = await r1.json();
    assert.equal(e1.error.code, "rate_limit_exceeded");
    assert.equal(typeof e1.error.type, "string");
    assert.equal((await openai(oa, [user("hi")])).status, 200, "queue empty → default reply");
    assert.equal((await requestLog(oa)).length, 2, "the retry is visible in the log");

    const an = newKey("f-status-an");
    await script(an, [{ status: 529, headers: { "retry-after": "1" } }]);
    const r2 = await anthropic(an, [user("hi")]);
    assert.equal(r2.status, 529);
    assert.equal(r2.headers.get("retry-after"), "1");
    assert.deepEqual(await r2.json(), { type: "error", error: { type: "overloaded_error", message: "Mock error 529" } });

    const ge = newKey("f-status-ge");
    await script(ge, [{ status: 503 }]);
    const r3 = await gemini(ge, ["hi"]);
    assert.equal(r3.status, 503);
    assert.deepEqual(await r3.json(), { error: { code: 503, message: "Mock error 503", status: "UNAVAILABLE" } });
  });

  it("body overrides the error shape (JSON or raw text)", async () => {
    const key = newKey("f-body");
    await script(key, [
      { status: 400, body: { error: { message: "context_length_exceeded", type: "invalid_request_error", code: "context_length_exceeded" } } },
      { status: 502, body: "<html>Bad Gateway</html>" },
    ]);
    const r1 = await openai(key, [user("hi")]);
    assert.equal((await r1.json()).error.code, "context_length_exceeded");
    const r2 = await openai(key, [user("hi")]);
    assert.equal(r2.status, 502);
    assert.match(r2.headers.get("content-type"), /^text\/plain/);
    assert.equal(await r2.text(), "<html>Bad Gateway</html>");
  });

  it("reply and usage overrides", async () => {
    const key = newKey("f-reply");
    await script(key, [{ reply: "Scripted answer.", usage: { input: 111, output: 7 } }]);
    const body = await (await anthropic(key, [user("hi")])).json();
    assert.equal(body.content[0].text, "Scripted answer.");
    assert.deepEqual(body.usage, { input_tokens: 111, output_tokens: 7 });
  });

  it("delayMs holds the headers back", async () => {
    const key = newKey("f-delay");
    await script(key, [{ delayMs: 150 }]);
    const t0 = performance.now();
    const res = await openai(key, [user("hi")]);
    assert.ok(elapsedSince(t0) >= 140);
    assert.equal(res.status, 200);
    await res.text();
  });

  it("firstByteDelayMs sends headers, then waits before the body", async () => {
    // Headers first: with the body a minute away, the response can only have arrived if the
    // headers were sent before the wait (the test would otherwise time out).
    const far = newKey("f-firstbyte-far");
    await script(far, [{ firstByteDelayMs: 60_000 }]);
    const ac = new AbortController();
    const early = await gemini(far, ["hi"], { stream: true, init: { signal: ac.signal } });
    assert.equal(early.status, 200);
    ac.abort();
    // Then the body waits (a lower bound only: timers never fire early).
    const key = newKey("f-firstbyte");
    await script(key, [{ firstByteDelayMs: 200 }]);
    const res = await gemini(key, ["hi"], { stream: true });
    const t1 = performance.now();
    const { events } = await readSse(res);
    assert.ok(elapsedSince(t1) >= 150, "body waits");
    assert.equal(json(events.at(-1)).candidates[0].finishReason, "STOP");
  });

  it("chunkDelayMs spaces out stream events", async () => {
    const key = newKey("f-chunkdelay");
    await script(key, [{ chunkDelayMs: 40 }]);
    const t0 = performance.now();
    const { events } = await readSse(await openai(key, [user("a b")], { stream: true }));
    assert.ok(elapsedSince(t0) >= 40 * (events.length - 1) - 10);
  });

  it("disconnectAfterChunks kills the socket mid-stream (and mid-JSON)", async () => {
    const key = newKey("f-disconnect");
    await script(key, [{ disconnectAfterChunks: 3 }, { disconnectAfterChunks: 0 }]);
    const { events, error } = await readSse(await openai(key, [user("one two three four five")], { stream: true }));
    assert.equal(events.length, 3);
    assert.ok(error, "reading the body fails");
    const res = await openai(key, [user("hi")]);
    await assert.rejects(res.json());
  });

  it("holdCut keeps a disconnect waiting until the control API releases it", async () => {
    const key = newKey("f-holdcut");
    await script(key, [{ disconnectAfterChunks: 2, holdCut: true }]);
    const res = await openai(key, [user("one two three four five")], { stream: true });
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let text = "";
    // Both events arrive, and then nothing: the cut is held.
    while ((text.match(/\n\n/g) ?? []).length < 2) text += dec.decode((await reader.read()).value);
    let settled = false;
    const rest = reader.read().then((r) => { settled = true; return r; }, (e) => { settled = true; throw e; });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(settled, false, "no cut before the release");
    const rel = await fetch(`${llm.url}/__control/release?key=${encodeURIComponent(key)}`, { method: "POST" });
    assert.equal(rel.status, 200);
    await assert.rejects(rest);
  });

  it("truncateAfterChunks ends cleanly without the finish marker", async () => {
    const key = newKey("f-truncate");
    await script(key, [{ truncateAfterChunks: 4 }, { truncateAfterChunks: 1000 }]);
    const a = await readSse(await anthropic(key, [user("one two three four")], { stream: true }));
    assert.equal(a.error, null);
    assert.equal(a.events.length, 4);
    assert.ok(!a.events.some((e) => e.event === "message_stop"));
    const b = await readSse(await anthropic(key, [user("one two")], { stream: true }));
    assert.equal(b.error, null);
    assert.equal(b.events.at(-1).event, "message_delta", "everything except message_stop");

    const g = newKey("f-truncate-ge");
    await script(g, [{ truncateAfterChunks: 1000 }]);
    const c = await readSse(await gemini(g, ["x y z"], { stream: true }));
    assert.ok(c.events.length >= 1 && c.events.map(json).every((e) => !e.candidates[0].finishReason));
  });

  it("malformedAfterChunks injects one bad event, then carries on", async () => {
    const key = newKey("f-malformed");
    await script(key, [{ malformedAfterChunks: 2 }]);
    const { events, error } = await readSse(await openai(key, [user("one two three")], { stream: true }));
    assert.equal(error, null);
    assert.equal(events[2].data, "{not json");
    assert.throws(() => json(events[2]));
    assert.equal(events.at(-1).data, "[DONE]");
    const text = events.slice(3, -1).map(json).map((c) => c.choices[0].delta.content ?? "").join("");
    assert.equal(json(events[1]).choices[0].delta.content + text, "Echo: one two three (turn 1)");
  });

  it("stallAfterChunks keeps the connection open until the client aborts", async () => {
    const key = newKey("f-stall");
    await script(key, [{ stallAfterChunks: 1 }]);
    const ac = new AbortController();
    const res = await gemini(key, ["one two three"], { stream: true, init: { signal: ac.signal } });
    const { events, reader } = await readSse(res, { maxEvents: 1 });
    assert.equal(events.length, 1);
    // Nothing more comes: a stalled stream can only pass this by being stalled (a broken one
    // might pass by luck, a working one never fails by it).
    let timer;
    const next = await Promise.race([
      reader.read().then(() => "data", () => "error"),
      new Promise((r) => (timer = setTimeout(() => r("stalled"), 300))),
    ]);
    clearTimeout(timer);
    assert.equal(next, "stalled");
    ac.abort();
    await assert.rejects(reader.read());
    assert.equal((await openai(newKey("f-stall-after"), [user("still alive?")])).status, 200);
  });

  it("close() terminates stalled streams promptly", async () => {
    const own = await startMockLlmServer();
    const key = newKey("f-stall-close");
    await script(key, [{ stallAfterChunks: 2 }], own.url);
    const res = await fetch(`${own.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...ANTHROPIC_HEADERS },
      body: JSON.stringify({ model: key, max_tokens: 10, stream: true, messages: [user("hi")] }),
    });
    const first = await readSse(res, { maxEvents: 2 });
    assert.equal(first.events.length, 2);
    // A stalled stream never ends by itself: close() resolving at all means it cut it.
    await own.close();
    await assert.rejects(first.reader.read());
  });

  it("streamError sends an in-stream error in each provider's shape", async () => {
    const se = { type: "overloaded_error", message: "Overloaded" };

    const an = newKey("f-se-an");
    await script(an, [{ streamError: se, afterChunks: 2 }]);
    const a = await readSse(await anthropic(an, [user("hi there")], { stream: true }));
    assert.equal(a.events.length, 3);
    assert.equal(a.events[2].event, "error");
    assert.deepEqual(json(a.events[2]), { type: "error", error: se });

    const oa = newKey("f-se-oa");
    await script(oa, [{ streamError: se, afterChunks: 1 }]);
    const o = await readSse(await openai(oa, [user("hi there")], { stream: true }));
    assert.equal(o.events.length, 2);
    assert.equal(json(o.events[1]).error.message, "Overloaded");
    assert.equal(json(o.events[1]).error.type, "overloaded_error");
    assert.ok(!o.events.some((e) => e.data === "[DONE]"));

    const ge = newKey("f-se-ge");
    await script(ge, [{ streamError: se }]);
    const g = await readSse(await gemini(ge, ["hi there"], { stream: true }));
    assert.deepEqual(g.events.map(json), [{ error: { code: 503, message: "Overloaded", status: "UNAVAILABLE" } }]);
  });
});

// ---------------------------------------------------------------------------------------------
// CORS
// ---------------------------------------------------------------------------------------------

describe("CORS", () => {
  it("answers preflight with 204 and echoes the requested headers", async () => {
    const res = await fetch(`${llm.url}/v1/messages`, {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:9000",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type,x-api-key,anthropic-version",
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.match(res.headers.get("access-control-allow-methods"), /POST/);
    assert.match(res.headers.get("access-control-allow-headers"), /authorization/);
    assert.match(res.headers.get("access-control-allow-headers"), /anthropic-version/);
  });

  it("is on errors, streams and control responses", async () => {
    const check = (res) => {
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
      for (const h of ["retry-after", "retry-after-ms", "x-request-id"]) assert.match(res.headers.get("access-control-expose-headers"), new RegExp(h));
    };
    const err = await gemini(newKey("cors"), ["x"], { headers: {} });
    check(err);
    await err.text();
    const stream = await anthropic(newKey("cors"), [user("x")], { stream: true });
    check(stream);
    await stream.text();
    const ctl = await fetch(`${llm.url}/__control/requests?key=none`);
    check(ctl);
    await ctl.text();
    const missing = await fetch(`${llm.url}/nope`, { method: "POST" });
    assert.equal(missing.status, 404);
    check(missing);
    await missing.text();
  });
});

// ---------------------------------------------------------------------------------------------
// Control API
// ---------------------------------------------------------------------------------------------

describe("control API", () => {
  it("isolates scripts and logs by key", async () => {
    const a = newKey("iso-a");
    const b = newKey("iso-b");
    await script(a, [{ status: 500 }, { reply: "A2" }]);
    await script(b, [{ reply: "B1" }]);
    const rb = await (await openai(b, [user("x")])).json();
    assert.equal(rb.choices[0].message.content, "B1");
    assert.equal((await openai(a, [user("x")])).status, 500);
    assert.equal((await (await openai(a, [user("x")])).json()).choices[0].message.content, "A2");
    assert.equal((await requestLog(a)).length, 2);
    assert.equal((await requestLog(b)).length, 1);
  });

  it("logs method, path, lower-cased headers, parsed body and time; DELETE clears", async () => {
    const key = newKey("log");
    await gemini(key, ["hello"], { headers: { "X-Goog-Api-Key": "secret", "X-Custom": "1" } });
    const [entry] = await requestLog(key);
    assert.equal(entry.method, "POST");
    assert.equal(entry.path, `/v1beta/models/${key}:generateContent`);
    assert.equal(entry.headers["x-goog-api-key"], "secret");
    assert.equal(entry.headers["x-custom"], "1");
    assert.deepEqual(entry.body.contents, [{ role: "user", parts: [{ text: "hello" }] }]);
    assert.equal(typeof entry.time, "number");

    const del = await fetch(`${llm.url}/__control/requests?key=${key}`, { method: "DELETE" });
    assert.equal(del.status, 200);
    assert.deepEqual(await requestLog(key), []);
  });

  it("reset clears queues and logs; bad scripts are rejected", async () => {
    const own = await startMockLlmServer();
    try {
      await script("k", [{ status: 500 }], own.url);
      await fetch(`${own.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ model: "k", messages: [] }) }).then((r) => r.text());
      await script("k", [{ status: 500 }], own.url);
      const reset = await fetch(`${own.url}/__control/reset`, { method: "POST" });
      assert.equal(reset.status, 200);
      assert.deepEqual(await requestLog("k", own.url), []);
      const res = await fetch(`${own.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ model: "k", messages: [user("hi")] }) });
      assert.equal(res.status, 200, "the queued 500 was cleared");
      await res.text();

      const bad = await fetch(`${own.url}/__control/script`, { method: "POST", body: JSON.stringify({ key: "k", steps: "nope" }) });
      assert.equal(bad.status, 400);
      await bad.text();
    } finally {
      await own.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

describe("CLI", () => {
  it("prints MOCK_LLM_URL, serves, and exits cleanly on SIGTERM", async () => {
    const cli = fileURLToPath(new URL("./mock-llm-server.mjs", import.meta.url));
    const child = spawn(process.execPath, [cli, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    const line = await new Promise((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
        if (out.includes("\n")) resolve(out.split("\n")[0]);
      });
      child.once("exit", () => reject(new Error(`CLI exited before printing: ${out}`)));
    });
    const m = /^MOCK_LLM_URL=(http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
    assert.ok(m, line);
    const res = await fetch(`${m[1]}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ model: "cli", messages: [user("ping")] }) });
    assert.equal((await res.json()).choices[0].message.content, "Echo: ping (turn 1)");
    child.kill("SIGTERM");
    assert.deepEqual(await exited, { code: 0, signal: null });
  });
});
