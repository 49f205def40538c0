// A Vite app: the bundler resolves the package's `browser` entry and emits the .wasm as an asset.
import * as lib from "agent-sessions";
import { Agent, SessionManager } from "agent-sessions/praisonai";
import { InMemoryMemory } from "agent-sessions/ag-kit";
import { DextoAgent } from "agent-sessions/dexto";
import { runScenario } from "./scenario.js";

// The seeds' entries resolve to their `browser` files, over the same module: PraisonAI's
// un-awaited calls on the runtime's default storage (IndexedDB), read back by a second manager.
async function seeds() {
  const llm = { provider: "mock" };
  const agent = new Agent({ name: "Assistant", llm });
  const session = new SessionManager().getOrCreate("seeds-user");
  session.addMessage({ role: "user", content: "My name is Sarah." });
  const first = await agent.chat(session.getMessagesForLLM());
  session.addMessage({ role: "assistant", content: first });
  session.addMessage({ role: "user", content: "What is my name?" });
  const reply = await agent.chat(session.getMessagesForLLM());
  session.addMessage({ role: "assistant", content: reply });
  await session.ready;
  const again = new SessionManager().getOrCreate("seeds-user");
  await again.ready;
  const memory = new InMemoryMemory();
  await memory.add({ message: { role: "user", content: "Hello, I'm Alice" } }, { sessionId: "a" });
  return {
    reply,
    reopened: again.messages.map((m) => m.role),
    alice: (await memory.list({ sessionId: "a" }))[0].message.content,
    dexto: DextoAgent === lib.Agent,
  };
}

runScenario(lib, { reopen: true }).then(
  async (result) => (window.packagingResult = { ...result, seeds: await seeds().catch((e) => ({ error: String(e?.stack ?? e) })) }),
  (e) => (window.packagingResult = { error: String(e?.stack ?? e) }),
);
