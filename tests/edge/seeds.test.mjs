// The seeds' entries in a real Worker (workerd, through miniflare), imported through the files
// their exports maps name for workerd: PraisonAI's un-awaited Session calls, a SessionManager,
// AG-Kit's memory and DextoAgent, with the offline mock provider.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { worker } from "./worker.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(root, "pkg/package.json"), "utf8"));
const entry = (name) => "../" + path.posix.join("pkg", pkg.exports[`./${name}`].workerd);

const script = `
import { Agent, Session, SessionManager } from "${entry("praisonai")}";
import { InMemoryMemory } from "${entry("ag-kit")}";
import { DextoAgent } from "${entry("dexto")}";
const llm = { provider: "mock" };
export default {
  async fetch() {
    try {
      const manager = new SessionManager();
      const agent = new Agent({ name: "Edge", llm });
      const session = manager.getOrCreate("user-1");
      session.addMessage({ role: "user", content: "My name is Sarah." });
      const first = await agent.chat(session.getMessagesForLLM());
      session.addMessage({ role: "assistant", content: first });
      session.addMessage({ role: "user", content: "What is my name?" });
      const second = await agent.chat(session.getMessagesForLLM());
      session.addMessage({ role: "assistant", content: second });
      const pendingNow = session.messages.filter((m) => m.pending).length;
      await session.ready;
      const bound = new Agent({ name: "Bound", llm, session: new Session({ id: "b" }) });
      await bound.chat("My name is Ada.");
      const memory = new InMemoryMemory();
      await memory.add({ message: { role: "user", content: "Hello, I'm Alice" }, state: { userId: "alice" } }, { sessionId: "a" });
      const dexto = new DextoAgent({ llm });
      await dexto.start();
      const s = await dexto.createSession();
      await dexto.generate("My name is Sam.", s.id);
      return Response.json({
        second, pendingNow, roles: session.messages.map((m) => m.role), pendingAfter: session.messages.filter((m) => m.pending).length,
        bound: await bound.chat("What is my name?"),
        alice: (await memory.list({ sessionId: "a" }))[0].message.content,
        dexto: (await dexto.generate("What is my name?", { sessionId: s.id })).content,
      });
    } catch (e) {
      return Response.json({ name: e.name, code: e.code, message: e.message }, { status: 500 });
    }
  },
};
`;

const held = worker("edge-seeds-worker", script);

test("agent-sessions/praisonai, /ag-kit and /dexto run in workerd through their workerd files", async () => {
  const res = await held.mf.dispatchFetch("http://w/");
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.second, "Your name is Sarah.", "the un-awaited user message was applied before the history was read");
  assert.equal(body.pendingNow, 1, "the last un-awaited message is mirrored at once, pending");
  assert.deepEqual(body.roles, ["user", "assistant", "user", "assistant"]);
  assert.equal(body.pendingAfter, 0);
  assert.equal(body.bound, "Your name is Ada.");
  assert.equal(body.alice, "Hello, I'm Alice");
  assert.equal(body.dexto, "Your name is Sam.");
});
