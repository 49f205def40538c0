// A real HTTP server that speaks the OpenAI, Anthropic and Gemini wire formats (JSON and SSE) so the
// agent-sessions fetch code runs end to end in Node, browsers and workerd. Only the model is fake:
// replies are computed deterministically from the conversation received, and per-test scripts
// (keyed by model name, so parallel tests do not collide) inject replies, tool calls and faults.
//
//   import { startMockLlmServer } from "./mock-llm-server.mjs";
//   const llm = await startMockLlmServer();          // { url, port, close(), reset(), script(), requests() }
//
//   node tests/support/mock-llm-server.mjs [--port N] [--host H]
//   → prints "MOCK_LLM_URL=http://127.0.0.1:PORT" once listening; SIGTERM/SIGINT shut it down.

import http from "node:http";
import { realpathSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";

// Small but non-zero, so chunks tend to arrive in separate reads like they do from a real model.
const DEFAULT_CHUNK_DELAY_MS = 2;

const EXPOSED_HEADERS = "retry-after, retry-after-ms, x-request-id, request-id";
const DEFAULT_ALLOWED_HEADERS =
  "authorization, content-type, x-api-key, anthropic-version, anthropic-beta, " +
  "anthropic-dangerous-direct-browser-access, x-goog-api-key, x-stainless-retry-count";

// ---------------------------------------------------------------------------------------------
// Deterministic "model"
// ---------------------------------------------------------------------------------------------

/** Reply computed from normalised history [{role, text}] so tests can prove the history arrived. */
export function defaultReply(messages) {
  const last = messages.at(-1);
  // Agent loops end with a tool result; answering with it shows the result reached the model.
  if (last?.role === "tool") return `Tool result received: ${last.text}`;

  const users = messages.filter((m) => m.role === "user");
  const latest = users.at(-1)?.text ?? "";
  const earlier = users.slice(0, -1);

  if (/what(?:'s| is) my name/i.test(latest)) {
    for (let i = earlier.length - 1; i >= 0; i--) {
      const m = /my name is\s+(\S+)/i.exec(earlier[i].text);
      const name = m?.[1].replace(/[^\p{L}\p{N}_'-]/gu, "");
      if (name) return `Your name is ${name}.`;
    }
    return "I don't have that information.";
  }
  if (/what did i just say/i.test(latest)) {
    const previous = earlier.at(-1);
    return previous ? `You said: "${previous.text}"` : "You haven't said anything before.";
  }
  return `Echo: ${latest} (turn ${users.length})`;
}

const tokens = (chars) => Math.ceil(chars / 4);

/** Words with their trailing whitespace, so joining the pieces gives back the exact text. */
function splitWords(text) {
  return text.match(/\s*\S+\s*/g) ?? (text ? [text] : []);
}

/** Tool arguments always come in 2+ fragments so clients must concatenate them. */
function splitArguments(args) {
  if (args.length < 2) return [args, ""];
  const size = Math.ceil(args.length / 3);
  const out = [];
  for (let i = 0; i < args.length; i += size) out.push(args.slice(i, i + size));
  return out;
}

function parseJsonObject(text) {
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

// ---------------------------------------------------------------------------------------------
// Providers: parse request / validate / error shape / encode JSON / encode stream events
// ---------------------------------------------------------------------------------------------
// `out` (the reply to encode) is { id, model, created, text: string|null, toolCalls:[{id,name,arguments}],
// usage: {input, output}, includeUsage }.

const openai = {
  name: "openai",
  contentType: "application/json",

  textOf(content) {
    if (typeof content === "string") return content;
    if (!Array.isArray(content)) return "";
    return content.map((p) => (typeof p === "string" ? p : p?.type === "text" ? (p.text ?? "") : "")).join("");
  },

  parse(body) {
    const msgs = Array.isArray(body.messages) ? body.messages : [];
    const system = msgs.filter((m) => m?.role === "system" || m?.role === "developer").map((m) => openai.textOf(m.content));
    const messages = msgs
      .filter((m) => m && m.role !== "system" && m.role !== "developer")
      .map((m) => ({ role: m.role === "function" ? "tool" : m.role, text: openai.textOf(m.content) }));
    return {
      model: typeof body.model === "string" ? body.model : "",
      stream: body.stream === true,
      includeUsage: body.stream_options?.include_usage === true,
      system: system.length ? system.join("\n") : null,
      messages,
    };
  },

  validate(req, body) {
    const auth = req.headers.authorization;
    // Absent is fine (Ollama, llama.cpp); present-but-empty is a client bug worth catching.
    if (auth !== undefined && !/^Bearer\s+\S+/.test(auth)) {
      return { status: 401, message: "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key" };
    }
    if (!body) return { status: 400, message: "We could not parse the JSON body of your request." };
    if (typeof body.model !== "string" || !body.model) return { status: 400, message: "you must provide a model parameter" };
    if (!Array.isArray(body.messages)) return { status: 400, message: "'messages' is a required property" };
    return null;
  },

  errorBody(status, message, { type, code } = {}) {
    const defaults = {
      400: ["invalid_request_error", null],
      401: ["invalid_request_error", "invalid_api_key"],
      403: ["invalid_request_error", "unsupported_country_region_territory"],
      404: ["invalid_request_error", "model_not_found"],
      429: ["requests", "rate_limit_exceeded"],
      500: ["server_error", null],
      503: ["server_error", null],
    }[status] ?? [status >= 500 ? "server_error" : "invalid_request_error", null];
    return { error: { message, type: type ?? defaults[0], param: null, code: code ?? defaults[1] } };
  },

  encodeJson(out) {
    const message = { role: "assistant", content: out.text, refusal: null };
    if (out.toolCalls.length) {
      message.tool_calls = out.toolCalls.map((t) => ({ id: t.id, type: "function", function: { name: t.name, arguments: t.arguments } }));
    }
    return {
      id: out.id,
      object: "chat.completion",
      created: out.created,
      model: out.model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: out.toolCalls.length ? "tool_calls" : "stop" }],
      usage: { prompt_tokens: out.usage.input, completion_tokens: out.usage.output, total_tokens: out.usage.input + out.usage.output },
      system_fingerprint: "fp_mock",
    };
  },

  encodeStream(out) {
    const base = { id: out.id, object: "chat.completion.chunk", created: out.created, model: out.model, system_fingerprint: "fp_mock" };
    // With include_usage the real API adds `usage: null` to every chunk; clients must skip the nulls.
    const chunk = (delta, finish = null) => ({
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(out.includeUsage ? { usage: null } : {}),
    });
    const events = [chunk({ role: "assistant", content: out.text === null ? null : "", refusal: null })];
    for (const word of splitWords(out.text ?? "")) events.push(chunk({ content: word }));
    out.toolCalls.forEach((t, index) => {
      events.push(chunk({ tool_calls: [{ index, id: t.id, type: "function", function: { name: t.name, arguments: "" } }] }));
      for (const part of splitArguments(t.arguments)) events.push(chunk({ tool_calls: [{ index, function: { arguments: part } }] }));
    });
    events.push(chunk({}, out.toolCalls.length ? "tool_calls" : "stop"));
    if (out.includeUsage) {
      const usage = { prompt_tokens: out.usage.input, completion_tokens: out.usage.output, total_tokens: out.usage.input + out.usage.output };
      events.push({ ...base, choices: [], usage });
    }
    return [...events.map((e) => `data: ${JSON.stringify(e)}\n\n`), "data: [DONE]\n\n"];
  },

  malformedEvent: "data: {not json\n\n",

  streamErrorEvent(e) {
    return `data: ${JSON.stringify({ error: { message: e.message ?? "The server is overloaded.", type: e.type ?? "server_error", param: null, code: e.code ?? null } })}\n\n`;
  },
};

const anthropic = {
  name: "anthropic",
  contentType: "application/json",

  blocksText(content) {
    if (typeof content === "string") return content;
    if (!Array.isArray(content)) return "";
    return content.map((b) => (typeof b === "string" ? b : b?.type === "text" ? (b.text ?? "") : "")).join("");
  },

  parse(body) {
    const messages = [];
    for (const m of Array.isArray(body.messages) ? body.messages : []) {
      const blocks = Array.isArray(m?.content) ? m.content : null;
      // tool_result blocks are tool output, not something the user said: keep them out of turn counts.
      const results = blocks?.filter((b) => b?.type === "tool_result") ?? [];
      for (const r of results) messages.push({ role: "tool", text: anthropic.blocksText(r.content) });
      if (!results.length || blocks.some((b) => b?.type === "text")) {
        messages.push({ role: m?.role, text: anthropic.blocksText(m?.content) });
      }
    }
    const system = body.system == null ? null : anthropic.blocksText(body.system);
    return { model: typeof body.model === "string" ? body.model : "", stream: body.stream === true, includeUsage: true, system, messages };
  },

  validate(req, body) {
    if (!req.headers["x-api-key"]) return { status: 401, message: "x-api-key header is required" };
    if (!req.headers["anthropic-version"]) return { status: 400, message: "anthropic-version: header is required" };
    if (!body) return { status: 400, message: "There was an issue with your request body: invalid JSON" };
    if (typeof body.model !== "string" || !body.model) return { status: 400, message: "model: Field required" };
    if (body.max_tokens === undefined) return { status: 400, message: "max_tokens: Field required" };
    if (!Array.isArray(body.messages)) return { status: 400, message: "messages: Field required" };
    return null;
  },

  errorBody(status, message, { type } = {}) {
    const defaultType = {
      400: "invalid_request_error",
      401: "authentication_error",
      402: "billing_error",
      403: "permission_error",
      404: "not_found_error",
      413: "request_too_large",
      429: "rate_limit_error",
      500: "api_error",
      529: "overloaded_error",
    }[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
    return { type: "error", error: { type: type ?? defaultType, message } };
  },

  toolInput(args) {
    return parseJsonObject(args);
  },

  encodeJson(out) {
    const content = [];
    if (out.text !== null) content.push({ type: "text", text: out.text });
    for (const t of out.toolCalls) content.push({ type: "tool_use", id: t.id, name: t.name, input: anthropic.toolInput(t.arguments) });
    return {
      id: out.id,
      type: "message",
      role: "assistant",
      model: out.model,
      content,
      stop_reason: out.toolCalls.length ? "tool_use" : "end_turn",
      stop_sequence: null,
      usage: { input_tokens: out.usage.input, output_tokens: out.usage.output },
    };
  },

  encodeStream(out) {
    const events = [];
    const emit = (type, data) => events.push(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    // message_start carries output_tokens: 1 like the real API; the final count is in message_delta.
    emit("message_start", {
      message: {
        id: out.id, type: "message", role: "assistant", model: out.model, content: [],
        stop_reason: null, stop_sequence: null, usage: { input_tokens: out.usage.input, output_tokens: 1 },
      },
    });
    let index = 0;
    const start = (block) => {
      emit("content_block_start", { index, content_block: block });
      if (index === 0) emit("ping", {});
    };
    if (out.text !== null) {
      start({ type: "text", text: "" });
      for (const word of splitWords(out.text)) emit("content_block_delta", { index, delta: { type: "text_delta", text: word } });
      emit("content_block_stop", { index });
      index++;
    }
    for (const t of out.toolCalls) {
      start({ type: "tool_use", id: t.id, name: t.name, input: {} });
      for (const part of splitArguments(t.arguments)) emit("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: part } });
      emit("content_block_stop", { index });
      index++;
    }
    emit("message_delta", {
      delta: { stop_reason: out.toolCalls.length ? "tool_use" : "end_turn", stop_sequence: null },
      usage: { output_tokens: out.usage.output },
    });
    emit("message_stop", {});
    return events;
  },

  malformedEvent: "event: content_block_delta\ndata: {not json\n\n",

  streamErrorEvent(e) {
    const data = { type: "error", error: { type: e.type ?? "overloaded_error", message: e.message ?? "Overloaded" } };
    return `event: error\ndata: ${JSON.stringify(data)}\n\n`;
  },
};

// Gemini's SSE uses CRLF line endings; clients that only split on "\n\n" break on the real service.
const GEMINI_EOL = "\r\n\r\n";
const GEMINI_STATUS = {
  400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
  409: "ABORTED", 429: "RESOURCE_EXHAUSTED", 499: "CANCELLED", 500: "INTERNAL", 501: "NOT_IMPLEMENTED",
  503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED",
};
// In-stream errors are scripted with Anthropic-style type names; map them to Gemini's code/status.
const GEMINI_ERROR_FOR_TYPE = {
  overloaded_error: 503, rate_limit_error: 429, api_error: 500, server_error: 500,
  invalid_request_error: 400, authentication_error: 401, permission_error: 403, not_found_error: 404,
};

const gemini = {
  name: "gemini",
  contentType: "application/json; charset=UTF-8",

  partsText(parts) {
    return Array.isArray(parts) ? parts.map((p) => (typeof p?.text === "string" ? p.text : "")).join("") : "";
  },

  parse(body, route) {
    const messages = [];
    for (const c of Array.isArray(body.contents) ? body.contents : []) {
      const parts = Array.isArray(c?.parts) ? c.parts : [];
      const results = parts.filter((p) => p?.functionResponse);
      for (const r of results) messages.push({ role: "tool", text: JSON.stringify(r.functionResponse.response ?? {}) });
      if (!results.length || parts.some((p) => typeof p?.text === "string")) {
        messages.push({ role: c?.role === "model" ? "assistant" : (c?.role ?? "user"), text: gemini.partsText(parts) });
      }
    }
    const si = body.systemInstruction ?? body.system_instruction;
    const system = si == null ? null : typeof si === "string" ? si : gemini.partsText(si.parts);
    return { model: route.model, stream: route.stream, includeUsage: true, system, messages };
  },

  validate(req, body, url) {
    if (!req.headers["x-goog-api-key"] && !url.searchParams.get("key")) {
      // The real service answers a keyless call with 403, not 401.
      return {
        status: 403,
        message: "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      };
    }
    if (!body) return { status: 400, message: "Invalid JSON payload received." };
    if (!Array.isArray(body.contents)) return { status: 400, message: "* GenerateContentRequest.contents: contents is not specified" };
    return null;
  },

  errorBody(status, message, { statusName } = {}) {
    return { error: { code: status, message, status: statusName ?? GEMINI_STATUS[status] ?? (status >= 500 ? "INTERNAL" : "INVALID_ARGUMENT") } };
  },

  candidate(parts, finish) {
    return { content: { role: "model", parts }, ...(finish ? { finishReason: "STOP" } : {}), index: 0 };
  },

  usageMetadata(input, output) {
    return { promptTokenCount: input, candidatesTokenCount: output, totalTokenCount: input + output };
  },

  functionCallParts(out) {
    return out.toolCalls.map((t) => ({ functionCall: { name: t.name, args: parseJsonObject(t.arguments) } }));
  },

  encodeJson(out) {
    const parts = [...(out.text !== null ? [{ text: out.text }] : []), ...gemini.functionCallParts(out)];
    return {
      candidates: [gemini.candidate(parts, true)],
      usageMetadata: gemini.usageMetadata(out.usage.input, out.usage.output),
      modelVersion: out.model,
      responseId: out.id,
    };
  },

  /** Response objects (not yet serialised): also used for the non-SSE JSON-array stream. */
  streamChunks(out) {
    const pieces = splitWords(out.text ?? "").map((w) => [{ text: w }]);
    if (out.toolCalls.length) pieces.push(gemini.functionCallParts(out)); // Gemini sends whole calls, never fragments
    if (!pieces.length) pieces.push([{ text: "" }]);
    // usageMetadata is cumulative on every chunk like the real API: the last one is the total.
    const total = pieces.length;
    return pieces.map((parts, i) => ({
      candidates: [gemini.candidate(parts, i === total - 1)],
      usageMetadata: gemini.usageMetadata(out.usage.input, Math.max(1, Math.round((out.usage.output * (i + 1)) / total))),
      modelVersion: out.model,
      responseId: out.id,
    }));
  },

  encodeStream(out) {
    return gemini.streamChunks(out).map((c) => `data: ${JSON.stringify(c)}${GEMINI_EOL}`);
  },

  malformedEvent: `data: {not json${GEMINI_EOL}`,

  streamErrorEvent(e) {
    const code = e.code ?? GEMINI_ERROR_FOR_TYPE[e.type] ?? 500;
    return `data: ${JSON.stringify(gemini.errorBody(code, e.message ?? "The model is overloaded. Please try again later.", { statusName: e.status }))}${GEMINI_EOL}`;
  },
};

/** Which provider (and for Gemini which model / stream mode) a path belongs to. */
function matchRoute(pathname) {
  if (pathname === "/v1/chat/completions" || pathname.endsWith("/chat/completions")) return { provider: openai };
  if (pathname === "/v1/messages" || pathname.endsWith("/v1/messages")) return { provider: anthropic };
  const g = /\/v1(?:beta|alpha)?\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(pathname);
  if (g) return { provider: gemini, model: decodeURIComponent(g[1]), stream: g[2] === "streamGenerateContent" };
  return null;
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

export async function startMockLlmServer({ port = 0, host = "127.0.0.1" } = {}) {
  const queues = new Map(); // key → [step]
  const logs = new Map(); // key → [request entry]
  // key → { open: releases not yet used, waiting: [resolve] }. A step with `holdCut: true` waits
  // at its disconnect point until the test releases it (POST /__control/release?key=…), e.g.
  // once the client showed a delta: then the cut reaches the client after text, whatever the
  // runtime does with bytes it received but had not read when the connection failed.
  const gates = new Map();
  const sockets = new Set();
  const inflight = new Set(); // AbortControllers: close() must cut delays and stalls short
  let counter = 0;
  let closing = false;

  const nextId = () => ++counter;

  function logFor(key) {
    if (!logs.has(key)) logs.set(key, []);
    return logs.get(key);
  }

  function reset() {
    queues.clear();
    logs.clear();
    for (const g of gates.values()) g.waiting.splice(0).forEach((resolve) => resolve());
    gates.clear();
  }

  function gateFor(key) {
    if (!gates.has(key)) gates.set(key, { open: 0, waiting: [] });
    return gates.get(key);
  }

  /** Opens one held cut of `key` (a cut held now, or the next one to be held). */
  function release(key) {
    const g = gateFor(key);
    const next = g.waiting.shift();
    if (next) next();
    else g.open += 1;
  }

  /** Resolves when a release for `key` is available (consuming it), or rejects on abort. */
  function hold(key, signal) {
    const g = gateFor(key);
    if (g.open > 0) {
      g.open -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = g.waiting.indexOf(done);
        if (i >= 0) g.waiting.splice(i, 1);
        reject(signal.reason);
      };
      const done = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      g.waiting.push(done);
    });
  }

  function script(key, steps) {
    if (!queues.has(key)) queues.set(key, []);
    queues.get(key).push(...steps);
    return queues.get(key).length;
  }

  function requests(key) {
    return key === undefined ? [...logs.values()].flat() : [...(logs.get(key) ?? [])];
  }

  const server = http.createServer((req, res) => {
    // One request per connection (`Connection: close`): a browser resends a request on its own
    // when a reused keep-alive connection drops before the response, which would let a scripted
    // fault reach the client as a clean second answer — by chance, depending on connection reuse.
    res.shouldKeepAlive = false;
    const ac = new AbortController();
    inflight.add(ac);
    // 'close' on the response fires both when it finished and when the client went away.
    res.on("close", () => {
      ac.abort();
      inflight.delete(ac);
    });
    handle(req, res, ac.signal).catch((err) => {
      if (!ac.signal.aborted && !closing) console.error("[mock-llm] handler error:", err);
      if (!res.headersSent && !res.destroyed) sendJson(res, 500, { error: { message: String(err?.message ?? err) } });
      else if (!res.writableEnded) res.destroy();
    });
  });
  server.on("connection", (socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  async function handle(req, res, signal) {
    setCors(req, res);
    if (req.method === "OPTIONS") {
      res.writeHead(204, { "content-length": "0" });
      res.end();
      return;
    }
    const url = new URL(req.url, "http://mock.invalid");
    const raw = await readBody(req);

    if (url.pathname.startsWith("/__control/")) return control(req, res, url, raw);
    if (url.pathname === "/" && (req.method === "GET" || req.method === "HEAD")) return sendJson(res, 200, { ok: true });

    const route = req.method === "POST" ? matchRoute(url.pathname) : null;
    if (!route) return sendJson(res, 404, { error: { message: `No mock route for ${req.method} ${url.pathname}`, type: "not_found" } });

    const p = route.provider;
    let body = null;
    try {
      const v = JSON.parse(raw);
      if (v && typeof v === "object" && !Array.isArray(v)) body = v;
    } catch {}
    const parsed = p.parse(body ?? {}, route);
    const key = parsed.model;

    // Logged before validation so tests also see requests the "API" rejected.
    logFor(key).push({
      key,
      provider: p.name,
      method: req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...req.headers },
      body: body ?? raw,
      system: parsed.system,
      messages: parsed.messages,
      stream: parsed.stream,
      time: Date.now(),
    });

    const requestId = `req_mock_${nextId()}`;
    const baseHeaders = { "x-request-id": requestId, ...(p === anthropic ? { "request-id": requestId } : {}) };

    const invalid = p.validate(req, body, url);
    if (invalid) {
      return sendJson(res, invalid.status, p.errorBody(invalid.status, invalid.message, { type: invalid.type, code: invalid.code }), { ...baseHeaders, "content-type": p.contentType });
    }

    // Validation failures above do not consume a step: the step is for the attempt the API accepts.
    const step = queues.get(key)?.shift() ?? {};
    const headers = { ...baseHeaders, ...lowerKeys(step.headers ?? {}) };

    if (step.delayMs) await sleep(step.delayMs, undefined, { signal });

    if (step.body !== undefined || (step.status ?? 200) >= 400) {
      const status = step.status ?? 200;
      const errBody = step.body !== undefined ? step.body : p.errorBody(status, `Mock error ${status}`);
      // A string body stands for a non-JSON answer (a proxy's HTML page, say), so don't call it JSON.
      const type = typeof errBody === "string" ? "text/plain; charset=utf-8" : p.contentType;
      return sendBody(res, status, errBody, { "content-type": type, ...headers }, step, signal);
    }

    const out = buildReply(p, parsed, step, key);
    if (!parsed.stream) return sendBody(res, 200, p.encodeJson(out), { "content-type": p.contentType, ...headers }, step, signal);

    if (p === gemini && url.searchParams.get("alt") !== "sse") {
      // Without ?alt=sse Gemini streams a JSON array, which SSE readers cannot parse: keep that trap real.
      const array = `[${gemini.streamChunks(out).map((c) => JSON.stringify(c)).join(",\r\n")}]`;
      return sendBody(res, 200, array, { "content-type": p.contentType, ...headers }, step, signal);
    }
    return sendStream(res, p.encodeStream(out), p, { ...headers }, step, signal, () => hold(key, signal));
  }

  function buildReply(p, parsed, step, key) {
    const toolCalls = (step.toolCalls ?? []).map((t, i) => ({
      id: t.id ?? (p === anthropic ? `toolu_mock_${nextId()}` : `call_mock_${nextId()}`),
      name: t.name ?? `tool_${i}`,
      arguments: typeof t.arguments === "string" ? t.arguments : JSON.stringify(t.arguments ?? {}),
    }));
    const text = step.reply !== undefined ? String(step.reply) : toolCalls.length ? null : defaultReply(parsed.messages);
    const promptChars = (parsed.system ?? "").length + parsed.messages.reduce((n, m) => n + (m.text?.length ?? 0), 0);
    const replyChars = (text ?? "").length + toolCalls.reduce((n, t) => n + t.name.length + t.arguments.length, 0);
    const n = nextId();
    return {
      id: p === openai ? `chatcmpl-mock-${n}` : p === anthropic ? `msg_mock_${n}` : `mock-response-${n}`,
      model: key,
      created: Math.floor(Date.now() / 1000),
      text,
      toolCalls,
      includeUsage: parsed.includeUsage,
      usage: { input: step.usage?.input ?? tokens(promptChars), output: step.usage?.output ?? tokens(replyChars) },
    };
  }

  async function control(req, res, url, raw) {
    const key = url.searchParams.get("key") ?? undefined;
    const route = `${req.method} ${url.pathname}`;
    if (route === "POST /__control/script") {
      let body;
      try {
        body = JSON.parse(raw);
      } catch {
        return sendJson(res, 400, { error: "body must be JSON { key, steps: [...] }" });
      }
      if (typeof body?.key !== "string" || !Array.isArray(body.steps) || body.steps.some((s) => !s || typeof s !== "object")) {
        return sendJson(res, 400, { error: "body must be { key: string, steps: [object, ...] }" });
      }
      return sendJson(res, 200, { key: body.key, queued: script(body.key, body.steps) });
    }
    if (route === "GET /__control/script") {
      return sendJson(res, 200, { key, remaining: key === undefined ? Object.fromEntries(queues) : (queues.get(key) ?? []) });
    }
    if (route === "GET /__control/requests") return sendJson(res, 200, requests(key));
    if (route === "POST /__control/release") {
      if (key === undefined) return sendJson(res, 400, { error: "release needs ?key=" });
      release(key);
      return sendJson(res, 200, { ok: true });
    }
    if (route === "DELETE /__control/requests") {
      if (key === undefined) logs.clear();
      else logs.delete(key);
      return sendJson(res, 200, { ok: true });
    }
    if (route === "POST /__control/reset") {
      reset();
      return sendJson(res, 200, { ok: true });
    }
    return sendJson(res, 404, { error: `unknown control route ${route}` });
  }

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actualPort = server.address().port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${actualPort}`;

  let closed;
  function close() {
    closed ??= new Promise((resolve) => {
      closing = true;
      for (const ac of inflight) ac.abort();
      server.close(() => resolve());
      // Stalled streams and keep-alive sockets would otherwise hold close() (and the process) open.
      for (const s of sockets) s.destroy();
      server.closeAllConnections?.();
    });
    return closed;
  }

  return { url, port: actualPort, close, reset, script, requests };
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers
// ---------------------------------------------------------------------------------------------

function setCors(req, res) {
  res.setHeader("access-control-allow-origin", "*");
  res.setHeader("access-control-allow-methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
  // "*" does not cover Authorization in browsers, so echo what the preflight asked for.
  res.setHeader("access-control-allow-headers", req.headers["access-control-request-headers"] || DEFAULT_ALLOWED_HEADERS);
  res.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
  res.setHeader("access-control-max-age", "600");
  if (req.headers["access-control-request-private-network"]) res.setHeader("access-control-allow-private-network", "true");
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
    // A client that gives up mid-upload never emits 'end'; don't leave the handler pending forever.
    req.on("close", () => {
      if (!req.complete) reject(new Error("request aborted"));
    });
  });
}

function lowerKeys(obj) {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k.toLowerCase(), String(v)]));
}

function sendJson(res, status, value, headers = {}) {
  const text = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Node corks the socket until the next tick; wait past it so a fault right after still lets the headers out. */
async function flushHeaders(res) {
  res.flushHeaders();
  await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Drops the connection mid-response, after everything written so far: a FIN without the body's
 * end (no terminating chunk), so the client reads the partial response and then fails. Not
 * `destroy()`: closing a socket with unread input sends a reset, and a reset makes the client's
 * kernel discard what it had received but not yet read — the fault would then arrive, by chance,
 * as a failure before the first byte (which a client may rightly retry).
 */
function cut(res) {
  res.socket?.end();
}

/** Resolves once the chunk reached the kernel, so a following socket.destroy() cannot drop it. */
function write(res, chunk, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted || res.destroyed) return reject(signal.reason ?? new Error("response closed"));
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    res.write(chunk, (err) => {
      signal.removeEventListener("abort", onAbort);
      if (err) reject(err);
      else resolve();
    });
  });
}

/**
 * A whole (non-stream) body. Stream faults map onto it so JSON clients can be tested too:
 * stall → headers only; disconnect → half the body then a reset; truncate → half the body, clean end;
 * malformed → the body is replaced by invalid JSON. streamError/afterChunks/chunkDelayMs are ignored.
 */
async function sendBody(res, status, value, headers, step, signal) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  const faulted = ["stallAfterChunks", "disconnectAfterChunks", "truncateAfterChunks", "malformedAfterChunks"].some((f) => step[f] != null);
  res.writeHead(status, faulted ? headers : { ...headers, "content-length": Buffer.byteLength(text) });
  if (step.firstByteDelayMs || faulted) {
    await flushHeaders(res);
    if (step.firstByteDelayMs) await sleep(step.firstByteDelayMs, undefined, { signal });
  }
  const half = text.slice(0, Math.floor(text.length / 2));
  if (step.stallAfterChunks != null) return;
  if (step.disconnectAfterChunks != null) {
    await write(res, half, signal);
    cut(res);
    return;
  }
  if (step.truncateAfterChunks != null) return void res.end(half);
  if (step.malformedAfterChunks != null) return void res.end("{not json");
  res.end(text);
}

/** SSE: events[] are already-encoded frames; the last one is the provider's finish marker. */
async function sendStream(res, events, p, headers, step, signal, hold) {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    ...headers,
  });
  await flushHeaders(res);
  if (step.firstByteDelayMs) await sleep(step.firstByteDelayMs, undefined, { signal });

  const total = events.length;
  const chunkDelay = step.chunkDelayMs ?? DEFAULT_CHUNK_DELAY_MS;
  // Truncation must always drop at least the finish marker, whatever n the test asked for.
  const truncateAt = step.truncateAfterChunks != null ? Math.min(step.truncateAfterChunks, total - 1) : -1;
  const errorAt = step.streamError ? Math.min(step.afterChunks ?? 0, total) : -1;

  for (let i = 0; i <= total; i++) {
    if (i === step.disconnectAfterChunks) {
      if (step.holdCut) await hold();
      cut(res);
      return;
    }
    if (i === step.stallAfterChunks) return; // leave it open: the client must time out / abort
    if (i === truncateAt) return void res.end();
    if (i === errorAt) {
      await write(res, p.streamErrorEvent(step.streamError), signal);
      return void res.end();
    }
    if (i === step.malformedAfterChunks) await write(res, p.malformedEvent, signal);
    if (i === total) break;
    if (i > 0 && chunkDelay > 0) await sleep(chunkDelay, undefined, { signal });
    await write(res, events[i], signal);
  }
  res.end();
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  const args = process.argv.slice(2);
  const opt = (name) => {
    const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return undefined;
    return args[i].includes("=") ? args[i].split("=")[1] : args[i + 1];
  };
  const server = await startMockLlmServer({ port: Number(opt("port") ?? 0), host: opt("host") ?? "127.0.0.1" });
  process.stdout.write(`MOCK_LLM_URL=${server.url}\n`);
  const stop = () => server.close().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
