// agent-sessions/openai-agents: a Session of the OpenAI Agents SDK (`@openai/agents`, an optional
// peer dependency; nothing of it is imported here) over agent-sessions.
//
// `new AgentSessionsSession({ store, sessionId })` → `run(agent, input, { session })`. Each
// AgentInputItem is one stored message: the item itself, verbatim, in `payload`, and what our
// context builder reads beside it (a message's text; a function call as an assistant tool call;
// its result as a tool message), so the conversation is the same one for both.

import { contentFor, invalidArgument, plain, popMessage, same, sessionOf, textOf } from "./adapter-common.js";

/** Where applied history transactions are recorded: the session's metadata, as
 * `[operationId, SHA-256 of the transaction]` pairs, oldest first, the newest `KEPT_OPS` of them
 * (bounded: metadata holds at most 64 KB). */
const OPS = "openai-agents:operations";
const KEPT_OPS = 64;

const isItem = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

function outputText(output) {
  if (typeof output === "string") return output;
  if (isItem(output) && typeof output.text === "string") return output.text;
  if (Array.isArray(output) && output.every((p) => typeof p?.text === "string")) return textOf(output);
  return JSON.stringify(output ?? null);
}

/** The stored message of an item: the item in `payload`, our fields beside it. */
function toMessage(item) {
  const payload = plain(item);
  const base = { payload };
  if (item.type === "function_call") {
    return { ...base, role: "assistant", content: "", toolCalls: [{ id: String(item.callId), name: String(item.name), arguments: String(item.arguments ?? "") }] };
  }
  if (item.type === "function_call_result") return { ...base, role: "tool", toolCallId: String(item.callId), content: outputText(item.output) };
  if ((item.type === "message" || item.type === undefined) && typeof item.role === "string") {
    const role = item.role === "developer" ? "system" : item.role;
    if (role === "user" || role === "system" || role === "assistant") return { ...base, role, content: contentFor(role, textOf(item.content), item.content) };
  }
  // Reasoning, hosted tool calls, compaction markers…: kept, but not text our builder sends.
  return { ...base, role: "assistant", content: "" };
}

/** The items of a stored message: its payload, else made from a message another API wrote. */
function toItems(m) {
  if (isItem(m.payload)) return [m.payload];
  if (m.role === "tool") {
    return [{ type: "function_call_result", callId: m.toolCallId, name: m.name ?? "", status: "completed", output: { type: "text", text: m.content } }];
  }
  const items = [];
  if (m.role === "assistant") {
    if (m.content) items.push({ type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text: m.content }] });
    for (const t of m.toolCalls ?? []) items.push({ type: "function_call", callId: t.id, name: t.name, arguments: t.arguments, status: "completed" });
  } else {
    items.push({ type: "message", role: m.role, content: m.content });
  }
  return items;
}

function checkItems(items, what) {
  if (!Array.isArray(items) || !items.every(isItem)) throw invalidArgument(`${what} must be an array of AgentInputItem objects`);
  return items;
}

/**
 * The OpenAI Agents SDK's `Session` (with the idempotent `applyHistoryTransaction`) over one
 * agent-sessions session. `sessionId` defaults to a random UUID; nothing is stored until an item is.
 */
export class AgentSessionsSession {
  #s;

  constructor({ store, sessionId = crypto.randomUUID() } = {}) {
    this.#s = sessionOf("AgentSessionsSession", { store, sessionId });
  }

  async getSessionId() {
    return this.#s.id;
  }

  /** The history's items, oldest first; the newest `limit` of them when given. */
  async getItems(limit) {
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw invalidArgument("getItems: `limit` must be a non-negative integer", this.#s.id);
    if (limit === 0) return [];
    const session = await this.#s.read();
    if (!session) return [];
    const items = (await session.getHistory(limit === undefined ? undefined : { limit })).flatMap(toItems);
    return limit === undefined ? items : items.slice(-limit);
  }

  async addItems(items) {
    checkItems(items, "addItems: `items`");
    if (items.length === 0) return;
    await this.#s.write((session) => session.addMessages(items.map(toMessage)));
  }

  /** Removes and returns the newest item (`undefined` when there is none). */
  async popItem() {
    const last = await this.#s.exclusive((session) => (session ? popMessage(session) : null));
    return last ? toItems(last).at(-1) : undefined;
  }

  /** Deletes the session: its items and its record of applied transactions. */
  async clearSession() {
    await this.#s.remove();
  }

  /**
   * Appends items, or replaces the history's newest items (`replace_suffix`, when they equal
   * `expectedSuffix`), once per `operationId`: the same operation again changes nothing, the id
   * reused for another transaction (or a suffix that no longer matches) is INVALID_ARGUMENT and
   * changes nothing. The change and the operation's record are one write (`addMessages`); the
   * newest 64 operation ids are remembered.
   */
  async applyHistoryTransaction({ operationId, transaction } = {}) {
    if (typeof operationId !== "string" || !operationId.trim()) throw invalidArgument("applyHistoryTransaction: `operationId` must be a non-empty string", this.#s.id);
    const { type } = transaction ?? {};
    if (type === "append_items") checkItems(transaction.items, "append_items: `items`");
    else if (type === "replace_suffix") {
      checkItems(transaction.expectedSuffix, "replace_suffix: `expectedSuffix`");
      checkItems(transaction.replacement, "replace_suffix: `replacement`");
    } else throw invalidArgument("applyHistoryTransaction: `transaction.type` must be \"append_items\" or \"replace_suffix\"", this.#s.id);
    const record = await digest(JSON.stringify(canonical(transaction)));
    await this.#s.write(async (session) => {
      const stored = session.metadata[OPS];
      const ops = Array.isArray(stored) ? stored : [];
      const seen = ops.find(([id]) => id === operationId);
      if (seen) {
        if (seen[1] === record) return;
        throw invalidArgument(`applyHistoryTransaction: operation ${operationId} was already applied with a different transaction`, this.#s.id);
      }
      const metadata = { ...session.metadata, [OPS]: [...ops, [operationId, record]].slice(-KEPT_OPS) };
      if (type === "append_items") {
        await session.addMessages(transaction.items.map(toMessage), { metadata });
        return;
      }
      const n = transaction.expectedSuffix.length;
      const history = await session.getHistory();
      const suffix = history.slice(history.length - n).flatMap(toItems);
      if (history.length < n || !same(suffix, plain(transaction.expectedSuffix))) {
        throw invalidArgument("applyHistoryTransaction: the history's newest items no longer match `expectedSuffix`", this.#s.id);
      }
      const options = { metadata };
      if (n > 0) options.truncateAfter = history.length > n ? history[history.length - n - 1].id : null;
      await session.addMessages(transaction.replacement.map(toMessage), options);
    });
  }
}

async function digest(text) {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A JSON value with its object keys sorted (a stable form to compare transactions by). */
function canonical(v) {
  if (Array.isArray(v)) return v.map(canonical);
  if (!isItem(v)) return v === undefined ? null : v;
  return Object.fromEntries(Object.keys(v).sort().filter((k) => v[k] !== undefined).map((k) => [k, canonical(v[k])]));
}
