// agent-sessions/ai-sdk: the Vercel AI SDK over agent-sessions (`ai` is an optional peer
// dependency; nothing of it is imported here, at runtime or otherwise).
//
// - `chatStore(store)`: `loadChat(chatId)` / `saveChat({ chatId, messages })` over a SessionStore,
//   one session per chat, each UIMessage one stored message (its whole JSON form in `payload`,
//   its text in `content`, so our context builder sees the conversation). Saving reconciles the
//   array with the session's active history: unchanged messages are not written, a changed one is
//   replaced in place by id, and a divergence (a regenerated answer, an edited question under a
//   new id) becomes a branch of the message tree, the old messages kept as the other branch.
// - `SessionsChatTransport`: a ChatTransport that runs an agent-sessions `Agent` in the page
//   itself (`useChat({ transport })`, no server), resumable after a reload.

import { plain, same, serializer } from "./adapter-common.js";

const ROLES = new Set(["system", "user", "assistant"]);

export function isUIMessage(p) {
  return p !== null && typeof p === "object" && !Array.isArray(p) && typeof p.id === "string" &&
    ROLES.has(p.role) && Array.isArray(p.parts);
}

/** What our context builder reads of a UIMessage: its text parts (a description of its files
 * when it has no text, since a user or system message needs some content). */
function contentOf(ui) {
  const parts = ui.parts;
  const text = parts.filter((p) => p?.type === "text" && typeof p.text === "string").map((p) => p.text);
  if (text.length) return text.join("\n\n");
  if (ui.role === "assistant") return "";
  const files = parts.filter((p) => p?.type === "file").map((p) => `[file: ${p.filename ?? p.mediaType ?? "attachment"}]`);
  return files.length ? files.join(" ") : `[${parts.map((p) => p?.type ?? "part").join(", ") || "empty message"}]`;
}

/** A stored message as a UIMessage: its payload when it holds one (verbatim), else made from
 * its text (a message written by our agent or another API); `null` for tool-role messages,
 * which UIMessages do not have (tool results live inside the assistant message's parts). */
function toUIMessage(m) {
  if (isUIMessage(m.payload)) return m.payload.id === m.id ? m.payload : { ...m.payload, id: m.id };
  if (!ROLES.has(m.role)) return null;
  const ui = { id: m.id, role: m.role, parts: m.content ? [{ type: "text", text: m.content }] : [] };
  if (m.metadata !== undefined) ui.metadata = m.metadata;
  return ui;
}

function visible(history) {
  return history.filter((m) => ROLES.has(m.role));
}

/** A UIMessage as the message we store (exported for agent-sessions/server). */
export function newRecord(ui) {
  return { id: ui.id, role: ui.role, content: contentOf(ui), payload: ui };
}

/** The stored message rewritten to a UIMessage's form, keeping what only we record. */
function replaced(ui, m) {
  const out = { ...newRecord(ui), createdAt: m.createdAt };
  for (const k of ["name", "toolCalls", "toolCallId", "runId", "metadata"]) if (m[k] !== undefined) out[k] = m[k];
  return out;
}

async function exists(session, id) {
  try {
    await session.getHistory({ branch: id, limit: 1 });
    return true;
  } catch (e) {
    if (e?.code === "MESSAGE_NOT_FOUND") return false;
    throw e;
  }
}

/**
 * Makes the session's active history the array `messages`, writing only what differs. Every
 * write is one of the session's own operations: upsertMessage (same id, new content), rewind (a
 * shorter array; a divergence), switchBranch (the array follows another stored branch),
 * editMessage (a new first message) and addMessage.
 */
async function reconcile(session, messages) {
  const wanted = messages.map((m) => {
    const ui = plain(m);
    if (!isUIMessage(ui)) throw new TypeError("saveChat: every message must be a UIMessage ({ id, role, parts })");
    return ui;
  });
  for (let round = 0; round < 8; round++) {
    const history = visible(await session.getHistory());
    let i = 0;
    while (i < history.length && i < wanted.length && history[i].id === wanted[i].id) i++;
    for (let k = 0; k < i; k++) {
      if (!same(toUIMessage(history[k]), wanted[k])) await session.upsertMessage(replaced(wanted[k], history[k]));
    }
    if (i === wanted.length) {
      // A prefix of the active history (or all of it): the rest stays, as a branch.
      if (i < history.length && i > 0) await session.rewind(history[i - 1].id);
      return;
    }
    let from = i;
    if (i < history.length) {
      // A divergence: another alternative at this place (back to an older answer), else a new one.
      const alternatives = await session.getBranches(history[i].id);
      const known = alternatives.find((a) => a.id === wanted[i].id);
      if (known) {
        await session.switchBranch(known.id);
        continue;
      }
      if (i === 0) {
        const first = newRecord(wanted[0]);
        await session.editMessage(history[0].id, { id: first.id, content: first.content, payload: first.payload, metadata: null });
        from = 1;
      } else {
        await session.rewind(history[i - 1].id);
      }
    } else if (await exists(session, wanted[i].id)) {
      // The array goes on along a branch the session already holds (e.g. after a rewind).
      await session.switchBranch(wanted[i].id);
      continue;
    }
    for (let k = from; k < wanted.length; k++) await session.addMessage(newRecord(wanted[k]));
    return;
  }
  throw new Error("saveChat: the messages do not follow any branch of the stored chat");
}

