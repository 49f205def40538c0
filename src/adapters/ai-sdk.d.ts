// agent-sessions/ai-sdk: the Vercel AI SDK (`ai`, an optional peer dependency) over agent-sessions.
import type { ChatTransport, UIMessage, UIMessageChunk } from "ai";
import type { Agent, SessionStore } from "./index.js";

/** The AI SDK's chat persistence (`loadChat` / `saveChat`) over a SessionStore. */
export interface ChatStore<UI_MESSAGE extends UIMessage = UIMessage> {
  /** The chat's active history, each message as it was saved (ids, metadata, every part);
   * `[]` for a chat that does not exist. */
  loadChat(chatId: string): Promise<UI_MESSAGE[]>;
  /** Makes the chat's active history `messages`, writing only what changed: the same array
   * again writes nothing, a message with a stored id is replaced in place (a continuation), a
   * divergence (a regenerated answer) becomes a branch and keeps the old messages, a shorter
   * prefix rewinds. Saves of one chat run one at a time. */
  saveChat(options: { chatId: string; messages: UI_MESSAGE[] }): Promise<void>;
}

/** `chatStore(store)`: one session per chat id, one stored message per UIMessage. */
export function chatStore<UI_MESSAGE extends UIMessage = UIMessage>(
  store: SessionStore | Promise<SessionStore>,
): ChatStore<UI_MESSAGE>;

export interface SessionsChatTransportOptions {
  /** The agent that answers (its store holds the chats). */
  agent: Agent;
  /** The session of a chat id (default: the chat id itself). */
  sessionId?: (chatId: string) => string;
}

/**
 * A ChatTransport that runs an agent-sessions Agent in the page itself:
 * `useChat({ transport: new SessionsChatTransport({ agent }) })`, no server. The chat's messages
 * are stored before each run; the reply streams as UIMessageChunks and is stored with its UI form;
 * `reconnectToStream` resumes a reply a reload cut off (a replay: the stored text, then the rest).
 */
export class SessionsChatTransport<UI_MESSAGE extends UIMessage = UIMessage> implements ChatTransport<UI_MESSAGE> {
  constructor(options: SessionsChatTransportOptions);
  /** `true`: a resumed stream starts from the reply's beginning. */
  readonly resumeStreamIsReplay: boolean;
  /** Stores `messages` (the user's new one among them), then streams the agent's answer;
   * `regenerate-message` answers the last user message again, the old answer kept as a branch. */
  sendMessages(options: Parameters<ChatTransport<UI_MESSAGE>["sendMessages"]>[0]): Promise<ReadableStream<UIMessageChunk>>;
  /** The interrupted reply of the chat, continued and streamed whole; `null` when there is none. */
  reconnectToStream(options: Parameters<ChatTransport<UI_MESSAGE>["reconnectToStream"]>[0]): Promise<ReadableStream<UIMessageChunk> | null>;
}
