// What every consumer does with the installed package: create a session, chat twice with the
// offline mock provider, read the history back (from a second store over the same storage when the
// runtime has one), and report it for tests/packaging/run.mjs to assert. Copied into each consumer
// at test time (as scenario.cjs for the CommonJS one). `lib` is the consumer's own import of
// "agent-sessions", so this file never names the package itself.
export async function runScenario(lib, { storage, reopen = false } = {}) {
  const open = () => lib.SessionStore.open(storage ? { storage } : undefined);
  const store = await open();
  const agent = new lib.Agent({
    name: "helper",
    instructions: "You are helpful.",
    llm: { provider: "mock" },
    store,
  });
  await agent.start();
  const session = await agent.createSession("packaging-check", { metadata: { from: "packaging" } });
  await agent.generate("My name is Sarah.", session.id);
  const reply = await agent.generate("What is my name?", session.id);
  let history = await agent.getSessionHistory(session.id);
  if (reopen) {
    const again = await (await open()).get(session.id);
    history = again ? await again.getHistory() : null;
  }
  return {
    exports: Object.keys(lib).filter((k) => /^[A-Z]/.test(k)).sort(),
    sessionId: session.id,
    reply: reply.content,
    history: history && history.map((m) => ({ role: m.role, content: m.content, status: m.status })),
  };
}