/**
 * The AI SDK's chat persistence over a SessionStore: `loadChat(chatId)` → UIMessage[] (the
 * session's active history; `[]` for an unknown chat), `saveChat({ chatId, messages })`.
 */
export function chatStore(store) {
  const queue = serializer();
  return {
    async loadChat(chatId) {
      const session = await (await store).get(chatId);
      if (!session) return [];
      return (await session.getHistory()).map(toUIMessage).filter((m) => m !== null);
    },
    saveChat({ chatId, messages }) {
      return queue(chatId, async () => {
        const s = await store;
        const session = (await s.get(chatId)) ?? (messages.length ? await s.getOrCreate(chatId) : null);
        if (session) await reconcile(session, messages);
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The transport
// ---------------------------------------------------------------------------------------------

const FINISH = {
  stop: "stop", end_turn: "stop", STOP: "stop", stop_sequence: "stop", complete: "stop",
  length: "length", max_tokens: "length", MAX_TOKENS: "length",
  tool_calls: "tool-calls", tool_use: "tool-calls", function_call: "tool-calls",
  content_filter: "content-filter", SAFETY: "content-filter", RECITATION: "content-filter",
};

function finishReason(word) {
  return word == null ? "stop" : FINISH[word] ?? "other";
}

function errorText(e) {
  if (e && typeof e === "object" && typeof e.message === "string") return e.code ? `${e.code}: ${e.message}` : e.message;
  return String(e);
}

function parseArguments(text) {
  try {
    return JSON.parse(text || "{}");
  } catch {
    return text;
  }
}

/**
 * A ChatTransport that runs an agent-sessions `Agent` where it is (the page, a worker, Node):
 * `useChat({ transport: new SessionsChatTransport({ agent }) })`, no server.
 */
export class SessionsChatTransport {
  /** A resumed stream (`reconnectToStream`) carries the whole reply: the stored text first. */
  resumeStreamIsReplay = true;
  #agent;
  #sessionId;
  #store;
  #queue = serializer();

  constructor({ agent, sessionId } = {}) {
    if (!agent || typeof agent.stream !== "function") throw new TypeError("SessionsChatTransport: `agent` (an agent-sessions Agent) is required");
    this.#agent = agent;
    this.#sessionId = typeof sessionId === "function" ? sessionId : (chatId) => chatId;
  }

  #getStore() {
    this.#store ??= this.#agent.store();
    return this.#store;
  }

  async sendMessages({ trigger, chatId, messages, abortSignal }) {
    const sessionId = this.#sessionId(chatId);
    const store = await this.#getStore();
    const session = await store.getOrCreate(sessionId);
    // The user's message (and any change the page made) is stored before the run, in its form.
    await this.#queue(sessionId, () => reconcile(session, messages));
    const options = abortSignal ? { sessionId, signal: abortSignal } : { sessionId };
    let events;
    if (trigger === "regenerate-message") {
      const question = messages.findLast((m) => m.role === "user");
      events = this.#agent.regenerate(question?.id ?? null, options);
    } else {
      events = this.#agent.stream(null, options);
    }
    return uiMessageChunks(events, { store, session, sessionId });
  }

  /** Resumes a reply a reload (a crash, a closed tab) cut off: the session's last message is an
   * `interrupted` assistant reply that this transport never finished (a reply the user stopped
   * has its UI form attached and is not resumed). Streams the whole reply (the stored text, then
   * the rest, `agent.continueStream`), else resolves to `null`. */
  async reconnectToStream({ chatId, abortSignal }) {
    const sessionId = this.#sessionId(chatId);
    const store = await this.#getStore();
    const session = await store.get(sessionId);
    if (!session) return null;
    const [last] = await session.getHistory({ limit: 1 });
    if (!last || last.role !== "assistant" || last.status !== "interrupted" || !last.content || last.payload !== undefined) return null;
    const options = abortSignal ? { sessionId, signal: abortSignal } : { sessionId };
    return uiMessageChunks(this.#agent.continueStream(options), { store, session, sessionId, resume: last });
  }
}

/**
 * An Agent's stream events (`agent.stream`, `agent.regenerate`, `agent.continueStream`) as a
 * ReadableStream of UIMessageChunks, the reply's UI form attached to its stored message before
 * `finish`. Shared by SessionsChatTransport and the server's AI SDK mode (agent-sessions/server);
 * not part of the typed API.
 */
export function uiMessageChunks(events, { store, session, sessionId, resume }) {
  const iterator = events[Symbol.asyncIterator]();
  let controller;
  let closed = false;
  const emit = (chunk) => { if (!closed) controller.enqueue(chunk); };
  const close = () => { if (!closed) { closed = true; controller.close(); } };

  let messageId = resume?.id;
  let runId;
  let stored; // the message's id as our agent stored it, once announced by the store
  let announced;
  const added = new Promise((resolve) => { announced = resolve; });
  const off = store.on("message:added", (e) => {
    if (runId !== undefined && e.sessionId === sessionId && e.message?.runId === runId) {
      stored = e.message.id;
      announced(stored);
    }
  });

  const parts = [];
  let started = false;
  let text = null; // the open text part
  const prefix = resume?.content ?? "";
  const begin = () => {
    if (started) return;
    started = true;
    emit(messageId ? { type: "start", messageId } : { type: "start" });
    emit({ type: "start-step" });
    parts.push({ type: "step-start" });
  };
  const openText = () => {
    if (text) return;
    text = { type: "text", text: "", state: "streaming" };
    parts.push(text);
    emit({ type: "text-start", id: "text" });
    if (prefix) {
      text.text = prefix;
      emit({ type: "text-delta", id: "text", delta: prefix });
    }
  };
  const closeText = () => {
    if (!text) return;
    text.state = "done";
    emit({ type: "text-end", id: "text" });
    text = null;
  };

  // The id our agent gave the reply, learnt from the store's event for this run (it is
  // stored at its first delta); if the run moved on first, from the newest stored message.
  let pending;
  const learnId = async () => {
    if (messageId) return;
    const next = pending.then((r) => r, () => null);
    const first = await Promise.race([added, next]);
    if (typeof first === "string") { messageId = first; return; }
    if (stored) { messageId = stored; return; }
    if (first?.value?.type === "done") { messageId = first.value.result.messageId; return; }
    const [last] = await session.getHistory({ limit: 1 });
    if (last?.runId === runId) messageId = last.id;
  };

  // Writes the reply's UI form into its payload, keeping its status and everything else.
  const attach = async (id) => {
    const [last] = await session.getHistory({ limit: 1 });
    if (!last || last.id !== id) return;
    const ui = { id, role: "assistant", parts: plain(parts) };
    const { sessionId: _s, seq: _q, tokens: _t, parentSeq: _p, ...fields } = last;
    await session.upsertMessage({ ...fields, payload: ui });
  };

  const pump = async () => {
    try {
      pending = iterator.next();
      for (;;) {
        const step = await pending;
        if (step.done) break;
        const ev = step.value;
        pending = null;
        if (ev.type === "start") {
          runId = ev.runId;
          if (resume) { begin(); openText(); }
          pending = iterator.next();
        } else if (ev.type === "delta") {
          pending = iterator.next();
          if (!started) { await learnId(); begin(); }
          openText();
          text.text += ev.text;
          emit({ type: "text-delta", id: "text", delta: ev.text });
        } else if (ev.type === "tool_call") {
          pending = iterator.next();
          if (!started) { await learnId(); begin(); }
          closeText();
          const { id, name } = ev.toolCall;
          const input = parseArguments(ev.toolCall.arguments);
          parts.push({ type: "dynamic-tool", toolName: name, toolCallId: id, state: "input-available", input });
          emit({ type: "tool-input-available", toolCallId: id, toolName: name, input, dynamic: true });
        } else if (ev.type === "restart") {
          // The attempt so far is void: its parts go (the step-start stays).
          text = null;
          parts.splice(1);
          if (started) emit({ type: "reset-step" });
          pending = iterator.next();
        } else if (ev.type === "done") {
          messageId ??= ev.result.messageId;
          begin();
          if (resume) openText();
          closeText();
          await attach(ev.result.messageId);
          emit({ type: "finish-step" });
          emit({ type: "finish", finishReason: finishReason(ev.result.finishReason) });
          pending = iterator.next();
        } else {
          pending = iterator.next();
        }
      }
      close();
    } catch (e) {
      if (e?.code === "ABORTED") {
        // Stopped by the page: the partial reply keeps its UI form (and is not resumed).
        const id = messageId ?? stored;
        if (id && started) await attach(id).catch(() => {});
        close();
      } else if (resume && !started && e?.code === "INVALID_ARGUMENT") {
        // Nothing left to continue: another tab or run finished it meanwhile. Replay it whole.
        await replayFinished(session, resume.id, emit).catch(() => {});
        close();
      } else {
        begin();
        closeText();
        emit({ type: "error", errorText: errorText(e) });
        close();
      }
    } finally {
      off();
    }
  };

  return new ReadableStream({
    start(c) {
      controller = c;
      pump();
    },
    cancel() {
      closed = true;
      off();
      return iterator.return?.().catch(() => {});
    },
  });
}

/** The stored message `id`, when it is the session's last, as a whole stream. */
async function replayFinished(session, id, emit) {
  const [last] = await session.getHistory({ limit: 1 });
  if (!last || last.id !== id) return;
  const ui = toUIMessage(last);
  emit({ type: "start", messageId: id });
  emit({ type: "start-step" });
  const words = ui.parts.filter((p) => p.type === "text").map((p) => p.text).join("\n\n") || last.content;
  emit({ type: "text-start", id: "text" });
  emit({ type: "text-delta", id: "text", delta: words });
  emit({ type: "text-end", id: "text" });
  emit({ type: "finish-step" });
  emit({ type: "finish", finishReason: "stop" });
}
