// agent-sessions/server: Hector's REST + SSE API as one fetch-style handler,
// `(request: Request) => Promise<Response>`, for Workers (inside a Durable Object), Node and any
// runtime with Request/Response. Route matching, validation, status mapping, SSE framing and the
// resume buffer are the wasm module's (core/server, tested natively); this file does the I/O:
// reading bodies, running the agent, fanning a run's events out to its listeners, timers.
//
// A run belongs to the session, not to the connection: it is started by a POST, its events are
// kept in a bounded per-run buffer, and any number of clients (the one that started it, ones
// that resume with Last-Event-ID) listen to it. A client that goes away only stops listening;
// `POST …/cancel` (or the agent's own timeout) stops the run.
import {
  Agent,
  ServerRunBuffer,
  serverError,
  serverKeepalive,
  serverNormalizeConfig,
  serverParseCreate,
  serverParseEmpty,
  serverParseFork,
  serverParseLimit,
  serverParseSend,
  serverRoute,
} from "./agent_sessions_server.js";
import { UI_EVENT, UI_STREAM_HEADERS, chatEvents, parseChatRequest, uiChunkTexts } from "./server-ai-sdk-stream.js";
import { a2aRpc, agentCard } from "./server-a2a.js";

const TENANT_HEADER = "x-agent-sessions-tenant";
/** The endpoints that answer a run with its SSE stream (the others wait and answer JSON). */
const STREAMED = new Set(["stream_message", "edit_stream", "regenerate_stream"]);
const encoder = new TextEncoder();
/** How much of a refused (too large) body is read and dropped before the 413 is sent. */
const DRAIN_BYTES = 8 * 1024 * 1024;

/** Checks a Hector-shaped config (YAML/JSON already parsed) and returns its normalised form;
 * throws an AgentSessionsError `INVALID_CONFIG` whose message starts with the key. */
export function normalizeConfig(config, env = {}) {
  if (config && config.__normalized) return config;
  const n = serverNormalizeConfig(JSON.stringify(config ?? null), env);
  Object.defineProperty(n, "__normalized", { value: true });
  return n;
}

async function sha256Hex(text) {
  const d = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function json(status, body, headers = {}) {
  return new Response(body === null ? null : JSON.stringify(body), {
    status,
    headers: body === null ? headers : { "content-type": "application/json", ...headers },
  });
}

function fail(code, message, details, headers) {
  const { body, status } = serverError(code, message, details ?? null);
  return json(status, body, headers);
}

function fromAnswer(a) {
  return json(a.status, a.body);
}

/** A library error (AgentSessionsError) or anything thrown, as an HTTP error response. */
function fromError(e) {
  const code = typeof e?.code === "string" ? e.code : "INTERNAL";
  const message = code === "INTERNAL" && !e?.code ? "internal error" : String(e?.message ?? e);
  const details = e?.sessionId ? { session_id: e.sessionId } : null;
  return fail(code, message, details);
}

const iso = (ms) => (typeof ms === "number" && Number.isFinite(ms) ? new Date(ms).toISOString() : null);
const usageOut = (u) =>
  u ? { input_tokens: u.inputTokens ?? 0, output_tokens: u.outputTokens ?? 0, total_tokens: u.totalTokens ?? 0 } : null;

function messageOut(m) {
  const out = { id: m.id, seq: m.seq, role: m.role, content: m.content, status: m.status, created_at: iso(m.createdAt) };
  if (m.name !== undefined) out.name = m.name;
  if (m.tokens !== undefined) out.tokens = m.tokens;
  if (m.runId !== undefined) out.run_id = m.runId;
  if (m.toolCalls) out.tool_calls = m.toolCalls;
  if (m.toolCallId) out.tool_call_id = m.toolCallId;
  if (m.metadata) out.metadata = m.metadata;
  return out;
}

function randomKey() {
  const b = crypto.getRandomValues(new Uint8Array(6));
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** A token bucket per tenant, from `server.rate_limit`; the default `rateLimit` hook. */
function tokenBuckets({ requests, per_seconds }) {
  const buckets = new Map();
  const rate = requests / (per_seconds * 1000);
  return (tenant) => {
    const now = Date.now();
    let b = buckets.get(tenant);
    if (!b) buckets.set(tenant, (b = { tokens: requests, at: now }));
    b.tokens = Math.min(requests, b.tokens + (now - b.at) * rate);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return null;
    }
    return { retryAfter: Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000)) };
  };
}

