// What the framework adapters (agent-sessions/ai-sdk, /openai-agents, /langchain) share: JSON
// forms, a per-key queue, the typed error, and the lazily opened session of one id.

/** The JSON form of a value, as storage keeps it (undefined-valued keys dropped). */
export function plain(value) {
  return JSON.parse(JSON.stringify(value));
}

/** Deep equality of JSON values, object key order ignored (storage does not keep it). */
export function same(a, b) {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && same(a[k], b[k]));
}

/** Runs `fn` after the previous call for the same key has settled. */
export function serializer() {
  const tails = new Map();
  return (key, fn) => {
    const run = (tails.get(key) ?? Promise.resolve()).then(fn, fn);
    const tail = run.catch(() => {});
    tails.set(key, tail);
    tail.then(() => { if (tails.get(key) === tail) tails.delete(key); });
    return run;
  };
}

/** The library's typed error for a bad argument (`code: "INVALID_ARGUMENT"`). */
export function invalidArgument(message, sessionId) {
  const e = Object.assign(new Error(message), { name: "AgentSessionsError", code: "INVALID_ARGUMENT", retryable: false });
  if (sessionId !== undefined) e.sessionId = sessionId;
  return e;
}

/** The text of a content value: a string, or the text of its parts (`text`, `input_text`,
 * `output_text`, `refusal`…), joined. */
export function textOf(content) {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((p) => (typeof p === "string" ? p : typeof p?.text === "string" ? p.text : typeof p?.refusal === "string" ? p.refusal : "")).join("");
}

/**
 * The content stored for a message whose parts hold no text: a user or system message needs
 * some (the library refuses an empty one, and our context builder reads it), so one whose
 * parts are all images, files or audio names what it holds (`[image]`, `[file: report.pdf]`, `[input_audio]`); an assistant message
 * may stay empty. The message itself is kept whole in its payload either way.
 */
export function contentFor(role, text, content) {
  // A blank string (or no parts at all) stays blank: an empty message is refused, as ours is.
  if (text.trim() || role === "assistant" || role === "tool" || !Array.isArray(content) || !content.length) return text;
  const names = content.map((p) => {
    const type = typeof p?.type === "string" ? p.type : "part";
    const name = p?.filename ?? p?.file?.filename ?? p?.name;
    if (typeof name === "string" && name) return `[file: ${name}]`;
    return /image/.test(type) ? "[image]" : /file/.test(type) ? "[file]" : `[${type}]`;
  });
  return names.join(" ");
}

/**
 * One session of a store, by id, for an adapter object: `{ store, sessionId }` checked (a store
 * or a promise of one; a non-empty string id), `read()` → the session or `null` (nothing is
 * created by reading), `write(fn)` → `fn(session)` with the session created on first use, the
 * writes of one id running one at a time.
 */
export function sessionOf(name, { store, sessionId } = {}) {
  if (!store || (typeof store.then !== "function" && typeof store.getOrCreate !== "function")) {
    throw invalidArgument(`${name}: \`store\` (a SessionStore, or a promise of one) is required`);
  }
  if (typeof sessionId !== "string" || !sessionId) throw invalidArgument(`${name}: \`sessionId\` must be a non-empty string`);
  const queue = serializer();
  return {
    id: sessionId,
    read: async () => (await store).get(sessionId),
    write: (fn) => queue(sessionId, async () => fn(await (await store).getOrCreate(sessionId))),
    /** Runs `fn` in the write queue without creating the session (`null` when it does not exist). */
    exclusive: (fn) => queue(sessionId, async () => fn(await (await store).get(sessionId))),
    /** Deletes the session (after the writes queued before). */
    remove: () => queue(sessionId, async () => { await (await store).delete(sessionId); }),
  };
}

/** Removes a session's newest message on its active branch (`null` when it has none). */
export async function popMessage(session) {
  const newest = await session.getHistory({ limit: 2 });
  const last = newest.at(-1);
  if (!last) return null;
  if (newest.length === 2) await session.truncateAfter(newest[0].id);
  else await session.reset();
  return last;
}
