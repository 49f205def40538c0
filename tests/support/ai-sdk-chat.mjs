// A `useChat`-equivalent client for tests: the AI SDK's own AbstractChat over a plain state (as
// the AI SDK's tests do), with a listener per change so tests wait on state, never on time.
// Takes the `ai` module, so the same file runs in Node and in a page (the bundled `ai`).
export function chatClass({ AbstractChat }) {
  class State {
    constructor(messages = [], changed = () => {}) {
      this.messages = messages;
      this.status = "ready";
      this.error = undefined;
      this.changed = changed;
    }
    pushMessage = (m) => { this.messages = this.messages.concat(m); this.changed(); };
    popMessage = () => { this.messages = this.messages.slice(0, -1); this.changed(); };
    replaceMessage = (i, m) => {
      this.messages = [...this.messages.slice(0, i), this.snapshot(m), ...this.messages.slice(i + 1)];
      this.changed();
    };
    snapshot = (v) => structuredClone(v);
  }

  return class TestChat extends AbstractChat {
    #listeners = new Set();
    constructor({ messages, ...init }) {
      const notify = () => { for (const l of [...this.#listeners]) l(); };
      super({ ...init, state: new State(messages ?? [], () => notify()) });
      this.state.changed = notify;
      this.notify = notify;
    }
    setStatus(s) {
      super.setStatus(s);
      this.notify();
    }
    /** Resolves once `predicate(this)` holds (checked at every change of messages or status). */
    until(predicate, what = "condition") {
      return new Promise((resolve, reject) => {
        const check = () => {
          let ok;
          try { ok = predicate(this); } catch (e) { this.#listeners.delete(check); reject(e); return; }
          if (ok) { this.#listeners.delete(check); resolve(this); }
        };
        this.#listeners.add(check);
        check();
      });
    }
    /** The text of a message's text parts. */
    static text(m) {
      return m.parts.filter((p) => p.type === "text").map((p) => p.text).join("");
    }
  };
}
