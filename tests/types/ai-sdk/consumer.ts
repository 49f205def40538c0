// agent-sessions/ai-sdk's declarations against the real `ai` types: chatStore is the AI SDK's
// loadChat/saveChat, SessionsChatTransport is a ChatTransport (what useChat({ transport }) takes).
import { Agent, SessionStore } from "agent-sessions";
import { chatStore, SessionsChatTransport, type ChatStore } from "agent-sessions/ai-sdk";
import type { ChatTransport, UIMessage, UIMessageChunk } from "ai";

type MyMessage = UIMessage<{ createdAt: number }, { weather: { city: string } }>;

export async function aiSdk(): Promise<void> {
  const store = await SessionStore.open({ storage: { type: "indexeddb" } });
  const chats: ChatStore<MyMessage> = chatStore<MyMessage>(store);
  const messages: MyMessage[] = await chats.loadChat("chat-1");
  await chats.saveChat({ chatId: "chat-1", messages });
  await chatStore(SessionStore.open()).saveChat({ chatId: "x", messages: [{ id: "u", role: "user", parts: [{ type: "text", text: "hi" }] }] });

  const agent = new Agent({ store, llm: { provider: "mock" } });
  const transport: ChatTransport<MyMessage> = new SessionsChatTransport<MyMessage>({ agent, sessionId: (chatId) => `user-1/${chatId}` });
  const replay: boolean | undefined = transport.resumeStreamIsReplay;
  void replay;
  const stream: ReadableStream<UIMessageChunk> = await transport.sendMessages({
    trigger: "submit-message", chatId: "chat-1", messageId: undefined, messages, abortSignal: undefined,
  });
  void stream;
  const resumed: ReadableStream<UIMessageChunk> | null = await transport.reconnectToStream({ chatId: "chat-1" });
  void resumed;

  // @ts-expect-error an agent is required
  new SessionsChatTransport({});
  // @ts-expect-error chatStore takes a SessionStore
  chatStore({ loadChat: 1 });
}
