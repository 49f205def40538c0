// agent-sessions/openai-agents and /langchain's declarations against the real framework types:
// AgentSessionsSession is what `run(agent, input, { session })` takes, and
// AgentSessionsChatMessageHistory is what RunnableWithMessageHistory's getMessageHistory returns.
import { SessionStore } from "agent-sessions";
import { AgentSessionsSession } from "agent-sessions/openai-agents";
import { AgentSessionsChatMessageHistory } from "agent-sessions/langchain";
import { Agent, run, type AgentInputItem, type Session, type SessionHistoryTransactionAwareSession } from "@openai/agents";
import type { BaseListChatMessageHistory } from "@langchain/core/chat_history";
import { HumanMessage, type BaseMessage } from "@langchain/core/messages";
import { RunnableWithMessageHistory, RunnableLambda } from "@langchain/core/runnables";

export async function openaiAgents(): Promise<void> {
  const store = await SessionStore.open({ storage: { type: "memory" } });
  const session: SessionHistoryTransactionAwareSession = new AgentSessionsSession({ store, sessionId: "user-1/chat" });
  const plain: Session = new AgentSessionsSession({ store: SessionStore.open() });
  const items: AgentInputItem[] = await session.getItems(10);
  await session.addItems(items);
  const last: AgentInputItem | undefined = await plain.popItem();
  void last;
  await session.applyHistoryTransaction({ operationId: "op-1", transaction: { type: "append_items", items } });
  await run(new Agent({ name: "Assistant" }), "Hello", { session });
  // @ts-expect-error a store is required
  new AgentSessionsSession({ sessionId: "x" });
}

export async function langchain(): Promise<void> {
  const store = await SessionStore.open({ storage: { type: "memory" } });
  const history: BaseListChatMessageHistory = new AgentSessionsChatMessageHistory({ store, sessionId: "user-1/chat" });
  const messages: BaseMessage[] = await history.getMessages();
  await history.addMessages([new HumanMessage("hi"), ...messages]);
  const chain = new RunnableWithMessageHistory({
    runnable: RunnableLambda.from((input: { input: string }) => input.input),
    getMessageHistory: (sessionId: string) => new AgentSessionsChatMessageHistory({ store, sessionId }),
    inputMessagesKey: "input",
  });
  void chain;
  // @ts-expect-error a session id is required
  new AgentSessionsChatMessageHistory({ store });
}
