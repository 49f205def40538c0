// agent-sessions/praisonai: PraisonAI's Agent, Session and SessionManager over the main entry.
// Thin JavaScript, no Rust: every record is the library's (`SessionStore`, `Agent`); this file
// keeps PraisonAI's call shapes. The runtime files (praisonai-node.js, -browser.js, -workerd.js)
// pass in the main entry of their runtime.
//
// PraisonAI's code calls `session.addMessage(…)` and `session.getMessagesForLLM()` without
// `await`, and reads `session.messages` / `session.runs` synchronously. So every call on a
// Session goes through one queue per session and is applied in the order it was made;
// `messages` and `runs` are kept in step as the calls are made (a message shows `pending: true`
// until it is stored). A call returns a promise that never goes unhandled: if a call nobody
// awaits fails, the session emits `error`, and the calls queued after it are not applied (that
// would reorder the conversation) but rejected with the same error, until one of them is
// awaited — that one throws it. Nothing is dropped silently.

const PICK = ["role", "content", "name", "toolCalls", "toolCallId", "status", "metadata"];

/** A message in any of the shapes the seeds pass around (ours, a stored one, OpenAI's, AG-Kit's)
 * as the library's NewMessage. */
export function toNewMessage(m) {
  if (m === null || typeof m !== "object") return m;
  const out = {};
  for (const k of PICK) if (m[k] !== undefined && m[k] !== null) out[k] = m[k];
  if (m.content === null) out.content = "";
  if (!out.toolCalls && Array.isArray(m.tool_calls)) {
    out.toolCalls = m.tool_calls.map((c) => ({ id: c.id, name: c.function?.name ?? c.name, arguments: c.function?.arguments ?? c.arguments ?? "{}" }));
  }
  if (!out.toolCallId && m.tool_call_id) out.toolCallId = m.tool_call_id;
  if (out.status === "complete") delete out.status;
  return out;
}

