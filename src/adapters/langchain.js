// agent-sessions/langchain: a LangChain.js chat message history over agent-sessions
// (`@langchain/core`, an optional peer dependency, loaded only by this entry: the history must
// extend its BaseListChatMessageHistory).
//
// `new AgentSessionsChatMessageHistory({ store, sessionId })` for RunnableWithMessageHistory. Each
// message is one stored message: its `toDict()` form, verbatim, in `payload` (so it comes back
// equal), and what our context builder reads beside it: the text, an AIMessage's tool_calls as
// tool calls, a ToolMessage as a tool result.

import { BaseListChatMessageHistory } from "@langchain/core/chat_history";
import { AIMessage, HumanMessage, SystemMessage, ToolMessage, isBaseMessage, mapStoredMessagesToChatMessages } from "@langchain/core/messages";
import { contentFor, invalidArgument, plain, sessionOf, textOf } from "./adapter-common.js";

const ROLE = { human: "user", ai: "assistant", system: "system", tool: "tool", function: "tool" };
const CHAT_ROLES = new Set(["user", "assistant", "system"]);

const isStored = (p) => p !== null && typeof p === "object" && typeof p.type === "string" && p.data !== null && typeof p.data === "object";

/** The stored message of a LangChain message. */
function toNewMessage(message) {
  const dict = plain(message.toDict());
  const type = message.getType();
  let role = ROLE[type];
  if (type === "generic") role = CHAT_ROLES.has(message.role) ? message.role : "user";
  if (!role) throw invalidArgument(`AgentSessionsChatMessageHistory: a ${type} message cannot be stored`);
  const m = { role, content: contentFor(role, textOf(message.content), message.content), payload: dict };
  if (type === "ai" && message.tool_calls?.length) {
    m.toolCalls = message.tool_calls.map((t) => ({ id: t.id ?? crypto.randomUUID(), name: t.name, arguments: JSON.stringify(t.args ?? {}) }));
  }
  if (type === "tool") m.toolCallId = message.tool_call_id;
  if (type === "function") m.toolCallId = message.name;
  return m;
}

/** A stored message as a LangChain message: its payload, else made from our fields. */
function toChatMessage(m) {
  if (isStored(m.payload)) return mapStoredMessagesToChatMessages([m.payload])[0];
  const fields = { id: m.id, content: m.content };
  if (m.role === "assistant") {
    const tool_calls = (m.toolCalls ?? []).map((t) => ({ id: t.id, name: t.name, args: parseArgs(t.arguments), type: "tool_call" }));
    return new AIMessage({ ...fields, tool_calls });
  }
  if (m.role === "tool") return new ToolMessage({ ...fields, tool_call_id: m.toolCallId ?? "" });
  if (m.role === "system") return new SystemMessage(fields);
  return new HumanMessage(fields);
}

function parseArgs(text) {
  try {
    const v = JSON.parse(text || "{}");
    return v !== null && typeof v === "object" && !Array.isArray(v) ? v : { value: v };
  } catch {
    return { input: text };
  }
}

/**
 * LangChain's list chat history over one agent-sessions session: `getMessages()` returns the
 * whole active history, `addMessages()` writes its messages as one write (all checked before
 * any is stored), `clear()` deletes the session.
 */
export class AgentSessionsChatMessageHistory extends BaseListChatMessageHistory {
  lc_namespace = ["agent_sessions", "chat_history"];
  #s;

  constructor({ store, sessionId } = {}) {
    super({ sessionId });
    this.#s = sessionOf("AgentSessionsChatMessageHistory", { store, sessionId });
  }

  async getMessages() {
    const session = await this.#s.read();
    return session ? (await session.getHistory()).map(toChatMessage) : [];
  }

  async addMessage(message) {
    await this.addMessages([message]);
  }

  async addMessages(messages) {
    if (!Array.isArray(messages) || !messages.every(isBaseMessage)) {
      throw invalidArgument("AgentSessionsChatMessageHistory: addMessages takes an array of LangChain messages", this.#s.id);
    }
    const records = messages.map(toNewMessage);
    if (records.length === 0) return;
    await this.#s.write((session) => session.addMessages(records));
  }

  async clear() {
    await this.#s.remove();
  }
}