/**
 * createHandler(config, options?) → { fetch(request), close(), … }, and callable itself as
 * `handler(request)`.
 *
 * options:
 * - `env`: variables for `${VAR}` in the config (default: none; Node's CLI passes process.env).
 * - `storage({ tenant, agent, store })`: the library `storage` for one tenant's agent; `store` is
 *   the normalised `session_stores` entry (or null). Default `{ type: "memory" }`.
 * - `rateLimit(tenant, request)`: null to go on, or `{ retryAfter }` seconds for a 429. Default:
 *   a token bucket per tenant when `server.rate_limit` is configured.
 * - `dispatch(request, { tenant, agent })`: forward the checked request instead of serving it
 *   here (a Worker forwarding to the tenant's Durable Object); the tenant travels in a header.
 * - `trustTenantHeader`: take the tenant from that header (the Durable Object's side).
 * - `waitUntil(promise)`: keep the runtime alive while a run finishes (a Durable Object's).
 * - `onError(error)`: told of faults that are not the library's coded errors (default: console).
 */
export function createHandler(config, options = {}) {
  const cfg = normalizeConfig(config, options.env ?? {});
  const srv = cfg.server;
  const open = cfg.tenants === null;
  // Tokens are kept only as their SHA-256.
  const tenantOfHash = new Map();
  let ready = (async () => {
    for (const t of cfg.tenants ?? []) {
      for (const h of t.token_sha256) tenantOfHash.set(h, t.name);
      for (const tok of t.tokens) tenantOfHash.set(await sha256Hex(tok), t.name);
    }
    cfg.tenants?.forEach((t) => (t.tokens = []));
  })();
  const origins = new Set(cfg.cors.origins);
  const rateLimit =
    options.rateLimit ?? (srv.rate_limit ? tokenBuckets(srv.rate_limit) : () => null);
  const storageFor = options.storage ?? (() => ({ type: "memory" }));
  const agents = new Map(); // `${tenant}\0${agent}` → Promise<Agent>
  const runs = new Map(); // `${tenant}\0${agent}\0${session}` → run
  let closing = false;
  const reportError = options.onError ?? ((x) => console.error("agent-sessions: internal error:", x));

  function agentFor(tenant, name) {
    const k = `${tenant}\0${name}`;
    let a = agents.get(k);
    if (!a) {
      const spec = cfg.agents[name];
      const store = spec.session_store ? cfg.session_stores[spec.session_store] : null;
      a = (async () => {
        const storage = await storageFor({ tenant, agent: name, store, storeName: spec.session_store });
        const agent = new Agent({ ...spec.options, storage });
        await agent.start();
        return agent;
      })();
      a.catch(() => agents.delete(k));
      agents.set(k, a);
    }
    return a;
  }

  function corsHeaders(request) {
    const origin = request.headers.get("origin");
    if (!origin || !(origins.has(origin) || origins.has("*"))) return {};
    return {
      "access-control-allow-origin": origins.has("*") ? "*" : origin,
      "access-control-expose-headers": "retry-after, content-type",
      vary: "Origin",
    };
  }

  async function authenticate(request) {
    if (options.trustTenantHeader) return request.headers.get(TENANT_HEADER) ?? "default";
    if (open) return "default";
    await ready;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
    if (!m) return null;
    return tenantOfHash.get(await sha256Hex(m[1])) ?? null;
  }

  /**
   * The body as text, or a 413 once it passes `max_body_bytes`. A refused body is still read (and
   * dropped) up to `DRAIN_BYTES` before the 413 goes out: answering while the client is still
   * sending makes the connection close under it, and the client sees a reset instead of the
   * 413 (or sees it only some of the time). Past that, the rest is cancelled.
   */
  async function readBody(request) {
    const max = srv.max_body_bytes;
    const declared = Number(request.headers.get("content-length"));
    if (!request.body) return declared > max ? { tooLarge: true } : { text: "" };
    const reader = request.body.getReader();
    if (declared > DRAIN_BYTES) {
      // Too large to be worth reading: refused at once (the client may see the connection reset).
      reader.cancel().catch(() => {});
      return { tooLarge: true };
    }
    if (declared > max) return drained(reader, 0);
    const parts = [];
    let size = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) return drained(reader, size);
      parts.push(value);
    }
    const all = new Uint8Array(size);
    let at = 0;
    for (const p of parts) all.set(p, (at += p.byteLength) - p.byteLength);
    return { text: new TextDecoder().decode(all) };
  }

  /** Reads a refused body to its end (at most `DRAIN_BYTES` in all), then answers 413. */
  async function drained(reader, size) {
    try {
      while (size <= DRAIN_BYTES) {
        const { value, done } = await reader.read();
        if (done) return { tooLarge: true };
        size += value.byteLength;
      }
    } catch {
      return { tooLarge: true };
    }
    reader.cancel().catch(() => {});
    return { tooLarge: true };
  }

  // ---- runs -------------------------------------------------------------------------------

  /** A frame to the run's buffer and listeners (`data`: the event's value, for a listener that
   * translates the events into another protocol's frames, as A2A's does). */
  function push(run, event, text, data) {
    const frame = encoder.encode(run.buffer.push(event, text));
    for (const l of run.listeners) l.send(frame, event, data);
  }

  function emit(run, event, data) {
    push(run, event, JSON.stringify(data), data);
  }

  /** Starts a run on `events(signal)`, the agent's stream events (`agent.stream`, or an edit
   * followed by `agent.regenerate`). Nothing may be awaited between the busy check and this.
   * With `ui` (`{ store, session }`: the AI SDK mode) its frames are UIMessageChunks instead of
   * the sessions API's events; the mode is the run's, for its listeners and its resumes alike. */
  function startRun(key, sessionId, events, ui = null) {
    const old = runs.get(key);
    if (old) dropRun(key, old);
    const run = {
      buffer: new ServerRunBuffer(randomKey(), srv.resume.max_bytes, srv.resume.max_events, srv.resume.keep_ms),
      listeners: new Set(),
      abort: new AbortController(),
      ui: !!ui,
      ended: false,
      text: "",
      result: null,
      error: null,
    };
    runs.set(key, run);
    const timeout = srv.run_timeout_ms ? setTimeout(() => run.abort.abort(), srv.run_timeout_ms) : null;
    run.done = (async () => {
      try {
        if (ui) {
          const onRunId = (id) => (run.runId = id);
          for await (const text of uiChunkTexts(events(run.abort.signal), { ...ui, sessionId, onRunId })) push(run, UI_EVENT, text);
        } else for await (const ev of events(run.abort.signal)) {
          if (ev.type === "start") {
            run.runId = ev.runId;
            emit(run, "start", { session_id: sessionId, run_id: ev.runId, message_id: null });
          } else if (ev.type === "delta") {
            run.text += ev.text;
            emit(run, "delta", { text: ev.text });
          } else if (ev.type === "tool_call") {
            emit(run, "tool_call", { tool_call: ev.toolCall });
          } else if (ev.type === "restart") {
            // retry.midStream: the deltas so far are void; clients drop them.
            run.text = "";
            emit(run, "restart", { attempt: ev.attempt, reason: ev.reason });
          } else if (ev.type === "done") {
            const r = ev.result;
            run.result = r;
            const message = { id: r.messageId, role: "assistant", content: r.content, status: "complete", run_id: r.runId };
            if (r.toolCalls) message.tool_calls = r.toolCalls;
            emit(run, "message", { message, usage: usageOut(r.usage), finish_reason: r.finishReason ?? null });
          }
        }
      } catch (e) {
        run.error = e;
        const code = typeof e?.code === "string" ? e.code : "INTERNAL";
        if (ui) push(run, UI_EVENT, JSON.stringify({ type: "error", errorText: `${code}: ${e?.message ?? e}` }));
        else emit(run, "error", { code, message: String(e?.message ?? e) });
      } finally {
        if (timeout) clearTimeout(timeout);
        if (ui) push(run, UI_EVENT, "[DONE]");
        else emit(run, "done", {});
        run.ended = true;
        run.buffer.end(Date.now());
        for (const l of run.listeners) l.close();
        run.listeners.clear();
        const t = setTimeout(() => runs.get(key) === run && dropRun(key, run), srv.resume.keep_ms + 1);
        t?.unref?.();
      }
    })();
    options.waitUntil?.(run.done);
    return run;
  }

  function dropRun(key, run) {
    if (runs.get(key) === run) runs.delete(key);
    if (!run.freed && run.ended) {
      run.freed = true;
      run.buffer.free();
    }
  }

  function activeRun(key) {
    const r = runs.get(key);
    if (r && r.ended && r.buffer.expired(Date.now())) {
      dropRun(key, r);
      return null;
    }
    return r ?? null;
  }

  /** An SSE response: `frames` first, then the run's live events until it ends; `translate(event,
   * data)`, when given, turns each event into the frames sent instead (null: none). */
  function sse(run, frames, headers, translate) {
    let listener;
    const stream = new ReadableStream({
      start(controller) {
        for (const f of frames) controller.enqueue(encoder.encode(f));
        if (run.ended) {
          controller.close();
          return;
        }
        const keepalive = encoder.encode(serverKeepalive());
        const write = (chunk) => {
          try {
            controller.enqueue(chunk);
          } catch {
            run.listeners.delete(listener);
          }
        };
        listener = {
          send: translate
            ? (_, event, data) => {
                const t = translate(event, data);
                if (t) write(encoder.encode(t));
              }
            : write,
          close: () => {
            clearInterval(listener.timer);
            try {
              controller.close();
            } catch {}
          },
          timer: setInterval(() => write(keepalive), srv.keepalive_ms),
        };
        run.listeners.add(listener);
      },
      cancel() {
        // The client went away: it stops listening; the run goes on.
        if (listener) {
          clearInterval(listener.timer);
          run.listeners.delete(listener);
        }
      },
    });
    return new Response(stream, {
      status: 200,
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        "x-accel-buffering": "no",
        ...headers,
      },
    });
  }

  // ---- endpoints --------------------------------------------------------------------------

  function sessionOut(s, busy) {
    const out = {
      session_id: s.id,
      title: s.title ?? null,
      created_at: iso(s.createdAt),
      updated_at: iso(s.updatedAt),
      message_count: s.messageCount,
    };
    if (busy !== undefined) {
      out.metadata = s.metadata ?? {};
      out.usage = usageOut(s.usage);
      out.busy = busy;
    }
    return out;
  }

  async function serve(route, request, tenant, bodyText) {
    const name = route.agent;
    const agent = await agentFor(tenant, name);
    const id = route.session_id;
    const runKey = `${tenant}\0${name}\0${id}`;
    const url = new URL(request.url);

    switch (route.endpoint) {
      case "create_session": {
        const body = serverParseCreate(bodyText);
        if (!body.ok) return fromAnswer(body);
        const { session_id, title, metadata } = body.ok;
        const opts = {};
        if (title !== null) opts.title = title;
        if (metadata !== null) opts.metadata = metadata;
        return json(201, createdOut(await agent.createSession(session_id, opts)));
      }
      case "list_sessions": {
        const limit = serverParseLimit(url.searchParams.get("limit") ?? undefined, 50, 1000);
        if (!limit.ok) return fromAnswer(limit);
        const store = await agent.store();
        const page = await store.querySessions({ limit: limit.ok, cursor: url.searchParams.get("cursor") || null });
        return json(200, { sessions: page.sessions.map((s) => sessionOut(s)), next_cursor: page.nextCursor ?? null });
      }
      case "get_session": {
        const s = await agent.getSession(id);
        if (!s) return notFound(id);
        const r = activeRun(runKey);
        return json(200, sessionOut(s, !!r && !r.ended));
      }
      case "delete_session": {
        const r = activeRun(runKey);
        if (r && !r.ended) {
          r.abort.abort();
          await r.done;
        }
        if (!(await agent.deleteSession(id))) return notFound(id);
        if (r) dropRun(runKey, r);
        return new Response(null, { status: 204 });
      }
      case "list_messages": {
        const limit = serverParseLimit(url.searchParams.get("limit") ?? undefined, 1000, 10000);
        if (!limit.ok) return fromAnswer(limit);
        const s = await agent.getSession(id);
        if (!s) return notFound(id);
        const opts = { limit: limit.ok };
        // `?branch={messageId}`: the history along the branch through that message, not switched to.
        const branch = url.searchParams.get("branch");
        if (branch !== null) opts.branch = branch;
        const messages = await s.getHistory(opts);
        return json(200, { messages: messages.map(messageOut) });
      }
      case "send_message":
      case "stream_message": {
        const body = serverParseSend(bodyText);
        if (!body.ok) return fromAnswer(body);
        const s = await agent.getSession(id);
        if (!s) return notFound(id);
        const text = body.ok.text;
        return runAnswer(route, s, runKey, (signal) => agent.stream(text, { sessionId: id, signal }));
      }
      case "edit":
      case "edit_stream": {
        // The edited user message gets a new sibling (made active) and the agent answers it; the
        // original and what followed it stay on their branch.
        const body = serverParseSend(bodyText);
        if (!body.ok) return fromAnswer(body);
        const s = await agent.getSession(id);
        if (!s) return notFound(id);
        const original = await findMessage(s, route.message_id);
        if (!original) return messageNotFound(id, route.message_id);
        if (original.role !== "user")
          return fail("INVALID_ARGUMENT", `message ${JSON.stringify(route.message_id)} is not a user message: only a user message is edited and answered`, { message_id: route.message_id });
        const content = body.ok.text;
        return runAnswer(route, s, runKey, (signal) =>
          (async function* () {
            const edited = await s.editMessage(route.message_id, { content });
            yield* agent.regenerate(edited.id, { sessionId: id, signal });
          })(),
        );
      }
      case "regenerate":
      case "regenerate_stream": {
        // A new answer to the user message (or to the question of the assistant reply named);
        // the old answer stays as its sibling.
        const body = serverParseEmpty(bodyText);
        if (!body.ok) return fromAnswer(body);
        const s = await agent.getSession(id);
        if (!s) return notFound(id);
        if (!(await findMessage(s, route.message_id))) return messageNotFound(id, route.message_id);
        return runAnswer(route, s, runKey, (signal) => agent.regenerate(route.message_id, { sessionId: id, signal }));
      }
      case "switch": {
        const body = serverParseEmpty(bodyText);
        if (!body.ok) return fromAnswer(body);
        const s = await agent.getSession(id);
        if (!s) return notFound(id);
        const current = activeRun(runKey);
        if (current && !current.ended) return busy(id, current);
        const messages = await s.switchBranch(route.message_id);
        return json(200, { messages: messages.map(messageOut) });
      }
      case "branches": {
        const s = await agent.getSession(id);
        if (!s) return notFound(id);
        const branches = await s.getBranches(route.message_id);
        return json(200, { branches: branches.map(messageOut) });
      }
      case "fork": {
        const body = serverParseFork(bodyText);
        if (!body.ok) return fromAnswer(body);
        const s = await agent.getSession(id);
        if (!s) return notFound(id);
        const { at_message_id, session_id, title } = body.ok;
        const opts = {};
        if (at_message_id !== null) opts.atMessageId = at_message_id;
        if (session_id !== null) opts.id = session_id;
        if (title !== null) opts.title = title;
        return json(201, createdOut(await s.fork(opts)));
      }
      case "resume_stream": {
        const s = await agent.getSession(id);
        if (!s) return notFound(id);
        // A run of the AI SDK mode has UI frames: not this API's to resume (204, as for none).
        const run = activeRun(runKey);
        return resumed(run && !run.ui ? run : null, request, {});
      }
      case "ui_chat": {
        // The AI SDK's DefaultChatTransport: the chat id is the session id (created at its first
        // message); the agent answers the last user message from the stored history.
        const req = parseChatRequest(bodyText);
        if (req.error) return fail(...req.error);
        const { id: chatId, trigger, message } = req.ok;
        const store = await agent.store();
        const regenerate = trigger === "regenerate-message";
        const existing = await store.get(chatId);
        if (regenerate && !existing) return notFound(chatId);
        const s = existing ?? (await store.getOrCreate(chatId));
        // A chat this request created is deleted again when the request is refused: a bad
        // request stores nothing.
        const refused = async (res) => {
          if (!existing && res.status >= 400) await store.delete(chatId);
          return res;
        };
        const known = await findMessage(s, message.id);
        if (regenerate && !known) return messageNotFound(chatId, message.id);
        if (!regenerate && known)
          return refused(fail("INVALID_ARGUMENT", `message ${JSON.stringify(message.id)} is already in chat ${JSON.stringify(chatId)}: a new message needs a new id (or regenerate its answer)`, { session_id: chatId, message_id: message.id }));
        const chatRoute = { endpoint: route.endpoint, session_id: chatId };
        // The answer waits for the question to be stored: a message the library refuses is a
        // typed 4xx, not a 200 stream holding an error chunk.
        let onStored;
        const stored = new Promise((resolve) => (onStored = resolve));
        return refused(await runAnswer(chatRoute, s, `${tenant}\0${name}\0${chatId}`, (signal) => chatEvents(agent, s, req.ok, signal, onStored), { store, session: s, stored }));
      }
      case "ui_chat_resume": {
        // 204 (nothing to resume) too for a chat that does not exist or whose run is not the AI SDK's.
        const run = activeRun(runKey);
        return resumed(run?.ui ? run : null, request, UI_STREAM_HEADERS);
      }
      case "cancel": {
        const s = await agent.getSession(id);
        if (!s) return notFound(id);
        const run = activeRun(runKey);
        if (!run || run.ended) return json(200, { cancelled: false });
        run.abort.abort();
        await run.done;
        return json(200, { cancelled: true });
      }
      case "a2a":
        return a2aRpc(
          {
            agent,
            runKey: (sessionId) => `${tenant}\0${name}\0${sessionId}`,
            activeRun,
            startRun,
            sse,
            closing: () => closing,
            json,
            onError: reportError,
          },
          bodyText,
        );
    }
    return fail("NOT_FOUND", "no such endpoint");
  }

  /** A run's frames after the request's Last-Event-ID, then its live ones; 204 when none. */
  function resumed(run, request, headers) {
    if (!run) return new Response(null, { status: 204 });
    const replay = run.buffer.replay(request.headers.get("last-event-id") ?? undefined);
    if (run.ended && replay.frames.length === 0) return new Response(null, { status: 204 });
    return sse(run, replay.frames, replay.gap ? { ...headers, "x-resume-gap": "1" } : headers);
  }

  /**
   * Starts a run (409 SESSION_BUSY while one is active) and answers for `route`: an SSE stream for
   * the `…/stream` endpoints and the AI SDK mode (`ui`, see startRun), else the JSON answer once
   * the run has ended.
   */
  async function runAnswer(route, s, runKey, events, ui = null) {
    const id = route.session_id;
    const current = activeRun(runKey);
    if (current && !current.ended) return busy(id, current);
    if (closing) return fail("STORAGE_UNAVAILABLE", "the server is shutting down");
    const run = startRun(runKey, id, events, ui);
    if (ui) {
      // (A run that ended before storing anything answers with its error as well.)
      const refused = await Promise.race([ui.stored, run.done.then(() => run.error ?? null)]);
      if (refused) {
        await run.done;
        dropRun(runKey, run);
        return fromError(refused);
      }
      return sse(run, [], UI_STREAM_HEADERS);
    }
    if (STREAMED.has(route.endpoint)) return sse(run, [], {});
    await run.done;
    if (run.result) {
      const r = run.result;
      const message = { id: r.messageId, role: "assistant", content: r.content, status: "complete", run_id: r.runId };
      if (r.toolCalls) message.tool_calls = r.toolCalls;
      return json(200, { session_id: id, message, usage: usageOut(r.usage), finish_reason: r.finishReason ?? null });
    }
    if (run.error?.code === "ABORTED") {
      // Cancelled: the partial reply is stored `interrupted`; answer with it.
      const [last] = await s.getHistory({ limit: 1 });
      const message = last && last.role === "assistant" ? messageOut(last) : { role: "assistant", content: run.text, status: "interrupted" };
      return json(200, { session_id: id, message, usage: null, finish_reason: "cancelled" });
    }
    return fromError(run.error);
  }

  /** The message with this id in the session (on any branch), or null. */
  async function findMessage(s, messageId) {
    try {
      return (await s.getBranches(messageId)).find((x) => x.id === messageId) ?? null;
    } catch (e) {
      if (e?.code === "MESSAGE_NOT_FOUND") return null;
      throw e;
    }
  }

  const createdOut = (s) => ({ session_id: s.id, title: s.title ?? null, metadata: s.metadata ?? {}, created_at: iso(s.createdAt) });
  const unknownAgent = (name) => fail("AGENT_NOT_FOUND", `unknown agent ${JSON.stringify(name)}`);
  const messageNotFound = (id, messageId) =>
    fail("MESSAGE_NOT_FOUND", `no message ${JSON.stringify(messageId)} in session ${JSON.stringify(id)}`, { session_id: id, message_id: messageId });
  const notFound = (id) => fail("SESSION_NOT_FOUND", `no session ${JSON.stringify(id)}`, { session_id: id });
  const busy = (id, run) =>
    fail("SESSION_BUSY", "a run is active on this session: wait for it, resume its stream, or cancel it", {
      session_id: id,
      run_id: run.runId ?? null,
    });

  async function handle(request) {
    const cors = corsHeaders(request);
    if (request.method === "OPTIONS") {
      const h = { ...cors };
      if (cors["access-control-allow-origin"]) {
        h["access-control-allow-methods"] = "GET, POST, DELETE, OPTIONS";
        h["access-control-allow-headers"] = "authorization, content-type, last-event-id, a2a-version, a2a-extensions";
        h["access-control-max-age"] = "600";
      }
      return new Response(null, { status: 204, headers: h });
    }
    const url = new URL(request.url);
    const routed = serverRoute(request.method, url.pathname);
    if (!routed.ok) {
      const r = fromAnswer(routed);
      if (routed.body.error.code === "METHOD_NOT_ALLOWED")
        r.headers.set("allow", routed.body.error.details.allow.join(", "));
      return r;
    }
    const route = routed.ok;
    if (route.endpoint === "health") return json(200, { ok: true });
    // The A2A card is public (config only, no tenant data), as A2A discovery expects.
    if (route.endpoint === "a2a_card") {
      if (!Object.hasOwn(cfg.agents, route.agent)) return unknownAgent(route.agent);
      const description = typeof config?.description === "string" ? config.description : undefined;
      return json(200, agentCard({ name: route.agent, options: cfg.agents[route.agent].options, description, url: request.url, secured: !open }));
    }
    const tenant = await authenticate(request);
    if (tenant === null)
      return fail("UNAUTHENTICATED", "send Authorization: Bearer <token>", null, { "www-authenticate": 'Bearer realm="agent-sessions"' });
    const limited = options.trustTenantHeader ? null : await rateLimit(tenant, request);
    if (limited) {
      const s = Math.max(1, Math.ceil(Number(limited.retryAfter) || 1));
      return fail("RATE_LIMITED", `too many requests; retry in ${s} s`, { retry_after: s }, { "retry-after": String(s) });
    }
    if (!Object.hasOwn(cfg.agents, route.agent)) return unknownAgent(route.agent);
    const body = request.method === "POST" ? await readBody(request) : { text: "" };
    if (body.tooLarge) return fail("BODY_TOO_LARGE", `the body is over ${srv.max_body_bytes} bytes`, { max_bytes: srv.max_body_bytes });
    if (options.dispatch) {
      const headers = new Headers(request.headers);
      headers.set(TENANT_HEADER, tenant);
      headers.delete("authorization");
      headers.delete("content-length");
      return options.dispatch(
        new Request(request.url, { method: request.method, headers, body: request.method === "POST" ? body.text : undefined }),
        { tenant, agent: route.agent },
      );
    }
    return serve(route, request, tenant, body.text);
  }

  async function fetch(request) {
    let res;
    try {
      res = await handle(request);
    } catch (e) {
      // A fault that is not one of the library's coded errors is answered as a bare INTERNAL
      // (nothing of it reaches the client) and reported here.
      if (typeof e?.code !== "string") reportError(e);
      res = fromError(e);
    }
    const cors = Object.entries(corsHeaders(request)).filter(([k]) => !res.headers.has(k));
    if (cors.length) {
      // A Response from fetch (a Durable Object's) has immutable headers: copy it first.
      res = new Response(res.body, res);
      for (const [k, v] of cors) res.headers.set(k, v);
    }
    return res;
  }

  /** Stops taking new runs; waits for the active ones (cancelling them after `graceMs`). */
  async function close({ graceMs = 10_000 } = {}) {
    closing = true;
    const active = [...runs.values()].filter((r) => !r.ended);
    const timer = setTimeout(() => active.forEach((r) => r.abort.abort()), graceMs);
    await Promise.all(active.map((r) => r.done));
    clearTimeout(timer);
  }

  /** Opens every agent of every tenant now (so a store that cannot open fails at start). */
  async function warm() {
    const tenants = cfg.tenants ? cfg.tenants.map((t) => t.name) : ["default"];
    for (const t of tenants) for (const a of Object.keys(cfg.agents)) await agentFor(t, a);
  }

  const handler = (request) => fetch(request);
  handler.warm = warm;
  handler.fetch = fetch;
  handler.close = close;
  handler.config = cfg;
  handler.activeRuns = () => [...runs.values()].filter((r) => !r.ended).length;
  return handler;
}
