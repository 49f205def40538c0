// The session-management snippets of the seed docs (Dexto, PraisonAI, AG-Kit), run against the
// built package through its Node entry. Only the import line and provider settings differ.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Agent, SessionStore } from "agent-sessions";

const llm = { provider: "mock", model: "mock-1" };

test("Dexto: auto and custom session ids", async () => {
  const agent = new Agent({ llm });
  await agent.start();
  const session1 = await agent.createSession();
  assert.match(session1.id, /^sess_[0-9a-f]{32}$/);
  const session2 = await agent.createSession("user-sarah-2024");
  assert.equal(session2.id, "user-sarah-2024");
});

test("Dexto: check if a session exists, else create it", async () => {
  const agent = new Agent({ llm });
  await agent.start();
  let session = await agent.getSession("user-sarah-2024");
  assert.equal(session, null);
  if (!session) await agent.createSession("user-sarah-2024");
  session = await agent.getSession("user-sarah-2024");
  assert.ok(session);
  assert.equal(session.id, "user-sarah-2024");
});

test("Dexto: list, inspect history, reset and delete", async () => {
  const agent = new Agent({ llm });
  await agent.start();
  const session = await agent.createSession("demo");
  await session.addMessage({ role: "user", content: "I want to build a REST API in Node.js." });
  await session.addMessage({ role: "assistant", content: "Building a REST API in Node.js is a great choice." });
  const sessions = await agent.listSessions();
  assert.deepEqual(sessions, ["demo"]);
  const history = await agent.getSessionHistory("demo");
  const lines = history.map((m) => `[${m.role}]: ${m.content.substring(0, 60)}`);
  assert.deepEqual(lines, [
    "[user]: I want to build a REST API in Node.js.",
    "[assistant]: Building a REST API in Node.js is a great choice.",
  ]);
  await agent.resetConversation("demo");
  assert.ok(await agent.getSession("demo"), "session 'demo' still exists");
  assert.deepEqual(await agent.getSessionHistory("demo"), []);
  await agent.deleteSession("demo");
  assert.equal(await agent.getSession("demo"), null);
  assert.deepEqual(await agent.listSessions(), []);
});

test("Dexto: resume-or-create pattern", async () => {
  const agent = new Agent({ llm, sessions: { maxSessions: 1000, sessionTTL: 24 * 60 * 60 * 1000 } });
  await agent.start();
  async function resumeOrCreate(agent, userId) {
    const sessionId = `user-${userId}`;
    const sessions = await agent.listSessions();
    if (sessions.includes(sessionId)) {
      const history = await agent.getSessionHistory(sessionId);
      return { sessionId, history };
    }
    const session = await agent.createSession(sessionId);
    return { sessionId: session.id, history: [] };
  }
  const first = await resumeOrCreate(agent, "123");
  assert.deepEqual(first, { sessionId: "user-123", history: [] });
  const s = await agent.getSession("user-123");
  await s.addMessage({ role: "user", content: "Hello" });
  const again = await resumeOrCreate(agent, "123");
  assert.equal(again.history.length, 1);
});

test("PraisonAI: getOrCreate, addMessage, getMessagesForLLM, metadata", async () => {
  const sessionManager = await SessionStore.open();
  const session = await sessionManager.getOrCreate("customer-session", {
    metadata: { userId: "user-789", customerTier: "premium", language: "en", timezone: "America/New_York" },
  });
  await session.addMessage({ role: "user", content: "Hi, I want to learn TypeScript" });
  await session.addMessage({ role: "assistant", content: "Great! Start with the basics." });
  const history = await session.getMessagesForLLM();
  assert.deepEqual(history, [
    { role: "user", content: "Hi, I want to learn TypeScript" },
    { role: "assistant", content: "Great! Start with the basics." },
  ]);
  const same = await sessionManager.getOrCreate("customer-session");
  assert.equal(same.messageCount, 2);
  assert.equal(same.metadata.customerTier, "premium");
  const recent = await session.getMessagesForLLM({ maxTokens: 4000, strategy: "recent" });
  assert.equal(recent.length, 2);
});

test("PraisonAI: run tracking", async () => {
  const store = await SessionStore.open();
  const session = await store.create();
  async function trackedChat(message) {
    const run = session.createRun();
    run.start();
    try {
      await session.addMessage({ role: "user", content: message });
      await session.addMessage({ role: "assistant", content: `echo ${message}` });
      run.complete({ tokensUsed: 150 });
      assert.equal(typeof run.duration, "number");
      return run;
    } catch (error) {
      run.fail(error);
      throw error;
    }
  }
  await trackedChat("Hello");
  await trackedChat("Help me with code");
  const runs = await session.getRuns();
  assert.equal(runs.length, 2);
  assert.ok(runs.every((r) => r.status === "completed" && r.usage.totalTokens === 150));
  assert.equal((await session.getHistory()).length, 4);
});

test("AG-Kit: add and list by sessionId", async () => {
  const memory = await SessionStore.open({ storage: { type: "memory" } });
  const sessionA = "user-alice-session-1";
  await memory.add(
    { message: { id: "msg-1", role: "user", content: "Hello, I'm Alice", timestamp: new Date() }, state: { userId: "alice" } },
    { sessionId: sessionA },
  );
  const sessionB = "user-bob-session-1";
  await memory.add(
    { message: { id: "msg-1", role: "user", content: "Hi, I'm Bob", timestamp: new Date() }, state: { userId: "bob" } },
    { sessionId: sessionB },
  );
  const aliceHistory = await memory.list({ sessionId: sessionA });
  const bobHistory = await memory.list({ sessionId: sessionB });
  assert.equal(aliceHistory[0].message.content, "Hello, I'm Alice");
  assert.equal(bobHistory[0].message.content, "Hi, I'm Bob");
  assert.ok(aliceHistory[0].message.timestamp instanceof Date);
  assert.deepEqual(aliceHistory[0].state, { userId: "alice" });
  // Hierarchical ids work as they are.
  await memory.add({ message: { role: "user", content: "org scoped" } }, { sessionId: "org-1/team-2/user-3" });
  assert.equal((await memory.list({ sessionId: "org-1/team-2/user-3" })).length, 1);
  assert.equal((await memory.list({ sessionId: "org-1/team-2" })).length, 0);
});
