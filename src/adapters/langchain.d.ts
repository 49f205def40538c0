// agent-sessions/langchain: a LangChain.js chat message history (`@langchain/core`, an optional
// peer dependency) over agent-sessions.
import { BaseListChatMessageHistory } from "@langchain/core/chat_history";
import type { BaseMessage } from "@langchain/core/messages";
import type { SessionStore } from "./index.js";

export interface AgentSessionsChatMessageHistoryOptions {
  /** Where the session lives (or a promise of the store, e.g. `SessionStore.open(…)`). */
  store: SessionStore | Promise<SessionStore>;
  /** The agent-sessions session id. */
  sessionId: string;
}

/**
 * `new RunnableWithMessageHistory({ …, getMessageHistory: (id) => new AgentSessionsChatMessageHistory({ store, sessionId: id }) })`:
 * each message is one stored message, its `toDict()` form kept verbatim, tool calls and tool
 * messages also stored as ours. Bad arguments are `AgentSessionsError`s, code `INVALID_ARGUMENT`.
 */
export class AgentSessionsChatMessageHistory extends BaseListChatMessageHistory {
  constructor(options: AgentSessionsChatMessageHistoryOptions);
  lc_namespace: string[];
  /** The whole active history, oldest first (`[]` for a session never written). */
  getMessages(): Promise<BaseMessage[]>;
  addMessage(message: BaseMessage): Promise<void>;
  /** Checks every message, then stores them in one queued operation. */
  addMessages(messages: BaseMessage[]): Promise<void>;
  /** Deletes the session. */
  clear(): Promise<void>;
}
