// The seed entries' declarations type real use and refuse misuse (tsc --strict).
import { DextoAgent } from "agent-sessions/dexto";
import { Agent, Session, SessionManager, createSQLiteSessionStorage, type SessionErrorEvent, type SessionMessage } from "agent-sessions/praisonai";
import { Agent as AgKitAgent, InMemoryMemory, SessionMemory } from "agent-sessions/ag-kit";

const dexto: DextoAgent = new DextoAgent({ llm: { provider: "mock" } });
const reply: Promise<string> = dexto.generate("hi", "s").then((r) => r.content);
// @ts-expect-error generate needs a session id or options, not a number
dexto.generate("hi", 42);

const session = new Session({ id: "s", maxMessages: 50, metadata: { tier: "premium" }, storage: { type: "memory" } });
const messages: SessionMessage[] = session.messages;
const runs: number = session.runs.length;
const agent = new Agent({ name: "a", instructions: "i", session, llm: "gpt-4o-mini" });
const text: Promise<string> = agent.chat("hello");
const fromHistory: Promise<string> = agent.chat(session.getMessagesForLLM({ maxTokens: 4000, strategy: "recent" }));
const withSession: Promise<string> = agent.chat("I need help", { session });
// @ts-expect-error chat takes text or messages
agent.chat(42);
// @ts-expect-error Session options are checked
new Session({ id: "s", maxMessage: 50 });
session.on("error", (e: SessionErrorEvent) => void e.error.code);
// @ts-expect-error Session emits only "error"
session.on("message", () => {});
const manager = new SessionManager({ storage: { type: "sqlite", path: "./data/x.db" } });
const same: Session = manager.getOrCreate("u");
const storage = createSQLiteSessionStorage("./data/p.db");
const saved: Promise<unknown> = storage.addMessage("u", { role: "user", content: "hi" });
// @ts-expect-error addMessage(sessionId, message)
storage.addMessage({ role: "user", content: "hi" });

const memory: SessionMemory = new InMemoryMemory();
const listed: Promise<string> = memory.list({ sessionId: "a" }).then((l) => l[0].message.content);
// @ts-expect-error add needs the sessionId option
memory.add({ message: { role: "user", content: "x" } });
const ran: Promise<string> = new AgKitAgent({ llm: { provider: "mock" } }).run({ messages: [{ role: "user", content: "hi" }] }).then((r) => r.content);
void [reply, messages, runs, text, fromHistory, withSession, same, saved, listed, ran];

// agent-sessions/store: the storage-only entry's declarations (store.d.ts) have the store and its
// sessions, and nothing of the LLM build.
import { SessionStore as StoreOnly, type Message as StoreMessage } from "agent-sessions/store";
import * as storeEntry from "agent-sessions/store";
const storeOnly: Promise<StoreOnly> = StoreOnly.open({ storage: { type: "memory" } });
const storedByStoreEntry: Promise<StoreMessage[]> = storeOnly.then((s) => s.getOrCreate("x")).then((s) => s.getHistory());
// @ts-expect-error no Agent in agent-sessions/store
void storeEntry.Agent;
// @ts-expect-error no context builder in agent-sessions/store
void storeOnly.then((s) => s.getOrCreate("x")).then((s) => s.getMessagesForLLM());