/** Plain JSON (a `Date` becomes its ISO text), as metadata must be. */
export function plainJson(v) {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

function randomHex(bytes) {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A promise whose rejection is never "unhandled" (the seeds leave calls un-awaited), and which
 * tells its session when someone does wait for it. */
class Pending extends Promise {
  static get [Symbol.species]() {
    return Promise;
  }
  then(onFulfilled, onRejected) {
    this.__seen?.();
    return super.then(onFulfilled, onRejected);
  }
}

function pending(body, seen) {
  let resolve, reject;
  const p = new Pending((a, b) => ((resolve = a), (reject = b)));
  Promise.prototype.then.call(p, undefined, () => {});
  p.__seen = seen;
  body.then(resolve, reject);
  return p;
}

/** Calls a model once with `messages` as the whole context (nothing stored): a scratch session
 * in a private memory store, continued with `generate(null)`, then deleted. */
export function scratchCaller(lib, agentOptions) {
  let scratch;
  return async (messages, signal) => {
    scratch ??= new lib.Agent({ ...agentOptions, storage: { type: "memory" }, store: undefined, session: undefined });
    const list = await messages;
    if (!Array.isArray(list)) {
      throw Object.assign(new Error("chat(messages) needs an array of { role, content } messages"), {
        name: "AgentSessionsError", code: "INVALID_ARGUMENT", retryable: false,
      });
    }
    const s = await scratch.createSession();
    try {
      for (const m of list) await s.addMessage(toNewMessage(m));
      return await scratch.generate(null, { sessionId: s.id, signal });
    } finally {
      await scratch.deleteSession(s.id).catch(() => {});
    }
  };
}

/** PraisonAI's default model when none is configured: OpenAI, from the environment
 * (`OPENAI_API_KEY`, and `OPENAI_BASE_URL` / `OPENAI_MODEL_NAME` when set), as PraisonAI does. */
export function llmOption(llm) {
  const env = globalThis.process?.env ?? {};
  if (typeof llm === "string") {
    const [provider, ...rest] = llm.includes("/") ? llm.split("/") : ["openai", llm];
    return { provider, model: rest.join("/"), apiKey: env[`${provider.toUpperCase()}_API_KEY`], ...(provider === "openai" && env.OPENAI_BASE_URL ? { baseUrl: env.OPENAI_BASE_URL } : {}) };
  }
  if (llm !== undefined) return llm;
  if (!env.OPENAI_API_KEY) return undefined;
  return {
    provider: "openai",
    model: env.OPENAI_MODEL_NAME ?? "gpt-4o-mini",
    apiKey: env.OPENAI_API_KEY,
    ...(env.OPENAI_BASE_URL ? { baseUrl: env.OPENAI_BASE_URL } : {}),
  };
}

export function praisonai(lib) {
  const { SessionStore } = lib;

  /** A run on a session: status and duration are PraisonAI's (kept here, read synchronously);
   * the library's run record is written through the session's queue. */
  class Run {
    #session;
    #core = null;
    #record = null;
    constructor(session, record) {
      this.#session = session;
      this.#record = record ?? null;
      this.status = record?.status ?? "pending";
      this.startedAt = record?.startedAt ?? null;
      this.endedAt = record?.endedAt ?? null;
      this.error = record?.errorMessage ?? null;
      this.metadata = {};
    }
    /** The stored run's id (`null` for the moment between `createRun()` on a session that is
     * still opening and the run being stored). */
    get id() {
      return this.#core?.id ?? this.#record?.id ?? null;
    }
    get sessionId() {
      return this.#session.id;
    }
    /** Milliseconds from `start()` to the end (to now while running); null before start. */
    get duration() {
      if (this.startedAt === null) return this.#record?.durationMs ?? null;
      return (this.endedAt ?? Date.now()) - this.startedAt;
    }
    /** @internal */
    __bind(core) {
      this.#core = core;
    }
    start() {
      this.status = "running";
      this.startedAt = Date.now();
      return this.#session.__op("run.start", () => this.#core?.start());
    }
    complete(options = {}) {
      this.status = "completed";
      this.endedAt = Date.now();
      this.metadata = { ...options };
      const usage = {};
      if (typeof options.tokensUsed === "number") usage.tokensUsed = options.tokensUsed;
      if (options.usage) usage.usage = options.usage;
      return this.#session.__op("run.complete", () => this.#core?.complete(usage));
    }
    fail(error) {
      this.status = "failed";
      this.endedAt = Date.now();
      this.error = error?.message ?? String(error);
      return this.#session.__op("run.fail", () => this.#core?.fail(error));
    }
    toJSON() {
      return { id: this.id, sessionId: this.sessionId, status: this.status, startedAt: this.startedAt, endedAt: this.endedAt, duration: this.duration, error: this.error, metadata: this.metadata };
    }
  }

  class Session {
    #store; // Promise<SessionStore>
    #handle; // Promise<core Session>
    #tail;
    #failure = null; // { error, seen }
    #listeners = new Map();
    #maxMessages;
    /** The conversation, oldest first, as the calls made so far leave it. */
    messages = [];
    /** The runs of this session, oldest first. */
    runs = [];

    /**
     * `new Session({ id, maxMessages, metadata, storage | store })`: without `storage` or
     * `store` the session lives in memory in this object, as PraisonAI's does; with one, it is
     * loaded from there (its earlier messages and runs) and every call is stored there.
     */
    constructor(options = {}) {
      if (options === null || typeof options !== "object") options = {};
      this.id = options.id ?? `sess_${randomHex(16)}`;
      this.metadata = options.metadata ? plainJson(options.metadata) : {};
      this.createdAt = Date.now();
      this.#maxMessages = options.maxMessages;
      const store = options.store
        ? Promise.resolve(options.store)
        : SessionStore.open({ storage: options.storage ?? { type: "memory" } });
      this.#store = store;
      const create = {};
      if (options.metadata) create.metadata = this.metadata;
      if (options.maxMessages !== undefined) create.maxMessages = options.maxMessages;
      this.#handle = store.then((s) => s.getOrCreate(this.id, create));
      this.#tail = this.#handle.then(async (h) => {
        const [history, runs] = await Promise.all([
          h.getHistory(this.#maxMessages ? { limit: this.#maxMessages } : undefined),
          h.getRuns(),
        ]);
        this.metadata = h.metadata;
        this.createdAt = h.createdAt;
        this.messages.unshift(...history);
        this.runs.unshift(...runs.map((r) => new Run(this, r)));
        this.#trim();
      });
      // A session that cannot open fails its first call (and says so as an event).
      this.#tail = this.#tail.catch((error) => this.#failed(error, { seen: false }, "open"));
    }

    /** Resolves once the session is loaded and every call made so far has been applied. */
    get ready() {
      return this.#op("ready", async () => undefined);
    }
    get maxMessages() {
      return this.#maxMessages;
    }

    #trim() {
      const max = this.#maxMessages;
      if (max && this.messages.length > max) this.messages.splice(0, this.messages.length - max);
    }

    #emit(event, value) {
      for (const f of this.#listeners.get(event) ?? []) {
        try {
          f(value);
        } catch (e) {
          console.error(e);
        }
      }
    }

    #failed(error, ticket, operation) {
      if (ticket.seen) return;
      this.#failure ??= { error, operation };
      this.#emit("error", { type: "error", sessionId: this.id, operation, error });
    }

    /** Runs `fn(handle, store)` after every earlier call on this session. */
    #op(operation, fn, undo) {
      const ticket = { seen: false };
      const body = this.#tail.then(async () => {
        if (this.#failure) {
          const f = this.#failure;
          if (ticket.seen) this.#failure = null;
          undo?.();
          throw f.error;
        }
        try {
          return await fn(await this.#handle, await this.#store);
        } catch (error) {
          undo?.();
          await null; // an `await` of this call has registered by now
          this.#failed(error, ticket, operation);
          throw error;
        }
      });
      this.#tail = body.then(() => {}, () => {});
      return pending(body, () => {
        ticket.seen = true;
      });
    }

    /** @internal the queue, for runs and agents */
    __op(operation, fn, undo) {
      return this.#op(operation, fn, undo);
    }
    /** @internal */
    __store() {
      return this.#store;
    }
    /** @internal the reply of `agent.chat(text, { session })`, in this session's order */
    __chat(text, call) {
      const entry = { role: "user", content: text, pending: true, createdAt: Date.now() };
      this.messages.push(entry);
      this.#trim();
      const drop = () => {
        const i = this.messages.indexOf(entry);
        if (i >= 0) this.messages.splice(i, 1);
      };
      return this.#op("chat", async (handle, store) => {
        let result;
        try {
          result = await call(store);
        } finally {
          // The user message is stored before the call; the reply when it succeeds.
          const stored = await handle.getHistory({ limit: 2 }).catch(() => []);
          drop();
          for (const m of stored) {
            if (!this.messages.some((x) => x.id === m.id)) this.messages.push(m);
          }
          this.#trim();
        }
        return result;
      }, drop);
    }

    /** Adds a message (applied after every earlier call); resolves to the stored message. */
    addMessage(message) {
      const entry = { ...toNewMessage(message), pending: true, createdAt: Date.now() };
      this.messages.push(entry);
      this.#trim();
      const drop = () => {
        const i = this.messages.indexOf(entry);
        if (i >= 0) this.messages.splice(i, 1);
      };
      return this.#op("addMessage", async (handle) => {
        const stored = await handle.addMessage(toNewMessage(message));
        const i = this.messages.indexOf(entry);
        if (i >= 0) this.messages[i] = stored;
        return stored;
      }, drop);
    }

    /** The conversation in the OpenAI chat shape, as of this call (after every earlier one). */
    getMessagesForLLM(options) {
      return this.#op("getMessagesForLLM", (handle) => handle.getMessagesForLLM(options));
    }

    /** The stored history, as of this call. */
    getHistory(options) {
      return this.#op("getHistory", (handle) => handle.getHistory(options));
    }

    /** A new run on this session (stored through the queue). */
    createRun() {
      const run = new Run(this);
      this.runs.push(run);
      this.#op("createRun", (handle) => run.__bind(handle.createRun()));
      return run;
    }

    /** Clears the history (the id and metadata stay). */
    clear() {
      const before = this.messages.splice(0);
      return this.#op("clear", (handle) => handle.reset(), () => this.messages.unshift(...before));
    }

    /** Replaces the metadata. */
    setMetadata(metadata) {
      this.metadata = plainJson(metadata) ?? {};
      return this.#op("setMetadata", (handle) => handle.update({ metadata: this.metadata }).then(() => undefined));
    }

    /** `session.on("error", ({ sessionId, operation, error }) => …)`: a call nobody awaited failed. */
    on(event, listener) {
      if (event !== "error") {
        throw Object.assign(new Error(`unknown event ${JSON.stringify(event)} (Session emits "error")`), {
          name: "AgentSessionsError", code: "INVALID_ARGUMENT", retryable: false,
        });
      }
      let set = this.#listeners.get(event);
      if (!set) this.#listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    }

    toJSON() {
      return { id: this.id, metadata: this.metadata, createdAt: this.createdAt, messages: this.messages, runs: this.runs.map((r) => r.toJSON()) };
    }
  }

  /** Sessions by id over one store: `getOrCreate(id)` returns the same Session object each time. */
  class SessionManager {
    #store;
    #sessions = new Map();
    #listeners = new Set();
    #defaults;

    /** `new SessionManager({ storage | store, maxMessages })`: without either, the runtime's
     * default storage (IndexedDB in a browser, memory elsewhere). */
    constructor(options = {}) {
      this.#store = options.store ? Promise.resolve(options.store) : SessionStore.open(options.storage ? { storage: options.storage } : undefined);
      this.#store.catch(() => {});
      this.#defaults = { maxMessages: options.maxMessages };
    }

    /** The session with this id, made (and loaded from storage, when it is there) on first use. */
    getOrCreate(id, options = {}) {
      let s = this.#sessions.get(id);
      if (!s) {
        s = new Session({ maxMessages: this.#defaults.maxMessages, ...options, id, store: this.#store, storage: undefined });
        s.on("error", (e) => this.#listeners.forEach((f) => f(e)));
        this.#sessions.set(id, s);
      }
      return s;
    }
    /** A new session (a generated id unless `options.id`). */
    create(options = {}) {
      return this.getOrCreate(options.id ?? `sess_${randomHex(16)}`, options);
    }
    /** The session this manager has made with this id, if any. */
    get(id) {
      return this.#sessions.get(id);
    }
    /** The sessions this manager has made. */
    list() {
      return [...this.#sessions.values()];
    }
    /** Every session id in the storage. */
    async listSessions() {
      return (await this.#store).listSessions();
    }
    /** Deletes a session (after the calls already made on it); resolves to whether it existed. */
    async delete(id) {
      const s = this.#sessions.get(id);
      this.#sessions.delete(id);
      if (s) await s.ready.catch(() => {});
      return (await this.#store).delete(id);
    }
    /** `manager.on("error", …)`: an un-awaited call failed on one of its sessions. */
    on(event, listener) {
      if (event !== "error") {
        throw Object.assign(new Error(`unknown event ${JSON.stringify(event)} (SessionManager emits "error")`), {
          name: "AgentSessionsError", code: "INVALID_ARGUMENT", retryable: false,
        });
      }
      this.#listeners.add(listener);
      return () => this.#listeners.delete(listener);
    }
  }

  /**
   * `new Agent({ name, instructions, session, llm, … })`: `chat(text)` resolves to the reply
   * text. With a session (the agent's, or `chat(text, { session })`), the message and the reply
   * are stored in it, in its order; without one, the agent keeps its own. `chat(messages)` (an
   * array, or the promise `getMessagesForLLM()` returns) sends exactly those messages and stores
   * nothing. `llm` is the library's LlmConfig, or a model name ("gpt-4o-mini",
   * "anthropic/claude-…"); absent, OpenAI from OPENAI_API_KEY (PraisonAI's default).
   */
  class Agent {
    #options;
    #agents = new WeakMap(); // SessionStore → Map(metadata key → core Agent)
    #scratch;
    #own = null;
    constructor(options = {}) {
      const { session, llm, store: _store, storage: _storage, ...rest } = options ?? {};
      this.name = rest.name ?? "assistant";
      this.instructions = rest.instructions;
      this.session = session ?? null;
      this.#options = { ...rest, llm: llmOption(llm) };
      // Configuration mistakes are reported now, as the library's Agent does.
      new lib.Agent({ ...this.#options, storage: { type: "memory" } }).free?.();
      this.#scratch = scratchCaller(lib, this.#options);
    }

    #agentFor(store, session) {
      let byMeta = this.#agents.get(store);
      if (!byMeta) this.#agents.set(store, (byMeta = new Map()));
      const meta = session.metadata && Object.keys(session.metadata).length ? JSON.stringify(session.metadata) : "";
      let a = byMeta.get(meta);
      if (!a) {
        // The session's metadata is context for the model, after the instructions.
        const instructions = meta ? `${this.instructions ?? ""}\n\nSession metadata (JSON): ${meta}`.trim() : this.instructions;
        a = new lib.Agent({ ...this.#options, instructions, store });
        byMeta.set(meta, a);
      }
      return a;
    }

    /** One turn; resolves to the reply text. */
    async chat(input, options = {}) {
      const signal = options?.signal;
      if (typeof input !== "string") {
        const r = await this.#scratch(input, signal);
        return r.content;
      }
      const session = options?.session ?? this.session ?? (this.#own ??= new Session());
      const r = await session.__chat(input, (store) => this.#agentFor(store, session).generate(input, { sessionId: session.id, signal }));
      return r.content;
    }

    /** PraisonAI's other name for chat. */
    start(input, options) {
      return this.chat(input, options);
    }
  }

  /**
   * PraisonAI's persistent session storage (`createSession`, `getSession`, `getMessages`,
   * `addMessage(sessionId, message)`) over any storage of the library.
   */
  class SessionStorage {
    #store;
    constructor(storage) {
      this.#store = storage instanceof SessionStore ? Promise.resolve(storage) : SessionStore.open({ storage });
      this.#store.catch(() => {});
    }
    /** Creates the session, or updates its metadata when it exists. */
    async createSession(sessionId, metadata) {
      const store = await this.#store;
      const md = plainJson(metadata);
      const existing = await store.get(sessionId);
      if (!existing) return info(await store.create(sessionId, md ? { metadata: md } : undefined));
      if (md) await existing.update({ metadata: { ...existing.metadata, ...md } });
      return info(existing);
    }
    async getSession(sessionId) {
      const s = await (await this.#store).get(sessionId);
      return s ? info(s) : null;
    }
    async getMessages(sessionId, options) {
      const s = await (await this.#store).get(sessionId);
      return s ? s.getHistory(options) : [];
    }
    /** Appends a message, creating the session on first use. */
    async addMessage(sessionId, message) {
      const s = await (await this.#store).getOrCreate(sessionId);
      return s.addMessage(toNewMessage(message));
    }
    async deleteSession(sessionId) {
      return (await this.#store).delete(sessionId);
    }
    async listSessions() {
      return (await this.#store).listSessions();
    }
    /** The SessionStore underneath (to share it with a Session or Agent). */
    store() {
      return this.#store;
    }
  }
  const info = (s) => ({ id: s.id, metadata: s.metadata, createdAt: new Date(s.createdAt), updatedAt: new Date(s.updatedAt), messageCount: s.messageCount });

  /** `db`: a connection string, `{ connectionString }` / `{ url }`, or a `pg.Pool`. */
  function createPostgresSessionStorage(db) {
    if (typeof db === "string") return new SessionStorage({ type: "postgres", url: db });
    if (db && typeof db === "object" && (db.connectionString || db.url) && typeof db.query !== "function") {
      return new SessionStorage({ type: "postgres", url: db.connectionString ?? db.url, ...(db.prefix ? { prefix: db.prefix } : {}) });
    }
    return new SessionStorage({ type: "postgres", pool: db });
  }
  /** `db`: a file path, or an open SQLite database (node:sqlite, better-sqlite3, D1, a Durable
   * Object's storage). */
  function createSQLiteSessionStorage(db) {
    return new SessionStorage(typeof db === "string" ? { type: "sqlite", path: db } : { type: "sqlite", db });
  }
  /** Any storage config of the library (or a SessionStore). */
  function createSessionStorage(storage) {
    return new SessionStorage(storage);
  }

  return { Agent, Session, SessionManager, Run, SessionStorage, createPostgresSessionStorage, createSQLiteSessionStorage, createSessionStorage };
}
