// agent-sessions/ag-kit: AG-Kit's memory API (`memory.add(entry, { sessionId })`,
// `memory.list({ sessionId })`) over the main entry's SessionStore, in memory or over any
// storage of the library, and an `Agent` whose `run({ messages })` answers from exactly the
// messages it is given. Thin JavaScript, no Rust; the runtime files pass in their main entry.
import { llmOption, scratchCaller } from "./praisonai.js";

export function agKit(lib) {
  const { SessionStore } = lib;

  /** `new SessionMemory({ storage | store })`: AG-Kit's memory over any storage (default: the
   * runtime's, IndexedDB in a browser and memory elsewhere). */
  class SessionMemory {
    #store;
    constructor(options = {}) {
      const o = options ?? {};
      this.#store = o.store ? Promise.resolve(o.store) : SessionStore.open(o.storage ? { storage: o.storage } : undefined);
      this.#store.catch(() => {});
    }
    /** Adds an entry to a session (created on first use); resolves to the stored entry. */
    async add(entry, options) {
      return (await this.#store).add(entry, options);
    }
    /** The session's entries, oldest first (`[]` for a session that does not exist). */
    async list(options) {
      return (await this.#store).list(options);
    }
    /** The number of entries in a session. */
    async getCount(options) {
      const s = await (await this.#store).get(options?.sessionId);
      return s ? s.messageCount : 0;
    }
    /** Removes a session's entries and the session (cleanup, expiry, privacy); resolves to
     * whether it existed. */
    async clear(options) {
      return (await this.#store).delete(options?.sessionId);
    }
    /** The ids of every session in the storage. */
    async listSessions() {
      return (await this.#store).listSessions();
    }
    /** The SessionStore underneath. */
    store() {
      return this.#store;
    }
  }

  /** AG-Kit's in-memory memory (this instance only). */
  class InMemoryMemory extends SessionMemory {
    constructor() {
      super({ storage: { type: "memory" } });
    }
  }

  /** `new Agent({ name, instructions, llm })`; `run({ messages })` sends exactly `messages` (AG-Kit
   * memory messages, or any { role, content }) and resolves to the reply. Nothing is stored. */
  class Agent {
    #call;
    constructor(options = {}) {
      const { llm, memory: _memory, ...rest } = options ?? {};
      this.name = rest.name ?? "assistant";
      this.instructions = rest.instructions;
      const opts = { ...rest, llm: llmOption(llm) };
      new lib.Agent({ ...opts, storage: { type: "memory" } }).free?.();
      this.#call = scratchCaller(lib, opts);
    }
    async run({ messages, sessionId, signal } = {}) {
      const r = await this.#call(messages, signal);
      return {
        content: r.content,
        message: { id: r.messageId, role: "assistant", content: r.content, timestamp: new Date() },
        sessionId: sessionId ?? null,
        usage: r.usage,
        finishReason: r.finishReason,
        model: r.model,
      };
    }
  }

  return { InMemoryMemory, SessionMemory, Agent };
}
