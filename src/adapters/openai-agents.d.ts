// agent-sessions/openai-agents: an OpenAI Agents SDK Session (`@openai/agents`, an optional peer
// dependency) over agent-sessions.
import type { AgentInputItem, SessionHistoryTransactionArgs, SessionHistoryTransactionAwareSession } from "@openai/agents";
import type { SessionStore } from "./index.js";

export interface AgentSessionsSessionOptions {
  /** Where the session lives (or a promise of the store, e.g. `SessionStore.open(…)`). */
  store: SessionStore | Promise<SessionStore>;
  /** The agent-sessions session id (default: a random UUID). */
  sessionId?: string;
}

/**
 * `run(agent, input, { session: new AgentSessionsSession({ store, sessionId }) })`: each item is
 * one stored message, kept verbatim, that our context builder also reads (text, tool calls, tool
 * results). Bad arguments are `AgentSessionsError`s with code `INVALID_ARGUMENT`.
 */
export class AgentSessionsSession implements SessionHistoryTransactionAwareSession {
  constructor(options: AgentSessionsSessionOptions);
  getSessionId(): Promise<string>;
  /** The items, oldest first (the newest `limit` when given); `[]` for a session never written. */
  getItems(limit?: number): Promise<AgentInputItem[]>;
  addItems(items: AgentInputItem[]): Promise<void>;
  /** Removes and returns the newest item. */
  popItem(): Promise<AgentInputItem | undefined>;
  /** Deletes the session (items and applied-transaction record). */
  clearSession(): Promise<void>;
  /** `append_items` / `replace_suffix`, applied once per `operationId`. */
  applyHistoryTransaction(args: SessionHistoryTransactionArgs): Promise<void>;
}
