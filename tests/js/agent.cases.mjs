// Acceptance cases for Agent.generate / Agent.stream / Agent.chat, written against the contract
// (see /work/shared/DESIGN.md) and the session snippets of the seed docs (Dexto 000/001, PraisonAI 002).
//
// Runtime-neutral: no imports, no Node or DOM APIs beyond fetch/AbortController/setTimeout. The same
// list runs in Node (tests/js/agent.test.mjs) and in headless Chromium
// (tests/e2e/agent-chromium.test.mjs). Each case gets
//   t = { lib, mockUrl, assert, control: { script(key, steps), requests(key) } }
// where `lib` is the package ({ Agent, SessionStore, ... }), `mockUrl` the mock LLM server
// (tests/support/mock-llm-server.mjs) and `assert` node:assert/strict or tests/js/assert-shim.mjs.
// Every case uses its own model name (the mock server's script/log key), so they can run in any
// order and concurrently. Agents use memory storage explicitly so browser runs do not share state.

export const cases = [];
const c = (name, run) => cases.push({ name, run });

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

const MEMORY = { type: "memory" };
const FAST_RETRY = { baseDelayMs: 10, maxDelayMs: 50 };
const STOP_RE = /^(stop|end_turn|STOP)$/;
const TOOL_RE = /tool/i;

const RUN_ID = Math.random().toString(36).slice(2, 8);
let keySeq = 0;
/** A model name unique to this case (and this run): the mock server scripts and logs by it. */
const key = (label) => `${label}-${RUN_ID}-${++keySeq}`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function llmConfig(t, provider, model, extra = {}) {
  switch (provider) {
    case "openai":
      return { provider, model, apiKey: "sk-test", baseUrl: `${t.mockUrl}/v1`, ...extra };
    case "anthropic":
      // Browsers need the direct-access opt-in; set it everywhere so the same case runs in both.
      return { provider, model, apiKey: "sk-ant-test", baseUrl: t.mockUrl, dangerouslyAllowBrowser: true, ...extra };
    case "gemini":
      return { provider, model, apiKey: "gm-test", baseUrl: `${t.mockUrl}/v1beta`, ...extra };
    case "mock":
      return { provider, model, ...extra };
    default:
      throw new Error(`unknown provider in test: ${provider}`);
  }
}

/** new Agent + start(), against the mock server, memory storage and fast retries unless overridden. */
async function makeAgent(t, { provider = "openai", model, llm, ...config } = {}) {
  const agent = new t.lib.Agent({ storage: MEMORY, retry: FAST_RETRY, llm: llmConfig(t, provider, model, llm), ...config });
  await agent.start();
  return agent;
}

function fmt(v) {
  if (v instanceof Error) {
    const extra = ["code", "status", "retryable"].filter((k) => v[k] !== undefined).map((k) => `${k}=${JSON.stringify(v[k])}`);
    return `${v.name}: ${v.message}${extra.length ? ` [${extra.join(", ")}]` : ""}`;
  }
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 600 ? s.slice(0, 600) + "…" : s;
  } catch {
    return String(v);
  }
}

/** The error a call rejects (or throws) with; fails the case if it succeeds. */
async function errorOf(t, promiseOrFn, what = "the call") {
  let value;
  try {
    value = await (typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn);
  } catch (err) {
    return err;
  }
  t.assert.fail(`expected ${what} to fail, but it resolved with ${fmt(value)}`);
}

/** An AgentSessionsError with one of `codes`. */
function checkError(t, err, codes, ctx = "error") {
  const list = [].concat(codes);
  t.assert.ok(err instanceof Error, `${ctx}: expected an Error, got ${fmt(err)}`);
  t.assert.equal(err.name, "AgentSessionsError", `${ctx}: expected an AgentSessionsError, got ${fmt(err)}`);
  t.assert.ok(list.includes(err.code), `${ctx}: expected code ${list.join(" or ")}, got ${fmt(err)}`);
  t.assert.equal(typeof err.retryable, "boolean", `${ctx}: retryable should be a boolean (${fmt(err)})`);
  t.assert.equal(typeof err.message, "string");
  return err;
}

/** Drains agent.stream(...). A thrown stream error is returned as `error`; hook errors propagate. */
async function collect(makeIterable, onEvent) {
  const events = [];
  let error = null;
  let hookError = null;
  try {
    for await (const ev of makeIterable()) {
      events.push(ev);
      if (onEvent) {
        try {
          await onEvent(ev, events);
        } catch (e) {
          hookError = e;
          break;
        }
      }
    }
  } catch (e) {
    error = e;
  }
  if (hookError) throw hookError;
  const deltas = events.filter((e) => e?.type === "delta");
  return {
    events,
    error,
    deltas,
    text: deltas.map((d) => d.text).join(""),
    done: events.find((e) => e?.type === "done"),
    types: events.map((e) => e?.type),
  };
}

function noStreamError(t, s, ctx = "stream") {
  t.assert.ok(!s.error, `${ctx} failed: ${fmt(s.error)} (events so far: ${fmt(s.types)})`);
}

// Waits for something that must happen; the deadline only turns a hang into a message, so it is
// far above any normal latency (timing is never what a case asserts on the way).
async function waitFor(t, cond, { timeoutMs = 15_000, what = "condition" } = {}) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) t.assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

const roles = (history) => history.map((m) => m.role).join(",");
const pairs = (history) => history.map((m) => [m.role, m.content]);
const userTexts = (req) => req.messages.filter((m) => m.role === "user").map((m) => m.text);

async function runsOf(agent, sessionId) {
  const session = await agent.getSession(sessionId);
  return session.getRuns();
}

function checkUsage(t, usage, input, output, ctx = "usage") {
  t.assert.deepEqual(
    { inputTokens: usage?.inputTokens, outputTokens: usage?.outputTokens, totalTokens: usage?.totalTokens },
    { inputTokens: input, outputTokens: output, totalTokens: input + output },
    `${ctx}: the provider's numbers, not estimates (got ${fmt(usage)})`,
  );
}

/** What each provider's request must look like on the wire. */
function checkProviderRequest(t, provider, req, model, { stream }) {
  if (provider === "openai") {
    t.assert.equal(req.path, "/v1/chat/completions");
    t.assert.equal(req.headers.authorization, "Bearer sk-test");
    t.assert.equal(req.body.model, model);
    if (stream) t.assert.equal(req.body.stream, true, "stream: true in the body");
  } else if (provider === "anthropic") {
    t.assert.equal(req.path, "/v1/messages");
    t.assert.equal(req.headers["x-api-key"], "sk-ant-test");
    t.assert.ok(req.headers["anthropic-version"], "anthropic-version header");
    t.assert.equal(typeof req.body.max_tokens, "number", "max_tokens is required by Anthropic");
    t.assert.equal(req.body.model, model);
    if (stream) t.assert.equal(req.body.stream, true, "stream: true in the body");
  } else if (provider === "gemini") {
    const m = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(req.path);
    t.assert.ok(m, `gemini path ${req.path}`);
    t.assert.equal(decodeURIComponent(m[1]), model);
    t.assert.ok(req.headers["x-goog-api-key"] === "gm-test" || req.query.key === "gm-test", "gemini api key sent");
    if (stream) {
      t.assert.equal(m[2], "streamGenerateContent");
      t.assert.equal(req.query.alt, "sse", "Gemini streams SSE only with ?alt=sse");
    } else if (m[2] === "streamGenerateContent") {
      t.assert.equal(req.query.alt, "sse", "Gemini streams SSE only with ?alt=sse");
    }
  }
}

/**
 * After a failure or abort mid-stream: exactly one user and one assistant message; the assistant's
 * partial text is kept (at least what was yielded, nothing that was not sent) with `status`.
 */
async function checkPartial(t, agent, sessionId, { status, seen, full, userText }) {
  const h = await agent.getSessionHistory(sessionId);
  t.assert.deepEqual(h.filter((m) => m.role === "user").map((m) => m.content), [userText], "the user message, once");
  const assistants = h.filter((m) => m.role === "assistant");
  t.assert.equal(assistants.length, 1, `one assistant message with the partial text (history: ${fmt(pairs(h))})`);
  const a = assistants[0];
  t.assert.equal(a.status, status, `partial assistant message status (content ${fmt(a.content)})`);
  t.assert.ok(a.content.length > 0, "the partial text is kept, not dropped");
  t.assert.ok(a.content.startsWith(seen), `stored partial ${fmt(a.content)} holds what was yielded ${fmt(seen)}`);
  t.assert.ok(full.startsWith(a.content), `stored partial ${fmt(a.content)} is a prefix of what the provider sent`);
  return a;
}

/** The session still works after a failed/aborted call, and nothing was lost or duplicated. */
async function checkNextCallWorks(t, agent, sessionId, { firstUserText, firstAssistantStatus }) {
  const r = await agent.generate("What did I just say?", sessionId);
  t.assert.equal(r.content, `You said: "${firstUserText}"`, "the next call sees the earlier user message");
  const h = await agent.getSessionHistory(sessionId);
  t.assert.deepEqual(
    h.map((m) => [m.role, m.status]),
    [["user", "complete"], ["assistant", firstAssistantStatus], ["user", "complete"], ["assistant", "complete"]],
  );
  return r;
}

const LONG_REPLY = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu";

// ---------------------------------------------------------------------------------------------
// harness
// ---------------------------------------------------------------------------------------------

c("harness: the package exports Agent and SessionStore", async ({ lib, assert }) => {
  assert.equal(typeof lib.Agent, "function");
  assert.equal(typeof lib.SessionStore, "function");
});

c("harness: the mock server's control API scripts and logs by model name", async (t) => {
  const model = key("harness");
  await t.control.script(model, [{ reply: "scripted hello", usage: { input: 3, output: 2 } }]);
  const res = await fetch(`${t.mockUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-test" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });
  t.assert.equal(res.status, 200);
  const body = await res.json();
  t.assert.equal(body.choices[0].message.content, "scripted hello");
  t.assert.deepEqual(body.usage, { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
  const reqs = await t.control.requests(model);
  t.assert.equal(reqs.length, 1);
  t.assert.deepEqual(reqs[0].messages, [{ role: "user", text: "hi" }]);
});

// ---------------------------------------------------------------------------------------------
// Dexto, seed 000: "Working with Sessions"
// ---------------------------------------------------------------------------------------------

c("dexto-000: working memory within a session", async (t) => {
  const model = key("dexto-memory");
  const { Agent } = t.lib;
  // Snippet: only the import and the llm settings differ (plus memory storage, Dexto's default).
  const agent = new Agent({
    llm: { provider: "openai", model, apiKey: "sk-test", baseUrl: `${t.mockUrl}/v1` },
    storage: MEMORY,
  });
  await agent.start();

  const session = await agent.createSession();

  await agent.generate("My name is Sarah.", session.id);
  const response = await agent.generate("What is my name?", session.id);

  t.assert.equal(response.content, "Your name is Sarah.");

  const reqs = await t.control.requests(model);
  t.assert.equal(reqs.length, 2);
  t.assert.deepEqual(reqs[1].messages, [
    { role: "user", text: "My name is Sarah." },
    { role: "assistant", text: "Echo: My name is Sarah. (turn 1)" },
    { role: "user", text: "What is my name?" },
  ]);
  t.assert.deepEqual(pairs(await agent.getSessionHistory(session.id)), [
    ["user", "My name is Sarah."],
    ["assistant", "Echo: My name is Sarah. (turn 1)"],
    ["user", "What is my name?"],
    ["assistant", "Your name is Sarah."],
  ]);
});

c("dexto-000: a new session has no memory of another", async (t) => {
  const model = key("dexto-isolation");
  const { Agent } = t.lib;
  const agent = new Agent({ llm: { provider: "openai", model, apiKey: "sk-test", baseUrl: `${t.mockUrl}/v1` }, storage: MEMORY });
  await agent.start();
  const session = await agent.createSession();
  await agent.generate("My name is Sarah.", session.id);

  const newSession = await agent.createSession();
  const response = await agent.generate("What is my name?", newSession.id);

  t.assert.equal(response.content, "I don't have that information.");
  t.assert.notEqual(newSession.id, session.id);
  const reqs = await t.control.requests(model);
  t.assert.deepEqual(reqs[1].messages, [{ role: "user", text: "What is my name?" }], "nothing of the other session was sent");
  t.assert.deepEqual(pairs(await agent.getSessionHistory(newSession.id)), [
    ["user", "What is my name?"],
    ["assistant", "I don't have that information."],
  ]);
  t.assert.equal((await agent.getSessionHistory(session.id)).length, 2);
});

c("dexto-000: auto-generated and custom session ids", async (t) => {
  const agent = await makeAgent(t, { model: key("dexto-ids") });
  const session1 = await agent.createSession();
  t.assert.match(session1.id, /^sess_[0-9a-z]+$/i);
  const session2 = await agent.createSession("user-sarah-2024");
  t.assert.equal(session2.id, "user-sarah-2024");
  const r = await agent.generate("Hello there", session2.id);
  t.assert.equal(r.sessionId, "user-sarah-2024");
});

c("dexto-000: multi-turn conversation and history inspection", async (t) => {
  const model = key("dexto-multiturn");
  const agent = await makeAgent(t, { model });
  const session = await agent.createSession("demo");

  await agent.generate("I want to build a REST API in Node.js.", session.id);
  await agent.generate("What framework should I use?", session.id);
  const response = await agent.generate("Show me a simple example.", session.id);

  // The mock's reply counts the user turns it received: the LLM saw the full conversation.
  t.assert.equal(response.content, "Echo: Show me a simple example. (turn 3)");
  const reqs = await t.control.requests(model);
  t.assert.deepEqual(reqs.map((r) => r.messages.length), [1, 3, 5]);

  const history = await agent.getSessionHistory("demo");
  const lines = [];
  for (const message of history) {
    lines.push(`[${message.role}]: ${message.content.substring(0, 60)}...`);
  }
  t.assert.deepEqual(lines, [
    "[user]: I want to build a REST API in Node.js....",
    "[assistant]: Echo: I want to build a REST API in Node.js. (turn 1)...",
    "[user]: What framework should I use?...",
    "[assistant]: Echo: What framework should I use? (turn 2)...",
    "[user]: Show me a simple example....",
    "[assistant]: Echo: Show me a simple example. (turn 3)...",
  ]);
  t.assert.ok(history.every((m) => m.status === "complete"));
});

c("dexto-000: list, check, reset and delete sessions around generate", async (t) => {
  const agent = await makeAgent(t, { model: key("dexto-manage") });

  let session = await agent.getSession("user-sarah-2024");
  if (session) {
    t.assert.fail("a fresh agent has no sessions");
  } else {
    await agent.createSession("user-sarah-2024");
  }
  const demo = await agent.createSession("demo");
  await agent.generate("My name is Sarah.", demo.id);

  const sessions = await agent.listSessions();
  t.assert.deepEqual([...sessions].sort(), ["demo", "user-sarah-2024"]);

  await agent.resetConversation("demo");
  t.assert.ok(await agent.getSession("demo"), "session 'demo' still exists");
  t.assert.deepEqual(await agent.getSessionHistory("demo"), []);
  const after = await agent.generate("What is my name?", "demo");
  t.assert.equal(after.content, "I don't have that information.", "reset cleared the working memory");

  await agent.deleteSession("demo");
  t.assert.equal(await agent.getSession("demo"), null);
  t.assert.deepEqual(await agent.listSessions(), ["user-sarah-2024"]);

  // Pattern 3: session per task.
  const ticketId = 42;
  const sessionId = `ticket-${ticketId}`;
  await agent.createSession(sessionId);
  const r = await agent.generate("My printer is on fire", sessionId);
  t.assert.equal(r.sessionId, sessionId);
  await agent.deleteSession(sessionId);
  t.assert.equal(await agent.getSession(sessionId), null);
});

// ---------------------------------------------------------------------------------------------
// Dexto, seed 001: "Sessions"
// ---------------------------------------------------------------------------------------------

c("dexto-001: generate(text, { sessionId }) remembers the conversation", async (t) => {
  const model = key("dexto-options");
  const agent = await makeAgent(t, { model });
  const session = await agent.createSession();

  const response = await agent.generate("What is React?", {
    sessionId: session.id,
  });

  const followUp = await agent.generate("How does it differ from Vue?", {
    sessionId: session.id,
  });

  t.assert.equal(response.content, "Echo: What is React? (turn 1)");
  t.assert.equal(followUp.content, "Echo: How does it differ from Vue? (turn 2)");
  t.assert.equal(followUp.sessionId, session.id);
  const reqs = await t.control.requests(model);
  t.assert.deepEqual(userTexts(reqs[1]), ["What is React?", "How does it differ from Vue?"]);
});

c("dexto-001: the multi-user ChatBot class", async (t) => {
  const model = key("dexto-chatbot");
  const { Agent } = t.lib;
  const llm = { provider: "openai", model, apiKey: "sk-test", baseUrl: `${t.mockUrl}/v1` };

  // Verbatim apart from the TypeScript annotations, the import and the llm config.
  class ChatBot {
    agent;
    sessions = new Map();

    async initialize() {
      this.agent = new Agent({
        llm, storage: MEMORY,
      });
      await this.agent.start();
    }

    async handleMessage(userId, message) {
      // Get existing session or create new one
      let sessionId = this.sessions.get(userId);
      if (!sessionId) {
        const session = await this.agent.createSession(`user-${userId}`);
        sessionId = session.id;
        this.sessions.set(userId, sessionId);
      }

      // Generate response
      const response = await this.agent.generate(message, { sessionId });
      return response.content;
    }

    async resetUser(userId) {
      const sessionId = this.sessions.get(userId);
      if (sessionId) {
        await this.agent.resetConversation(sessionId);
      }
    }
  }

  // Usage
  const bot = new ChatBot();
  await bot.initialize();

  const response1 = await bot.handleMessage("alice", "Hi!");
  const response2 = await bot.handleMessage("bob", "Hello!");
  const response3 = await bot.handleMessage("alice", "What did I just say?");
  // alice's session remembers "Hi!", bob's is separate

  t.assert.equal(response1, "Echo: Hi! (turn 1)");
  t.assert.equal(response2, "Echo: Hello! (turn 1)", "bob starts from an empty session");
  t.assert.equal(response3, 'You said: "Hi!"');
  t.assert.deepEqual([...(await bot.agent.listSessions())].sort(), ["user-alice", "user-bob"]);
  t.assert.equal((await bot.agent.getSessionHistory("user-alice")).length, 4);
  t.assert.equal((await bot.agent.getSessionHistory("user-bob")).length, 2);

  await bot.resetUser("alice");
  t.assert.deepEqual(await bot.agent.getSessionHistory("user-alice"), []);
  t.assert.equal(await bot.handleMessage("alice", "What did I just say?"), "You haven't said anything before.");
  t.assert.equal((await bot.agent.getSessionHistory("user-bob")).length, 2, "bob untouched by alice's reset");
});

c("dexto-001: web-app, missing-session and resume-or-create patterns", async (t) => {
  const model = key("dexto-webapp");
  const agent = await makeAgent(t, { model });

  // The body of the Express handler.
  async function handleChat({ message, sessionId }) {
    let session;
    if (sessionId) {
      const existing = await agent.getSession(sessionId);
      session = existing ?? (await agent.createSession(sessionId));
    } else {
      session = await agent.createSession();
    }
    const response = await agent.generate(message, { sessionId: session.id });
    return { response: response.content, sessionId: session.id };
  }

  const data1 = await handleChat({ message: "Hello" });
  t.assert.match(data1.sessionId, /^sess_/);
  const data2 = await handleChat({ message: "What did I just say?", sessionId: data1.sessionId });
  t.assert.equal(data2.response, 'You said: "Hello"');
  t.assert.equal(data2.sessionId, data1.sessionId);
  const data3 = await handleChat({ message: "What did I just say?", sessionId: "client-chosen-1" });
  t.assert.equal(data3.response, "You haven't said anything before.");
  t.assert.equal(data3.sessionId, "client-chosen-1");

  // Handle missing sessions gracefully
  async function chat(message, sessionId) {
    let session = await agent.getSession(sessionId);
    if (!session) {
      session = await agent.createSession(sessionId);
    }
    return await agent.generate(message, { sessionId: session.id });
  }
  await agent.deleteSession("client-chosen-1");
  const again = await chat("My name is Ada.", "client-chosen-1");
  t.assert.equal(again.sessionId, "client-chosen-1");
  t.assert.equal((await agent.getSessionHistory("client-chosen-1")).length, 2, "a deleted session starts empty");

  // Resuming conversations
  async function resumeOrCreate(agent, userId) {
    const sessionId = `user-${userId}`;
    const sessions = await agent.listSessions();
    if (sessions.includes(sessionId)) {
      const history = await agent.getSessionHistory(sessionId);
      return { sessionId, history };
    } else {
      const session = await agent.createSession(sessionId);
      return { sessionId: session.id, history: [] };
    }
  }
  const first = await resumeOrCreate(agent, "123");
  t.assert.deepEqual(first, { sessionId: "user-123", history: [] });
  await agent.generate("My name is Sam.", first.sessionId);
  const resumed = await resumeOrCreate(agent, "123");
  t.assert.deepEqual(resumed.history.map((m) => m.role), ["user", "assistant"]);
  t.assert.equal((await agent.generate("What is my name?", resumed.sessionId)).content, "Your name is Sam.");
});

// ---------------------------------------------------------------------------------------------
// PraisonAI, seed 002
// ---------------------------------------------------------------------------------------------

c("praisonai-002: multi-agent shared session (Intake, Solution Expert, Follow-up)", async (t) => {
  const base = key("praison-shared");
  const { Agent, SessionStore } = t.lib;
  const store = await SessionStore.open({ storage: MEMORY });
  const llmFor = (suffix) => llmConfig(t, "openai", `${base}-${suffix}`);

  // Agent 1: Gathers information
  const intakeAgent = new Agent({
    name: "Intake",
    instructions: "Gather customer information and understand their issue.",
    llm: llmFor("intake"), store, retry: FAST_RETRY,
    session: "support-case-456",
  });

  // Agent 2: Provides solutions (sees intake conversation)
  const solutionAgent = new Agent({
    name: "Solution Expert",
    instructions: "Review the conversation history and provide solutions.",
    llm: llmFor("solution"), store, retry: FAST_RETRY,
    session: "support-case-456",
  });

  // Agent 3: Follows up (sees entire history)
  const followupAgent = new Agent({
    name: "Follow-up",
    instructions: "Check if the customer is satisfied based on the conversation.",
    llm: llmFor("followup"), store, retry: FAST_RETRY,
    session: "support-case-456",
  });
  await Promise.all([intakeAgent.start(), solutionAgent.start(), followupAgent.start()]);

  // Intake gathers info
  await intakeAgent.chat("I have a problem with my subscription");
  await intakeAgent.chat("It keeps charging me twice");

  // Solution agent sees the full context
  const solution = await solutionAgent.chat("Please provide a solution for this customer");

  // Follow-up agent sees everything
  const followup = await followupAgent.chat("Check if the customer is satisfied");

  t.assert.equal(solution.content, "Echo: Please provide a solution for this customer (turn 3)");
  t.assert.equal(solution.sessionId, "support-case-456");
  t.assert.equal(followup.content, "Echo: Check if the customer is satisfied (turn 4)");

  const [solutionReq] = await t.control.requests(`${base}-solution`);
  t.assert.ok(solutionReq, "the Solution Expert called its model");
  t.assert.equal(solutionReq.system, "Review the conversation history and provide solutions.");
  t.assert.deepEqual(solutionReq.messages, [
    { role: "user", text: "I have a problem with my subscription" },
    { role: "assistant", text: "Echo: I have a problem with my subscription (turn 1)" },
    { role: "user", text: "It keeps charging me twice" },
    { role: "assistant", text: "Echo: It keeps charging me twice (turn 2)" },
    { role: "user", text: "Please provide a solution for this customer" },
  ]);
  const intakeReqs = await t.control.requests(`${base}-intake`);
  t.assert.equal(intakeReqs.length, 2);
  t.assert.equal(intakeReqs[0].system, "Gather customer information and understand their issue.");

  const session = await store.get("support-case-456");
  t.assert.ok(session, "the shared session exists in the shared store");
  const history = await session.getHistory();
  t.assert.equal(roles(history), "user,assistant,user,assistant,user,assistant,user,assistant");
  t.assert.deepEqual(
    history.filter((m) => m.role === "assistant").map((m) => m.name),
    ["Intake", "Intake", "Solution Expert", "Follow-up"],
    "each assistant message carries its agent's name",
  );
  t.assert.ok(!history.some((m) => m.role === "system"), "instructions are not stored as messages");
  const runs = await session.getRuns();
  t.assert.deepEqual(runs.map((r) => r.agent), ["Intake", "Intake", "Solution Expert", "Follow-up"]);
  t.assert.ok(runs.every((r) => r.status === "completed"));
});

c("praisonai-002: an agent bound to a Session handle remembers across chat() calls", async (t) => {
  const model = key("praison-handle");
  const { Agent, SessionStore } = t.lib;
  const store = await SessionStore.open({ storage: MEMORY });
  const session = await store.getOrCreate("user-123");

  const agent = new Agent({
    name: "Support Agent",
    instructions: "You are a helpful support agent. Use conversation history for context.",
    llm: llmConfig(t, "openai", model), store, retry: FAST_RETRY,
    session, // Agent uses this session for memory
  });
  await agent.start();

  await agent.chat("My name is John and I need help with billing");
  const r = await agent.chat("What is my name?");
  t.assert.equal(r.content, "Your name is John.");
  t.assert.equal(r.sessionId, "user-123");
  const history = await (await store.get("user-123")).getHistory();
  t.assert.equal(roles(history), "user,assistant,user,assistant");
  t.assert.equal(history[1].name, "Support Agent");
});

c("praisonai-002: chat() creates the bound session on first use", async (t) => {
  const agent = await makeAgent(t, { model: key("praison-bound"), name: "Assistant", session: "bound-on-first-use" });
  t.assert.equal(await agent.getSession("bound-on-first-use"), null);
  const r = await agent.chat("Hi, I want to learn TypeScript");
  t.assert.equal(r.sessionId, "bound-on-first-use");
  t.assert.ok(await agent.getSession("bound-on-first-use"));
  t.assert.equal((await agent.chat("What did I just say?")).content, 'You said: "Hi, I want to learn TypeScript"');
});

// ---------------------------------------------------------------------------------------------
// providers: generate and stream against each wire format
// ---------------------------------------------------------------------------------------------

for (const provider of ["openai", "anthropic", "gemini"]) {
  c(`${provider}: generate returns content, provider usage, finishReason and ids; stores the turn`, async (t) => {
    const model = key(`${provider}-generate`);
    const reply = `Hello from ${provider}.`;
    await t.control.script(model, [{ reply, usage: { input: 11, output: 7 } }]);
    const agent = await makeAgent(t, { provider, model, name: "helper", instructions: "Be brief." });
    const session = await agent.createSession();

    const r = await agent.generate("Say hello.", session.id);

    t.assert.equal(r.content, reply);
    checkUsage(t, r.usage, 11, 7);
    t.assert.match(String(r.finishReason), STOP_RE);
    t.assert.equal(r.sessionId, session.id);
    t.assert.equal(r.model, model);
    t.assert.equal(typeof r.runId, "string");
    t.assert.equal(typeof r.messageId, "string");
    t.assert.ok(!r.toolCalls || r.toolCalls.length === 0, "no tool calls");

    const reqs = await t.control.requests(model);
    t.assert.equal(reqs.length, 1);
    checkProviderRequest(t, provider, reqs[0], model, { stream: false });
    t.assert.equal(reqs[0].system, "Be brief.", "instructions go out as the system prompt");
    t.assert.deepEqual(reqs[0].messages, [{ role: "user", text: "Say hello." }]);

    const history = await agent.getSessionHistory(session.id);
    t.assert.deepEqual(pairs(history), [["user", "Say hello."], ["assistant", reply]]);
    t.assert.equal(history[1].id, r.messageId);
    t.assert.equal(history[1].status, "complete");
    t.assert.equal(history[1].name, "helper");
    t.assert.equal(history[1].runId, r.runId);
    t.assert.equal(history[0].status, "complete");

    const runs = await runsOf(agent, session.id);
    t.assert.equal(runs.length, 1);
    t.assert.equal(runs[0].id, r.runId);
    t.assert.equal(runs[0].status, "completed");
    t.assert.equal(runs[0].attempts, 1);
    t.assert.equal(runs[0].provider, provider);
    t.assert.equal(runs[0].model, model);
    t.assert.equal(runs[0].agent, "helper");
    t.assert.equal(typeof runs[0].durationMs, "number");
    checkUsage(t, runs[0].usage, 11, 7, "run usage");
  });

  c(`${provider}: stream yields start, deltas, done; assistant stored before done`, async (t) => {
    const model = key(`${provider}-stream`);
    const reply = `Streaming hello from ${provider} in several words.`;
    await t.control.script(model, [{ reply, usage: { input: 13, output: 9 } }]);
    const agent = await makeAgent(t, { provider, model, name: "streamer", instructions: "Stream it." });
    const session = await agent.createSession();

    let storedAtDone = null;
    const s = await collect(
      () => agent.stream("Stream please.", { sessionId: session.id }),
      async (ev) => {
        if (ev.type === "done") storedAtDone = await agent.getSessionHistory(session.id);
      },
    );
    noStreamError(t, s);

    t.assert.ok(s.types.every((ty) => ["start", "delta", "tool_call", "done"].includes(ty)), `event types ${fmt(s.types)}`);
    t.assert.equal(s.types[0], "start");
    t.assert.equal(typeof s.events[0].runId, "string");
    t.assert.equal(s.types.filter((ty) => ty === "start").length, 1);
    t.assert.ok(s.deltas.length >= 2, `several deltas (got ${s.deltas.length})`);
    t.assert.equal(s.text, reply);
    t.assert.equal(s.types.at(-1), "done");
    t.assert.equal(s.types.filter((ty) => ty === "done").length, 1);

    const r = s.done.result;
    t.assert.equal(r.content, reply);
    checkUsage(t, r.usage, 13, 9);
    t.assert.match(String(r.finishReason), STOP_RE);
    t.assert.equal(r.runId, s.events[0].runId);
    t.assert.equal(r.sessionId, session.id);
    t.assert.equal(r.model, model);

    t.assert.ok(storedAtDone, "done was yielded");
    t.assert.deepEqual(pairs(storedAtDone), [["user", "Stream please."], ["assistant", reply]], "stored before done");
    t.assert.equal(storedAtDone[1].status, "complete");
    t.assert.equal(storedAtDone[1].id, r.messageId);
    t.assert.equal(storedAtDone[1].name, "streamer");

    const reqs = await t.control.requests(model);
    t.assert.equal(reqs.length, 1);
    checkProviderRequest(t, provider, reqs[0], model, { stream: true });
    t.assert.equal(reqs[0].system, "Stream it.");

    const runs = await runsOf(agent, session.id);
    t.assert.equal(runs.length, 1);
    t.assert.equal(runs[0].status, "completed");
    checkUsage(t, runs[0].usage, 13, 9, "run usage");
  });
}

c("anthropic: dangerouslyAllowBrowser sends anthropic-dangerous-direct-browser-access: true", async (t) => {
  const model = key("anthropic-browser");
  const agent = await makeAgent(t, { provider: "anthropic", model, llm: { dangerouslyAllowBrowser: true } });
  const session = await agent.createSession();
  await agent.generate("Hi", session.id);
  const [req] = await t.control.requests(model);
  t.assert.equal(req.headers["anthropic-dangerous-direct-browser-access"], "true");
  t.assert.equal(req.headers["x-api-key"], "sk-ant-test");
  t.assert.ok(req.headers["anthropic-version"]);
});

c("llm options: headers, maxTokens and temperature reach each provider", async (t) => {
  for (const provider of ["openai", "anthropic", "gemini"]) {
    const model = key(`${provider}-options`);
    const agent = await makeAgent(t, {
      provider, model, llm: { headers: { "x-trace-id": "trace-123" }, maxTokens: 123, temperature: 0.25 },
    });
    const session = await agent.createSession();
    await agent.generate("Hi", session.id);
    const [req] = await t.control.requests(model);
    t.assert.ok(req, `${provider}: request sent`);
    t.assert.equal(req.headers["x-trace-id"], "trace-123", `${provider}: custom header`);
    if (provider === "openai") {
      t.assert.equal(req.body.max_tokens ?? req.body.max_completion_tokens, 123, "openai max tokens");
      t.assert.equal(req.body.temperature, 0.25, "openai temperature");
    } else if (provider === "anthropic") {
      t.assert.equal(req.body.max_tokens, 123, "anthropic max_tokens");
      t.assert.equal(req.body.temperature, 0.25, "anthropic temperature");
    } else {
      t.assert.equal(req.body.generationConfig?.maxOutputTokens, 123, "gemini maxOutputTokens");
      t.assert.equal(req.body.generationConfig?.temperature, 0.25, "gemini temperature");
    }
  }
});

c("mock provider: offline generate remembers within a session, not across", async (t) => {
  const agent = await makeAgent(t, { provider: "mock", model: key("offline") });
  const a = await agent.createSession();
  const b = await agent.createSession();
  await agent.generate("My name is Sarah.", a.id);
  t.assert.equal((await agent.generate("What is my name?", a.id)).content, "Your name is Sarah.");
  const other = await agent.generate("What is my name?", { sessionId: b.id });
  // The offline model may add a sentence; the Dexto answer must lead.
  t.assert.ok(other.content.startsWith("I don't have that information."), `got ${fmt(other.content)}`);
  t.assert.equal(roles(await agent.getSessionHistory(a.id)), "user,assistant,user,assistant");
  t.assert.equal(typeof other.usage.totalTokens, "number");
});

c("mock provider: offline stream yields deltas and done", async (t) => {
  const agent = await makeAgent(t, { provider: "mock", model: key("offline-stream"), llm: { chunkDelayMs: 1 } });
  const session = await agent.createSession();
  await agent.generate("My name is Sarah.", session.id);
  const s = await collect(() => agent.stream("What is my name?", { sessionId: session.id }));
  noStreamError(t, s);
  t.assert.equal(s.types[0], "start");
  t.assert.ok(s.deltas.length >= 1);
  t.assert.equal(s.text, "Your name is Sarah.");
  t.assert.equal(s.done?.result.content, "Your name is Sarah.");
  t.assert.equal((await agent.getSessionHistory(session.id)).length, 4);
});

// ---------------------------------------------------------------------------------------------
// tool calls
// ---------------------------------------------------------------------------------------------

c("tools: openai generate surfaces tool calls in the result and stores them", async (t) => {
  const model = key("tools-openai");
  await t.control.script(model, [{ toolCalls: [{ id: "call_weather_1", name: "get_weather", arguments: { city: "Paris", unit: "c" } }] }]);
  const agent = await makeAgent(t, { model });
  const session = await agent.createSession();
  const r = await agent.generate("Weather in Paris?", session.id);
  t.assert.ok(Array.isArray(r.toolCalls), `toolCalls in the result (${fmt(r)})`);
  t.assert.equal(r.toolCalls.length, 1);
  t.assert.equal(r.toolCalls[0].id, "call_weather_1");
  t.assert.equal(r.toolCalls[0].name, "get_weather");
  t.assert.equal(typeof r.toolCalls[0].arguments, "string");
  t.assert.deepEqual(JSON.parse(r.toolCalls[0].arguments), { city: "Paris", unit: "c" });
  t.assert.match(String(r.finishReason), TOOL_RE);
  const h = await agent.getSessionHistory(session.id);
  t.assert.equal(roles(h), "user,assistant");
  t.assert.equal(h[1].status, "complete");
  t.assert.deepEqual(
    h[1].toolCalls?.map((tc) => ({ id: tc.id, name: tc.name, args: JSON.parse(tc.arguments) })),
    [{ id: "call_weather_1", name: "get_weather", args: { city: "Paris", unit: "c" } }],
  );
});

c("tools: openai stream yields tool_call events with the argument fragments joined", async (t) => {
  const model = key("tools-openai-stream");
  await t.control.script(model, [{
    toolCalls: [
      { id: "call_a", name: "lookup", arguments: { query: "subscription double charge", limit: 5 } },
      { id: "call_b", name: "refund", arguments: { invoice: "INV-77" } },
    ],
  }]);
  const agent = await makeAgent(t, { model });
  const session = await agent.createSession();
  const s = await collect(() => agent.stream("Fix my billing", { sessionId: session.id }));
  noStreamError(t, s);
  const calls = s.events.filter((e) => e.type === "tool_call").map((e) => e.toolCall);
  t.assert.deepEqual(
    calls.map((tc) => ({ id: tc.id, name: tc.name, args: JSON.parse(tc.arguments) })),
    [
      { id: "call_a", name: "lookup", args: { query: "subscription double charge", limit: 5 } },
      { id: "call_b", name: "refund", args: { invoice: "INV-77" } },
    ],
  );
  t.assert.equal(s.types.at(-1), "done");
  t.assert.deepEqual(s.done.result.toolCalls.map((tc) => tc.id), ["call_a", "call_b"]);
  t.assert.match(String(s.done.result.finishReason), TOOL_RE);
  const h = await agent.getSessionHistory(session.id);
  t.assert.deepEqual(h[1].toolCalls?.map((tc) => tc.name), ["lookup", "refund"]);
});

c("tools: anthropic stream yields tool_use as tool_call events", async (t) => {
  const model = key("tools-anthropic-stream");
  await t.control.script(model, [{ reply: "Let me check.", toolCalls: [{ id: "toolu_1", name: "get_weather", arguments: { city: "Oslo" } }] }]);
  const agent = await makeAgent(t, { provider: "anthropic", model });
  const session = await agent.createSession();
  const s = await collect(() => agent.stream("Weather in Oslo?", { sessionId: session.id }));
  noStreamError(t, s);
  t.assert.equal(s.text, "Let me check.");
  const calls = s.events.filter((e) => e.type === "tool_call").map((e) => e.toolCall);
  t.assert.equal(calls.length, 1);
  t.assert.equal(calls[0].id, "toolu_1");
  t.assert.equal(calls[0].name, "get_weather");
  t.assert.deepEqual(JSON.parse(calls[0].arguments), { city: "Oslo" });
  t.assert.equal(s.done.result.content, "Let me check.");
  t.assert.equal(s.done.result.toolCalls?.length, 1);
  const h = await agent.getSessionHistory(session.id);
  t.assert.equal(h[1].content, "Let me check.");
  t.assert.equal(h[1].toolCalls?.[0]?.id, "toolu_1");
});

c("tools: gemini generate surfaces functionCall parts as tool calls", async (t) => {
  const model = key("tools-gemini");
  await t.control.script(model, [{ toolCalls: [{ name: "get_time", arguments: { tz: "UTC" } }] }]);
  const agent = await makeAgent(t, { provider: "gemini", model });
  const session = await agent.createSession();
  const r = await agent.generate("What time is it?", session.id);
  t.assert.equal(r.toolCalls?.length, 1, `toolCalls in the result (${fmt(r)})`);
  t.assert.equal(r.toolCalls[0].name, "get_time");
  t.assert.deepEqual(JSON.parse(r.toolCalls[0].arguments), { tz: "UTC" });
  t.assert.ok(typeof r.toolCalls[0].id === "string" && r.toolCalls[0].id.length > 0, "an id even though Gemini sends none");
  const h = await agent.getSessionHistory(session.id);
  t.assert.equal(h[1].toolCalls?.[0]?.name, "get_time");
});

// ---------------------------------------------------------------------------------------------
// durability invariants
// ---------------------------------------------------------------------------------------------

c("invariant: the user message is stored before the request is sent", async (t) => {
  const model = key("user-first");
  await t.control.script(model, [{ delayMs: 500, reply: "late reply" }]);
  const agent = await makeAgent(t, { model });
  const session = await agent.createSession();
  const p = agent.generate("Remember me.", session.id);
  p.catch(() => {});
  await waitFor(t, async () => (await t.control.requests(model)).length === 1, { what: "the request to reach the server" });
  const during = await agent.getSessionHistory(session.id);
  t.assert.deepEqual(pairs(during), [["user", "Remember me."]], "while the LLM works, history holds the user message only");
  const r = await p;
  t.assert.equal(r.content, "late reply");
  t.assert.deepEqual(pairs(await agent.getSessionHistory(session.id)), [["user", "Remember me."], ["assistant", "late reply"]]);
});

c("invariant: a failed call keeps the user message, adds no complete answer, and the session still works", async (t) => {
  const model = key("fail-keeps-user");
  await t.control.script(model, [{ status: 400 }]);
  const agent = await makeAgent(t, { model });
  const session = await agent.createSession();
  const err = await errorOf(t, agent.generate("Remember: 42.", session.id));
  checkError(t, err, "LLM_HTTP");
  const [req] = await t.control.requests(model);
  t.assert.deepEqual(userTexts(req), ["Remember: 42."], "the request carried the user message");
  const h = await agent.getSessionHistory(session.id);
  t.assert.deepEqual(h.filter((m) => m.role === "user").map((m) => m.content), ["Remember: 42."]);
  t.assert.equal(h.filter((m) => m.role === "assistant" && m.status === "complete").length, 0, "no answer passed off as complete");

  const r = await agent.generate("What did I just say?", session.id);
  t.assert.equal(r.content, 'You said: "Remember: 42."');
  const after = await agent.getSessionHistory(session.id);
  t.assert.deepEqual(after.filter((m) => m.role === "user").map((m) => m.content), ["Remember: 42.", "What did I just say?"]);
  t.assert.deepEqual(after.filter((m) => m.status === "complete" && m.role === "assistant").map((m) => m.content), [r.content]);
  const runs = await runsOf(agent, session.id);
  t.assert.deepEqual(runs.map((x) => x.status), ["failed", "completed"]);
});

// ---------------------------------------------------------------------------------------------
// provider errors
// ---------------------------------------------------------------------------------------------

c("errors: openai HTTP 400 → LLM_HTTP with status and the provider's message, not retried", async (t) => {
  const model = key("err-openai-400");
  const message = "This model's maximum context length is 5 tokens.";
  await t.control.script(model, [
    { status: 400, body: { error: { message, type: "invalid_request_error", param: "messages", code: "context_length_exceeded" } } },
    { reply: "must not be reached" },
  ]);
  const agent = await makeAgent(t, { model });
  const session = await agent.createSession();
  const err = checkError(t, await errorOf(t, agent.generate("Hi", session.id)), "LLM_HTTP");
  t.assert.equal(err.status, 400);
  t.assert.equal(err.retryable, false);
  t.assert.ok(err.message.includes(message), `message carries the provider's: ${err.message}`);
  t.assert.equal((await t.control.requests(model)).length, 1);
  const runs = await runsOf(agent, session.id);
  t.assert.equal(runs.length, 1);
  t.assert.equal(runs[0].status, "failed");
  t.assert.equal(runs[0].errorCode, "LLM_HTTP");
  t.assert.equal(runs[0].attempts, 1);
});

c("errors: anthropic error body → status and the provider's message", async (t) => {
  const model = key("err-anthropic");
  const message = "messages.0.content: text content blocks must be non-empty";
  await t.control.script(model, [{ status: 400, body: { type: "error", error: { type: "invalid_request_error", message } } }]);
  const agent = await makeAgent(t, { provider: "anthropic", model });
  const session = await agent.createSession();
  const err = checkError(t, await errorOf(t, agent.generate("Hi", session.id)), "LLM_HTTP");
  t.assert.equal(err.status, 400);
  t.assert.ok(err.message.includes(message), `message carries the provider's: ${err.message}`);
  t.assert.equal((await t.control.requests(model)).length, 1);
});

c("errors: gemini error body → status and the provider's message", async (t) => {
  const model = key("err-gemini");
  const message = "API key not valid. Please pass a valid API key.";
  await t.control.script(model, [{ status: 400, body: { error: { code: 400, message, status: "INVALID_ARGUMENT" } } }]);
  const agent = await makeAgent(t, { provider: "gemini", model });
  const session = await agent.createSession();
  const err = checkError(t, await errorOf(t, agent.generate("Hi", session.id)), "LLM_HTTP");
  t.assert.equal(err.status, 400);
  t.assert.ok(err.message.includes(message), `message carries the provider's: ${err.message}`);
  t.assert.equal((await t.control.requests(model)).length, 1);
});

c("errors: 400/401/403/404/422 are never retried", async (t) => {
  for (const status of [400, 401, 403, 404, 422]) {
    const model = key(`no-retry-${status}`);
    await t.control.script(model, [{ status }, { reply: "a retry would get this" }]);
    const agent = await makeAgent(t, { model });
    const session = await agent.createSession();
    const err = checkError(t, await errorOf(t, agent.generate("Hi", session.id), `HTTP ${status}`), "LLM_HTTP", `HTTP ${status}`);
    t.assert.equal(err.status, status);
    t.assert.equal(err.retryable, false, `HTTP ${status} is not retryable`);
    t.assert.ok(err.message.includes(`Mock error ${status}`), `HTTP ${status}: provider message in ${fmt(err.message)}`);
    t.assert.equal((await t.control.requests(model)).length, 1, `HTTP ${status}: exactly one request`);
  }
});

// ---------------------------------------------------------------------------------------------
// retries
// ---------------------------------------------------------------------------------------------

c("retry: 408/409/500/503 are retried and the turn is stored once", async (t) => {
  for (const status of [408, 409, 500, 503]) {
    const model = key(`retry-${status}`);
    await t.control.script(model, [{ status }, { reply: "recovered" }]);
    const agent = await makeAgent(t, { model });
    const session = await agent.createSession();
    const r = await agent.generate("Try again", session.id);
    t.assert.equal(r.content, "recovered", `HTTP ${status}`);
    const reqs = await t.control.requests(model);
    t.assert.equal(reqs.length, 2, `HTTP ${status}: one retry`);
    for (const req of reqs) t.assert.deepEqual(userTexts(req), ["Try again"], `HTTP ${status}: the user message is not duplicated on retry`);
    t.assert.deepEqual(pairs(await agent.getSessionHistory(session.id)), [["user", "Try again"], ["assistant", "recovered"]]);
    const runs = await runsOf(agent, session.id);
    t.assert.equal(runs.length, 1, `HTTP ${status}: one run`);
    // The mock closes every connection after its response, so no browser resends a 408 on a
    // reused connection by itself: every retry is the library's.
    t.assert.equal(runs[0].attempts, 2, `HTTP ${status}: two attempts recorded`);
    t.assert.equal(runs[0].status, "completed");
  }
});

c("retry: 429 honours retry-after-ms", async (t) => {
  const model = key("retry-after-ms");
  await t.control.script(model, [{ status: 429, headers: { "retry-after-ms": "300" } }, { reply: "after the wait" }]);
  const agent = await makeAgent(t, { model });
  const session = await agent.createSession();
  const r = await agent.generate("Hi", session.id);
  t.assert.equal(r.content, "after the wait");
  const reqs = await t.control.requests(model);
  t.assert.equal(reqs.length, 2);
  const gap = reqs[1].time - reqs[0].time;
  t.assert.ok(gap >= 280, `waited ${gap} ms, asked for 300`);
  t.assert.ok(gap < 1500, `waited ${gap} ms, far more than asked`);
  t.assert.equal((await runsOf(agent, session.id))[0].attempts, 2);
});

c("retry: 429 honours Retry-After in seconds", async (t) => {
  const model = key("retry-after-s");
  await t.control.script(model, [{ status: 429, headers: { "Retry-After": "1" } }, { reply: "after a second" }]);
  const agent = await makeAgent(t, { model });
  const session = await agent.createSession();
  const r = await agent.generate("Hi", session.id);
  t.assert.equal(r.content, "after a second");
  const reqs = await t.control.requests(model);
  t.assert.equal(reqs.length, 2);
  const gap = reqs[1].time - reqs[0].time;
  t.assert.ok(gap >= 950, `waited ${gap} ms, asked for 1 s`);
});

c("retry: exhausted 429s → LLM_RATE_LIMITED (status 429, retryable), maxRetries+1 requests", async (t) => {
  const model = key("retry-429-exhausted");
  const busy = { status: 429, headers: { "retry-after-ms": "10" } };
  await t.control.script(model, [busy, busy, busy, { reply: "one too many" }]);
  const agent = await makeAgent(t, { model });
  const session = await agent.createSession();
  const err = checkError(t, await errorOf(t, agent.generate("Hi", session.id)), "LLM_RATE_LIMITED");
  t.assert.equal(err.status, 429);
  t.assert.equal(err.retryable, true);
  t.assert.equal((await t.control.requests(model)).length, 3, "default maxRetries 2 → 3 requests");
  const runs = await runsOf(agent, session.id);
  t.assert.equal(runs[0].status, "failed");
  t.assert.equal(runs[0].attempts, 3);
  t.assert.equal(runs[0].errorCode, "LLM_RATE_LIMITED");
});

c("retry: maxRetries is respected (0 and 3)", async (t) => {
  for (const maxRetries of [0, 3]) {
    const model = key(`max-retries-${maxRetries}`);
    await t.control.script(model, Array.from({ length: 6 }, () => ({ status: 500 })));
    const agent = await makeAgent(t, { model, retry: { ...FAST_RETRY, maxRetries } });
    const session = await agent.createSession();
    const err = checkError(t, await errorOf(t, agent.generate("Hi", session.id)), "LLM_HTTP", `maxRetries ${maxRetries}`);
    t.assert.equal(err.status, 500);
    t.assert.equal((await t.control.requests(model)).length, maxRetries + 1, `maxRetries ${maxRetries}`);
    t.assert.equal((await runsOf(agent, session.id))[0].attempts, maxRetries + 1);
  }
});

c("retry: the default maxRetries is 2", async (t) => {
  const model = key("default-retries");
  await t.control.script(model, Array.from({ length: 5 }, () => ({ status: 503 })));
  const agent = await makeAgent(t, { model, retry: { baseDelayMs: 10, maxDelayMs: 50 } });
  const session = await agent.createSession();
  const err = checkError(t, await errorOf(t, agent.generate("Hi", session.id)), "LLM_HTTP");
  t.assert.equal(err.status, 503);
  t.assert.equal(err.retryable, true);
  t.assert.equal((await t.control.requests(model)).length, 3);
});

c("retry: network errors are retried, then LLM_NETWORK", async (t) => {
  // Nothing listens on port 9 (and runtimes refuse it outright): fetch itself rejects.
  const agent = await makeAgent(t, { model: key("network"), llm: { baseUrl: "http://127.0.0.1:9/v1" } });
  let retries = 0;
  agent.on("llm:retry", () => retries++);
  const session = await agent.createSession();
  const err = checkError(t, await errorOf(t, agent.generate("Anyone there?", session.id)), "LLM_NETWORK");
  t.assert.equal(err.retryable, true);
  t.assert.equal(retries, 2, "two llm:retry events with the default maxRetries");
  const runs = await runsOf(agent, session.id);
  t.assert.equal(runs[0].attempts, 3);
  t.assert.equal(runs[0].status, "failed");
  t.assert.equal(runs[0].errorCode, "LLM_NETWORK");
  t.assert.deepEqual(pairs(await agent.getSessionHistory(session.id)).filter(([r]) => r === "user"), [["user", "Anyone there?"]]);
});

c("retry: stream() retries before the first byte and yields one clean answer", async (t) => {
  const model = key("stream-retry");
  await t.control.script(model, [{ status: 503 }, { reply: "clean answer here" }]);
  const agent = await makeAgent(t, { model });
  const session = await agent.createSession();
  const s = await collect(() => agent.stream("Hi", { sessionId: session.id }));
  noStreamError(t, s);
  t.assert.equal(s.types.filter((x) => x === "start").length, 1);
  t.assert.equal(s.text, "clean answer here");
  t.assert.equal(s.done?.result.content, "clean answer here");
  t.assert.equal((await t.control.requests(model)).length, 2);
  t.assert.deepEqual(pairs(await agent.getSessionHistory(session.id)), [["user", "Hi"], ["assistant", "clean answer here"]]);
});

c("retry: a mid-stream disconnect is not retried; partial stored as error; next call works", async (t) => {
  const model = key("stream-disconnect");
  // No step queued for a retry: the request count shows one, and the next call gets the default reply.
  // The cut waits until the stream has yielded text (`holdCut`): a browser may otherwise see the
  // reset before the chunks ahead of it, and a cut before any text is rightly retried.
  await t.control.script(model, [{ reply: LONG_REPLY, disconnectAfterChunks: 4, holdCut: true }]);
  const agent = await makeAgent(t, { model });
  const session = await agent.createSession();
  const s = await collect(() => agent.stream("Tell me the alphabet", { sessionId: session.id }), releaseOnDelta(t, model));
  t.assert.ok(s.error, `the stream fails (events: ${fmt(s.types)}, text: ${fmt(s.text)}, requests: ${(await t.control.requests(model)).length})`);
  checkError(t, s.error, ["LLM_NETWORK", "LLM_STREAM_TRUNCATED"]);
  t.assert.ok(!s.done, "no done event after a failure");
  t.assert.equal((await t.control.requests(model)).length, 1, "never retried after the first streamed byte");
  await checkPartial(t, agent, session.id, { status: "error", seen: s.text, full: LONG_REPLY, userText: "Tell me the alphabet" });
  await checkNextCallWorks(t, agent, session.id, { firstUserText: "Tell me the alphabet", firstAssistantStatus: "error" });
});

// Unlike the SDKs, which read a non-streamed body outside their retry loop: nothing of a
// generate() reply reaches the caller before it is whole, so a body cut off is retried.
c("retry: generate() whose response breaks off mid-body is retried; one reply stored", async (t) => {
  const model = key("generate-disconnect");
  await t.control.script(model, [{ reply: LONG_REPLY, disconnectAfterChunks: 4 }, { reply: "the retry gets this" }]);
  const agent = await makeAgent(t, { model });
  const session = await agent.createSession();
  const retries = [];
  agent.on("llm:retry", (e) => retries.push(e));
  const r = await agent.generate("Tell me the alphabet", session.id);
  t.assert.equal(r.content, "the retry gets this");
  t.assert.equal((await t.control.requests(model)).length, 2, "one retry");
  t.assert.equal(retries.length, 1, "one llm:retry event");
  t.assert.ok(["LLM_NETWORK", "LLM_STREAM_TRUNCATED", "LLM_BAD_RESPONSE"].includes(retries[0].error.code), `the retried failure: ${fmt(retries[0].error)}`);
  t.assert.deepEqual(pairs(await agent.getSessionHistory(session.id)), [["user", "Tell me the alphabet"], ["assistant", "the retry gets this"]]);
  t.assert.equal((await runsOf(agent, session.id))[0].attempts, 2);
});

// ---------------------------------------------------------------------------------------------
// aborts and timeouts
// ---------------------------------------------------------------------------------------------

c("abort: an AbortSignal cuts a backoff wait short (ABORTED quickly)", async (t) => {
  const model = key("abort-backoff");
  // The server asks for a 60 s wait (the cap): an abort that did not cut it short would end the
  // case by its own timeout, so "promptly" has a margin of tens of seconds.
  const busy = { status: 429, headers: { "retry-after-ms": "60000" } };
  await t.control.script(model, [busy, busy, busy]);
  const agent = await makeAgent(t, { model, retry: { maxRetries: 2, baseDelayMs: 2000, maxDelayMs: 5000 } });
  const session = await agent.createSession();
  const controller = new AbortController();
  const p = agent.generate("Hi", { sessionId: session.id, signal: controller.signal });
  p.catch(() => {});
  await waitFor(t, async () => (await t.control.requests(model)).length === 1, { what: "the first attempt" });
  await sleep(100); // now waiting out the 429's retry-after
  const t0 = Date.now();
  controller.abort();
  const err = checkError(t, await errorOf(t, p), "ABORTED");
  const took = Date.now() - t0;
  t.assert.ok(took < 10_000, `ABORTED ${took} ms after abort() (the backoff was 60 s)`);
  t.assert.equal((await t.control.requests(model)).length, 1, "no further attempt after abort");
  t.assert.equal(err.retryable, false);
  const runs = await runsOf(agent, session.id);
  t.assert.equal(runs[0].status, "aborted");
  t.assert.deepEqual(pairs(await agent.getSessionHistory(session.id)).filter(([r]) => r === "user"), [["user", "Hi"]]);
});

c("abort: an AbortSignal cancels a request waiting for its first byte", async (t) => {
  const model = key("abort-first-byte");
  await t.control.script(model, [{ firstByteDelayMs: 60_000 }]);
  const agent = await makeAgent(t, { model });
  const session = await agent.createSession();
  const controller = new AbortController();
  const p = agent.generate("Slow one", { sessionId: session.id, signal: controller.signal });
  p.catch(() => {});
  await waitFor(t, async () => (await t.control.requests(model)).length === 1, { what: "the request" });
  await sleep(50);
  const t0 = Date.now();
  controller.abort();
  checkError(t, await errorOf(t, p), "ABORTED");
  t.assert.ok(Date.now() - t0 < 10_000, `ABORTED ${Date.now() - t0} ms after abort() (the first byte was 60 s away)`);
  t.assert.equal((await t.control.requests(model)).length, 1);
  t.assert.equal((await runsOf(agent, session.id))[0].status, "aborted");
  const r = await agent.generate("Quick one", session.id);
  t.assert.equal(r.content, "Echo: Quick one (turn 2)", "the session works after an abort");
});

c("abort: mid-stream → ABORTED, partial stored as interrupted, next call works", async (t) => {
  const model = key("abort-stream");
  await t.control.script(model, [{ reply: LONG_REPLY, chunkDelayMs: 60 }]);
  const agent = await makeAgent(t, { model });
  const session = await agent.createSession();
  const controller = new AbortController();
  let abortedAt = 0;
  const s = await collect(
    () => agent.stream("Tell me the alphabet", { sessionId: session.id, signal: controller.signal }),
    (ev, events) => {
      if (ev.type === "delta" && events.filter((e) => e.type === "delta").length === 2 && !abortedAt) {
        abortedAt = Date.now();
        controller.abort();
      }
    },
  );
  t.assert.ok(abortedAt, `aborted after two deltas (events: ${fmt(s.types)}, error: ${fmt(s.error)})`);
  t.assert.ok(s.error, "the stream ends with an error");
  checkError(t, s.error, "ABORTED");
  t.assert.ok(s.text.length < LONG_REPLY.length, "ABORTED before the stream would have ended");
  t.assert.ok(!s.done, "no done after abort");
  t.assert.ok(s.text.length < LONG_REPLY.length, "the stream stopped early");
  await checkPartial(t, agent, session.id, { status: "interrupted", seen: s.text, full: LONG_REPLY, userText: "Tell me the alphabet" });
  t.assert.equal((await runsOf(agent, session.id))[0].status, "aborted");
  await checkNextCallWorks(t, agent, session.id, { firstUserText: "Tell me the alphabet", firstAssistantStatus: "interrupted" });
});

c("timeout: a stalled stream ends in LLM_TIMEOUT via idleTimeoutMs; partial stored as error", async (t) => {
  const model = key("stall");
  await t.control.script(model, [{ reply: LONG_REPLY, stallAfterChunks: 4 }]);
  const agent = await makeAgent(t, { model, idleTimeoutMs: 300 });
  const session = await agent.createSession();
  const t0 = Date.now();
  const s = await collect(() => agent.stream("Tell me the alphabet", { sessionId: session.id }));
  const took = Date.now() - t0;
  t.assert.ok(s.error, "the stream fails");
  checkError(t, s.error, "LLM_TIMEOUT");
  // The stall is endless: without the idle timeout the case would run into its own deadline.
  t.assert.ok(took >= 280, `timed out after ${took} ms with idleTimeoutMs 300`);
  t.assert.equal((await t.control.requests(model)).length, 1, "not retried after the first streamed byte");
  await checkPartial(t, agent, session.id, { status: "error", seen: s.text, full: LONG_REPLY, userText: "Tell me the alphabet" });
  await checkNextCallWorks(t, agent, session.id, { firstUserText: "Tell me the alphabet", firstAssistantStatus: "error" });
});

c("timeout: idleTimeoutMs does not cut a slow but steady stream", async (t) => {
  const model = key("steady");
  // About 2 s of stream in all, a chunk every 60 ms, under a 1.2 s idle timeout: a timeout on the
  // whole stream would cut it, one per chunk has over a second of slack.
  const reply = Array.from({ length: 32 }, (_, i) => `w${i}`).join(" ");
  await t.control.script(model, [{ reply, chunkDelayMs: 60 }]);
  const agent = await makeAgent(t, { model, idleTimeoutMs: 1200 });
  const session = await agent.createSession();
  const s = await collect(() => agent.stream("Count", { sessionId: session.id }));
  noStreamError(t, s);
  t.assert.equal(s.text, reply);
});

c("timeout: a first byte slower than timeoutMs → LLM_TIMEOUT (whole call)", async (t) => {
  const model = key("first-byte-timeout");
  const slow = { firstByteDelayMs: 60_000 };
  await t.control.script(model, [slow, slow, slow]);
  const agent = await makeAgent(t, { model, timeoutMs: 300, idleTimeoutMs: 10_000 });
  const session = await agent.createSession();
  const t0 = Date.now();
  const err = await errorOf(t, agent.generate("Hi", session.id));
  const took = Date.now() - t0;
  checkError(t, err, "LLM_TIMEOUT");
  t.assert.ok(took >= 280 && took < 30_000, `LLM_TIMEOUT after ${took} ms with timeoutMs 300 (the first byte was 60 s away)`);
  const h = await agent.getSessionHistory(session.id);
  t.assert.deepEqual(h.filter((m) => m.role === "user").map((m) => m.content), ["Hi"]);
  t.assert.equal((await runsOf(agent, session.id))[0].errorCode, "LLM_TIMEOUT");
});

// ---------------------------------------------------------------------------------------------
// broken streams
// ---------------------------------------------------------------------------------------------

// Chunks before the cut, per provider, so some text has arrived but not the finish marker.
const TRUNCATE_AT = { openai: 3, anthropic: 6, gemini: 3 };
for (const provider of ["openai", "anthropic", "gemini"]) {
  c(`stream: ${provider} truncated (no finish marker) → LLM_STREAM_TRUNCATED; partial stored as error`, async (t) => {
    const model = key(`truncated-${provider}`);
    const reply = "one two three four five six";
    await t.control.script(model, [{ reply, truncateAfterChunks: TRUNCATE_AT[provider] }, { reply: "a retry would get this" }]);
    const agent = await makeAgent(t, { provider, model });
    const session = await agent.createSession();
    const s = await collect(() => agent.stream("Count to six", { sessionId: session.id }));
    t.assert.ok(s.error, `a truncated stream is an error, not a short answer (got ${fmt(s.text)})`);
    checkError(t, s.error, "LLM_STREAM_TRUNCATED");
    t.assert.ok(!s.done);
    t.assert.equal((await t.control.requests(model)).length, 1);
    await checkPartial(t, agent, session.id, { status: "error", seen: s.text, full: reply, userText: "Count to six" });
  });
}

// ---------------------------------------------------------------------------------------------
// streams that recover (DESIGN.md "Streams that recover")
// ---------------------------------------------------------------------------------------------

// Chunks each provider's stream sends before its first text (openai: the role chunk; anthropic:
// message_start, content_block_start, ping; gemini: none).
const BEFORE_TEXT = { openai: 1, anthropic: 3, gemini: 0 };
const FAULTS = {
  truncated: (n) => ({ truncateAfterChunks: n }),
  disconnected: (n) => ({ disconnectAfterChunks: n }),
  malformed: (n) => ({ malformedAfterChunks: n }),
};
const FAULT_CODES = {
  truncated: ["LLM_STREAM_TRUNCATED"],
  disconnected: ["LLM_NETWORK", "LLM_STREAM_TRUNCATED"],
  malformed: ["LLM_BAD_RESPONSE"],
};
const RECOVERED = "recovered answer in full";

/** A `collect` hook that releases the held cut of `model` (see FAULTS) at the first delta. */
function releaseOnDelta(t, model) {
  let released = false;
  return async (ev) => {
    if (ev.type === "delta" && !released) {
      released = true;
      await t.control.release(model);
    }
  };
}

for (const provider of ["openai", "anthropic", "gemini"]) {
  for (const [fault, step] of Object.entries(FAULTS)) {
    c(`recover: ${provider} stream ${fault} before any text → retried, ok, one reply stored`, async (t) => {
      const model = key(`early-${fault}-${provider}`);
      await t.control.script(model, [{ reply: LONG_REPLY, ...step(BEFORE_TEXT[provider]) }, { reply: RECOVERED }]);
      const agent = await makeAgent(t, { provider, model });
      const session = await agent.createSession();
      const retries = [];
      agent.on("llm:retry", (e) => retries.push(e));
      const s = await collect(() => agent.stream("Go", { sessionId: session.id }));
      noStreamError(t, s);
      t.assert.ok(!s.types.includes("restart"), `no restart: nothing was shown (${fmt(s.types)})`);
      t.assert.equal(s.text, RECOVERED);
      t.assert.equal(s.done?.result.content, RECOVERED);
      t.assert.equal((await t.control.requests(model)).length, 2);
      t.assert.equal(retries.length, 1);
      t.assert.ok(FAULT_CODES[fault].includes(retries[0].error.code), fmt(retries[0].error));
      t.assert.deepEqual(pairs(await agent.getSessionHistory(session.id)), [["user", "Go"], ["assistant", RECOVERED]]);
      t.assert.equal((await runsOf(agent, session.id))[0].attempts, 2);
    });

    c(`recover: ${provider} stream ${fault} after text → typed error by default; one restart under midStream`, async (t) => {
      const model = key(`late-${fault}-${provider}`);
      // A cut after text waits until the case saw a delta (`holdCut`, released by
      // `releaseOnDelta`): a runtime may discard bytes it received but had not read when the
      // connection fails, so an unheld cut could reach the engine, by chance, before any text.
      const faulty = { reply: LONG_REPLY, ...step(TRUNCATE_AT[provider]), holdCut: true };
      await t.control.script(model, [faulty, { reply: "a retry would get this" }]);
      const plain = await makeAgent(t, { provider, model });
      const ps = await plain.createSession();
      const s = await collect(() => plain.stream("Go", { sessionId: ps.id }), releaseOnDelta(t, model));
      t.assert.ok(!s.types.includes("restart"), "no restart without midStream");
      t.assert.ok(s.text.length > 0 && LONG_REPLY.startsWith(s.text), `some text came first (${fmt(s.types)}, error ${fmt(s.error)})`);
      t.assert.ok(s.error, "the stream fails by default");
      checkError(t, s.error, FAULT_CODES[fault]);
      t.assert.equal((await t.control.requests(model)).length, 1, "not retried after text was yielded");
      await checkPartial(t, plain, ps.id, { status: "error", seen: s.text, full: LONG_REPLY, userText: "Go" });

      const model2 = key(`restart-${fault}-${provider}`);
      await t.control.script(model2, [faulty, { reply: RECOVERED }]);
      const agent = await makeAgent(t, { provider, model: model2, retry: { ...FAST_RETRY, midStream: true } });
      const retries = [];
      agent.on("llm:retry", (e) => retries.push(e));
      const session = await agent.createSession();
      const r = await collect(() => agent.stream("Go", { sessionId: session.id }), releaseOnDelta(t, model2));
      noStreamError(t, r);
      const restarts = r.events.filter((e) => e.type === "restart");
      t.assert.equal(restarts.length, 1, `one restart (${fmt(r.types)})`);
      t.assert.equal(restarts[0].attempt, 1);
      t.assert.ok(FAULT_CODES[fault].includes(restarts[0].reason), `restart reason ${fmt(restarts[0])}`);
      t.assert.deepEqual(retries.map((e) => [e.attempt, e.error.code]), [[1, restarts[0].reason]], "one llm:retry, for the restart");
      const at = r.types.indexOf("restart");
      const before = r.events.slice(0, at).filter((e) => e.type === "delta").map((e) => e.text).join("");
      const after = r.events.slice(at).filter((e) => e.type === "delta").map((e) => e.text).join("");
      t.assert.ok(before.length > 0 && LONG_REPLY.startsWith(before), `the first attempt's text came before the restart (${fmt(before)})`);
      t.assert.equal(after, RECOVERED, "after the restart, the new attempt's text only");
      t.assert.equal(r.done?.result.content, RECOVERED);
      t.assert.equal((await t.control.requests(model2)).length, 2);
      const h = await agent.getSessionHistory(session.id);
      t.assert.deepEqual(h.map((m) => [m.role, m.content, m.status]), [["user", "Go", "complete"], ["assistant", RECOVERED, "complete"]], "the partial reply was replaced, not kept beside the new one");
      t.assert.equal(h[1].id, r.done.result.messageId);
    });
  }

  c(`recover: ${provider} generate() cut mid-body or truncated → retried; a body that is not JSON → not retried`, async (t) => {
    const model = key(`generate-faults-${provider}`);
    await t.control.script(model, [
      { reply: LONG_REPLY, disconnectAfterChunks: 2 },
      { reply: LONG_REPLY, truncateAfterChunks: 2 },
      { reply: RECOVERED },
      { reply: LONG_REPLY, malformedAfterChunks: 2 },
      { reply: "a retry would get this" },
    ]);
    const agent = await makeAgent(t, { provider, model, retry: { ...FAST_RETRY, maxRetries: 2 } });
    const session = await agent.createSession();
    t.assert.equal((await agent.generate("One", session.id)).content, RECOVERED);
    // "{not json" is no cut reply: it would come back the same.
    const err = checkError(t, await errorOf(t, agent.generate("Two", session.id)), "LLM_BAD_RESPONSE");
    t.assert.equal(err.retryable, false);
    t.assert.equal((await t.control.requests(model)).length, 4);
    t.assert.deepEqual(pairs(await agent.getSessionHistory(session.id)), [["user", "One"], ["assistant", RECOVERED], ["user", "Two"]]);
    t.assert.deepEqual((await runsOf(agent, session.id)).map((r) => r.attempts).sort(), [1, 3]);
  });

  c(`recover: ${provider} a 200 HTML page (a wrong baseUrl) is not retried`, async (t) => {
    let calls = 0;
    const page = "<!doctype html><html><head><title>Welcome</title></head><body>Our product</body></html>";
    const htmlFetch = async () => {
      calls += 1;
      return new Response(page, { status: 200, headers: { "content-type": "text/html; charset=utf-8" } });
    };
    const agent = await makeAgent(t, { provider, model: key(`html-${provider}`), llm: { fetch: htmlFetch } });
    const session = await agent.createSession();
    for (const call of [() => agent.generate("Hi", session.id), async () => { for await (const _ of agent.stream("Hi", { sessionId: session.id })); }]) {
      const err = checkError(t, await errorOf(t, call), "LLM_BAD_RESPONSE");
      t.assert.equal(err.retryable, false, fmt(err));
      t.assert.match(err.message, /Welcome/);
    }
    t.assert.equal(calls, 2, "each call asked once");
    t.assert.deepEqual((await runsOf(agent, session.id)).map((r) => r.attempts), [1, 1]);
  });

  c(`recover: ${provider} a stream stalled before any text is retried once idleTimeoutMs fires`, async (t) => {
    const model = key(`early-stall-${provider}`);
    await t.control.script(model, [{ reply: LONG_REPLY, stallAfterChunks: BEFORE_TEXT[provider] }, { reply: RECOVERED }]);
    // Long enough that no pause of the recovering attempt fires it; the stall never ends anyway.
    const agent = await makeAgent(t, { provider, model, idleTimeoutMs: 5000 });
    const session = await agent.createSession();
    const s = await collect(() => agent.stream("Go", { sessionId: session.id }));
    noStreamError(t, s);
    t.assert.equal(s.text, RECOVERED);
    t.assert.equal((await t.control.requests(model)).length, 2);
  });

  c(`continue: ${provider} after an abort finishes the same interrupted message`, async (t) => {
    const model = key(`continue-${provider}`);
    await t.control.script(model, [{ reply: LONG_REPLY, chunkDelayMs: 60 }, { reply: "and the rest." }]);
    const { agent, session, partial } = await interruptedSession(t, provider, model);
    const c2 = await collect(() => agent.continueStream({ sessionId: session.id }));
    noStreamError(t, c2);
    t.assert.equal(c2.text, "and the rest.", "the deltas are the new text only");
    const prefix = provider === "anthropic" ? partial.content.trimEnd() : partial.content;
    t.assert.equal(c2.done?.result.content, prefix + "and the rest.");
    t.assert.equal(c2.done?.result.messageId, partial.id);
    const h = await agent.getSessionHistory(session.id);
    t.assert.deepEqual(h.map((m) => [m.role, m.status]), [["user", "complete"], ["assistant", "complete"]], "one assistant message");
    t.assert.equal(h[1].id, partial.id);
    t.assert.equal(h[1].content, prefix + "and the rest.");
    const req = (await t.control.requests(model))[1];
    const last = req.messages.at(-1);
    if (provider === "anthropic") {
      t.assert.equal(last.role, "assistant", "Anthropic continues from an assistant prefill");
      t.assert.equal(last.text, partial.content.trimEnd());
    } else {
      t.assert.equal(last.role, "user", "an instruction to continue");
      t.assert.match(last.text, /Continue it exactly where it stopped/);
      t.assert.equal(req.messages.at(-2).role, "assistant");
      t.assert.equal(req.messages.at(-2).text, partial.content);
    }
    const err = checkError(t, await errorOf(t, agent.continue(session.id)), "INVALID_ARGUMENT", "a complete reply");
    t.assert.match(err.message, /nothing to continue/);
  });
}

/** An agent whose session ends with an `interrupted` reply of whole words ("alpha beta "…): aborted at its second delta. */
async function interruptedSession(t, provider, model, config = {}) {
  const agent = await makeAgent(t, { provider, model, ...config });
  const session = await agent.createSession();
  const controller = new AbortController();
  const s = await collect(
    () => agent.stream("Tell me the alphabet", { sessionId: session.id, signal: controller.signal }),
    (ev, events) => {
      if (ev.type === "delta" && events.filter((e) => e.type === "delta").length === 2) controller.abort();
    },
  );
  checkError(t, s.error, "ABORTED");
  const partial = await checkPartial(t, agent, session.id, { status: "interrupted", seen: s.text, full: LONG_REPLY, userText: "Tell me the alphabet" });
  return { agent, session, partial };
}

for (const provider of ["openai", "anthropic", "gemini"]) {
  c(`continue: ${provider} continueStream with a midStream restart keeps the text it continues from`, async (t) => {
    const model = key(`continue-restart-${provider}`);
    await t.control.script(model, [
      { reply: LONG_REPLY, chunkDelayMs: 60 },
      { reply: "omega psi chi phi upsilon tau sigma rho", disconnectAfterChunks: TRUNCATE_AT[provider], holdCut: true },
      { reply: "and the rest." },
    ]);
    const { agent, session, partial } = await interruptedSession(t, provider, model, { retry: { ...FAST_RETRY, midStream: true } });
    const prefix = provider === "anthropic" ? partial.content.trimEnd() : partial.content;
    let storedAtRestart = null;
    const release = releaseOnDelta(t, model);
    const r = await collect(() => agent.continueStream({ sessionId: session.id }), async (ev) => {
      await release(ev);
      // The reply is rewritten before the restart is yielded: to the text it continues from.
      if (ev.type === "restart") storedAtRestart = (await agent.getSessionHistory(session.id)).map((m) => [m.role, m.content, m.status]);
    });
    noStreamError(t, r);
    t.assert.deepEqual(r.events.filter((e) => e.type === "restart").map((e) => e.attempt), [1], fmt(r.types));
    t.assert.deepEqual(storedAtRestart, [["user", "Tell me the alphabet", "complete"], ["assistant", prefix, "interrupted"]]);
    const after = r.events.slice(r.types.indexOf("restart")).filter((e) => e.type === "delta").map((e) => e.text).join("");
    t.assert.equal(after, "and the rest.");
    t.assert.equal(r.done?.result.content, prefix + "and the rest.");
    t.assert.equal(r.done?.result.messageId, partial.id);
    const h = await agent.getSessionHistory(session.id);
    t.assert.deepEqual(h.map((m) => [m.id, m.content, m.status]).slice(1), [[partial.id, prefix + "and the rest.", "complete"]]);
    t.assert.equal((await t.control.requests(model)).length, 3);
  });
}

c("continue: anthropic after the trailing-whitespace trim, when the first attempt fails before text", async (t) => {
  const model = key("continue-trim-retry");
  await t.control.script(model, [
    { reply: LONG_REPLY, chunkDelayMs: 60 },
    { reply: "and the rest.", disconnectAfterChunks: BEFORE_TEXT.anthropic },
    { reply: "and the rest." },
  ]);
  const { agent, session, partial } = await interruptedSession(t, "anthropic", model);
  t.assert.match(partial.content, /\s$/, "the stored partial ends in whitespace (whole words)");
  const trimmed = partial.content.trimEnd();
  const r = await agent.continue({ sessionId: session.id });
  t.assert.equal(r.content, trimmed + "and the rest.");
  const reqs = await t.control.requests(model);
  t.assert.equal(reqs.length, 3, "the cut before text was retried");
  for (const req of reqs.slice(1)) {
    t.assert.equal(req.messages.at(-1).role, "assistant");
    t.assert.equal(req.messages.at(-1).text, trimmed, "every attempt continues from the trimmed text");
  }
  const h = await agent.getSessionHistory(session.id);
  t.assert.deepEqual(h.map((m) => [m.id, m.content, m.status]).slice(1), [[partial.id, trimmed + "and the rest.", "complete"]]);
  t.assert.equal((await runsOf(agent, session.id)).find((run) => run.attempts === 2)?.status, "completed");
});

c("recover: under midStream an in-stream overloaded error and a stall after text each restart once", async (t) => {
  const model = key("restart-overloaded");
  await t.control.script(model, [
    { reply: LONG_REPLY, streamError: { type: "overloaded_error", message: "Overloaded right now" }, afterChunks: 6 },
    { reply: RECOVERED },
    { reply: LONG_REPLY, stallAfterChunks: 6 },
    { reply: "second recovered" },
  ]);
  // Long enough that no pause of a recovering attempt fires it; the stall never ends anyway.
  const agent = await makeAgent(t, { provider: "anthropic", model, idleTimeoutMs: 5000, retry: { ...FAST_RETRY, midStream: true } });
  const session = await agent.createSession();
  for (const [input, expected, reason] of [["One", RECOVERED, "LLM_HTTP"], ["Two", "second recovered", "LLM_TIMEOUT"]]) {
    const r = await collect(() => agent.stream(input, { sessionId: session.id }));
    noStreamError(t, r, input);
    const restarts = r.events.filter((e) => e.type === "restart");
    t.assert.deepEqual(restarts.map((e) => [e.attempt, e.reason]), [[1, reason]], `${input}: ${fmt(r.types)}`);
    t.assert.equal(r.done?.result.content, expected);
  }
  t.assert.equal((await t.control.requests(model)).length, 4);
  t.assert.deepEqual(pairs(await agent.getSessionHistory(session.id)), [["user", "One"], ["assistant", RECOVERED], ["user", "Two"], ["assistant", "second recovered"]]);
});

c("continue: a new agent on the same store finishes an interrupted reply (as after a reload)", async (t) => {
  const model = key("continue-reload");
  await t.control.script(model, [{ reply: LONG_REPLY, stallAfterChunks: 4 }, { reply: " the end." }]);
  const store = await t.lib.SessionStore.open({ storage: MEMORY });
  const first = await makeAgent(t, { model, store });
  const session = await first.createSession();
  const controller = new AbortController();
  const s = await collect(
    () => first.stream("Go", { sessionId: session.id, signal: controller.signal }),
    (ev) => ev.type === "delta" && controller.abort(),
  );
  checkError(t, s.error, "ABORTED");
  const second = await makeAgent(t, { model, store });
  const r = await second.continue({ sessionId: session.id });
  const h = await second.getSessionHistory(session.id);
  t.assert.equal(h.length, 2);
  t.assert.equal(h[1].status, "complete");
  t.assert.equal(h[1].content, r.content);
  t.assert.ok(r.content.endsWith(" the end.") && LONG_REPLY.startsWith(r.content.slice(0, -" the end.".length)), fmt(r.content));
});

c("stream: a malformed chunk → LLM_BAD_RESPONSE; partial stored as error", async (t) => {
  const model = key("malformed");
  await t.control.script(model, [{ reply: LONG_REPLY, malformedAfterChunks: 3 }, { reply: "a retry would get this" }]);
  const agent = await makeAgent(t, { model });
  const session = await agent.createSession();
  const s = await collect(() => agent.stream("Tell me the alphabet", { sessionId: session.id }));
  t.assert.ok(s.error, "the stream fails");
  checkError(t, s.error, "LLM_BAD_RESPONSE");
  t.assert.equal((await t.control.requests(model)).length, 1);
  await checkPartial(t, agent, session.id, { status: "error", seen: s.text, full: LONG_REPLY, userText: "Tell me the alphabet" });
});

c("stream: an in-stream provider error rejects with the provider's message, not retried", async (t) => {
  const model = key("stream-error");
  await t.control.script(model, [
    { reply: LONG_REPLY, streamError: { type: "overloaded_error", message: "Overloaded right now" }, afterChunks: 6 },
    { reply: "a retry would get this" },
  ]);
  const agent = await makeAgent(t, { provider: "anthropic", model });
  const session = await agent.createSession();
  const s = await collect(() => agent.stream("Tell me the alphabet", { sessionId: session.id }));
  t.assert.ok(s.error, "the stream fails");
  t.assert.equal(s.error.name, "AgentSessionsError", fmt(s.error));
  t.assert.match(String(s.error.code), /^LLM_/);
  t.assert.ok(s.error.message.includes("Overloaded right now"), `provider message in ${fmt(s.error.message)}`);
  t.assert.equal((await t.control.requests(model)).length, 1);
  await checkPartial(t, agent, session.id, { status: "error", seen: s.text, full: LONG_REPLY, userText: "Tell me the alphabet" });
});

// ---------------------------------------------------------------------------------------------
// runs, events, concurrency, config
// ---------------------------------------------------------------------------------------------

c("runs: each call records a run with attempts, usage, status and error code", async (t) => {
  const model = key("runs");
  await t.control.script(model, [{ status: 503 }, { reply: "ok", usage: { input: 5, output: 3 } }, { status: 400 }]);
  const agent = await makeAgent(t, { model, name: "runner" });
  const session = await agent.createSession();
  const r = await agent.generate("First", session.id);
  await errorOf(t, agent.generate("Second", session.id));
  const runs = await runsOf(agent, session.id);
  t.assert.equal(runs.length, 2);
  t.assert.equal(runs[0].id, r.runId);
  t.assert.equal(runs[0].sessionId, session.id);
  t.assert.equal(runs[0].status, "completed");
  t.assert.equal(runs[0].attempts, 2);
  checkUsage(t, runs[0].usage, 5, 3, "run usage");
  t.assert.equal(runs[0].agent, "runner");
  t.assert.equal(runs[0].provider, "openai");
  t.assert.equal(runs[0].model, model);
  t.assert.ok(runs[0].durationMs >= 0);
  t.assert.equal(runs[1].status, "failed");
  t.assert.equal(runs[1].attempts, 1);
  t.assert.equal(runs[1].errorCode, "LLM_HTTP");
  t.assert.ok(runs[1].durationMs >= 0);
  const h = await agent.getSessionHistory(session.id);
  t.assert.equal(h.find((m) => m.role === "assistant").runId, r.runId);
});

c("events: run:start, run:complete, run:error, llm:retry, llm:chunk; unsubscribe stops them", async (t) => {
  const model = key("events");
  await t.control.script(model, [{ status: 503 }, { reply: "one two three" }, { status: 400 }]);
  const agent = await makeAgent(t, { model });
  const seen = [];
  const names = ["run:start", "run:complete", "run:error", "llm:retry", "llm:chunk"];
  const offs = names.map((name) => agent.on(name, () => seen.push(name)));
  t.assert.ok(offs.every((off) => typeof off === "function"), "on() returns an unsubscribe function");
  const count = (name) => seen.filter((x) => x === name).length;
  const session = await agent.createSession();

  const s = await collect(() => agent.stream("Go", { sessionId: session.id }));
  noStreamError(t, s);
  t.assert.equal(count("run:start"), 1);
  t.assert.equal(count("llm:retry"), 1);
  t.assert.equal(count("run:complete"), 1);
  t.assert.equal(count("run:error"), 0);
  t.assert.ok(count("llm:chunk") >= 1, "llm:chunk while streaming");
  t.assert.ok(seen.indexOf("run:start") < seen.indexOf("run:complete"));

  await errorOf(t, agent.generate("Fail", session.id));
  t.assert.equal(count("run:start"), 2);
  t.assert.equal(count("run:error"), 1);

  for (const off of offs) off();
  const before = seen.length;
  await agent.generate("Quiet", session.id);
  t.assert.equal(seen.length, before, "no events after unsubscribing");
});

c("concurrency: two generate calls on one session are serialised", async (t) => {
  const model = key("serialised");
  await t.control.script(model, [{ delayMs: 300 }]);
  const agent = await makeAgent(t, { model });
  const session = await agent.createSession();
  const p1 = agent.generate("My name is Sarah.", session.id);
  const p2 = agent.generate("What is my name?", session.id);
  const [r1, r2] = await Promise.all([p1, p2]);
  t.assert.equal(r1.content, "Echo: My name is Sarah. (turn 1)");
  t.assert.equal(r2.content, "Your name is Sarah.", "the second call saw the first one's turn");
  t.assert.deepEqual(pairs(await agent.getSessionHistory(session.id)), [
    ["user", "My name is Sarah."],
    ["assistant", "Echo: My name is Sarah. (turn 1)"],
    ["user", "What is my name?"],
    ["assistant", "Your name is Sarah."],
  ]);
  const reqs = await t.control.requests(model);
  t.assert.equal(reqs.length, 2);
  t.assert.deepEqual(reqs[1].messages.map((m) => m.role), ["user", "assistant", "user"]);
  t.assert.ok(reqs[1].time - reqs[0].time >= 250, "the second request waited for the first call");
});

c("concurrency: calls on different sessions run concurrently", async (t) => {
  const model = key("parallel");
  // Each reply takes 2 s: one after the other is 4 s or more, together about 2 s.
  await t.control.script(model, [{ delayMs: 2000 }, { delayMs: 2000 }]);
  const agent = await makeAgent(t, { model });
  const a = await agent.createSession();
  const b = await agent.createSession();
  const t0 = Date.now();
  const [ra, rb] = await Promise.all([agent.generate("Hello from A", a.id), agent.generate("Hello from B", b.id)]);
  const took = Date.now() - t0;
  t.assert.equal(ra.content, "Echo: Hello from A (turn 1)");
  t.assert.equal(rb.content, "Echo: Hello from B (turn 1)");
  const reqs = await t.control.requests(model);
  t.assert.equal(reqs.length, 2);
  t.assert.ok(Math.abs(reqs[1].time - reqs[0].time) < 1500, "both requests were in flight together");
  t.assert.ok(took < 3500, `two 2 s calls on different sessions took ${took} ms`);
  t.assert.equal(roles(await agent.getSessionHistory(a.id)), "user,assistant");
  t.assert.equal(roles(await agent.getSessionHistory(b.id)), "user,assistant");
});

c("config: an unknown provider or a missing model → INVALID_CONFIG", async (t) => {
  for (const llm of [{ provider: "bogus", model: "x" }, { provider: "openai", apiKey: "sk-test", baseUrl: `${t.mockUrl}/v1` }]) {
    const err = await errorOf(t, async () => {
      const agent = new t.lib.Agent({ llm, storage: MEMORY });
      await agent.start();
      const session = await agent.createSession();
      await agent.generate("Hi", session.id);
    }, `llm ${fmt(llm)}`);
    checkError(t, err, "INVALID_CONFIG", `llm ${fmt(llm)}`);
  }
});

// ---------------------------------------------------------------------------------------------
// context windows (Hector 004 strategies, PraisonAI 002 getMessagesForLLM / maxMessages)
// ---------------------------------------------------------------------------------------------

/** Adds `n` user/assistant pairs of filler (about 12 estimated tokens per message). */
async function fill(session, n, from = 0) {
  for (let i = from; i < from + n; i++) {
    await session.addMessage({ role: "user", content: `Question ${i} about the weather in Lisbon today?` });
    await session.addMessage({ role: "assistant", content: `Answer ${i}: it is sunny and warm in Lisbon today.` });
  }
}

const roleContent = (messages) => messages.map((m) => [m.role, m.content]);

c("context: previewContext shows exactly what the token_window request sent", async (t) => {
  const model = key("ctx-preview");
  const agent = await makeAgent(t, { model, instructions: "Be brief.", context: { strategy: "token_window", budget: 200 } });
  const s = await agent.createSession();
  await fill(s, 15);
  const p = await s.previewContext({ input: "And tomorrow?" });
  t.assert.equal(p.strategy, "token_window");
  t.assert.equal(p.budget, 200);
  t.assert.ok(p.tokens <= 200, `preview over budget: ${p.tokens}`);
  t.assert.ok(p.omittedBeforeSeq !== null || p.dropped.length > 0, "a long history is cut");
  t.assert.equal(p.messages[0].role, "user", "the window opens on a user turn");
  t.assert.deepEqual(p.messages.at(-1), { role: "user", content: "And tomorrow?" });
  t.assert.equal(p.entries.at(-1).pending, true);
  t.assert.equal(p.system, "Be brief.");
  await agent.generate("And tomorrow?", s.id);
  const [req] = await t.control.requests(model);
  t.assert.deepEqual(roleContent(req.body.messages), [["system", "Be brief."], ...roleContent(p.messages)]);
  const [run] = await s.getRuns();
  t.assert.equal(run.estimatedInputTokens, p.tokens);
});

c("context: summary_buffer summarises through the LLM and the stored summary is sent next call", async (t) => {
  const model = key("ctx-summary");
  const agent = await makeAgent(t, {
    model,
    instructions: "Be brief.",
    context: { strategy: "summary_buffer", budget: 400, threshold: 0.8, target: 0.5 },
  });
  const summarized = [];
  agent.on("context:summarized", (e) => summarized.push(e));
  const s = await agent.createSession();
  await s.addMessage({ role: "user", content: "My name is Sarah." });
  await s.addMessage({ role: "assistant", content: "Nice to meet you, Sarah!" });
  await fill(s, 13);
  const p = await s.previewContext({ input: "What is my name?" });
  t.assert.ok(p.summarize, `a summary is due: ${fmt(p)}`);
  t.assert.equal(p.summarize.messageIds[0], (await s.getHistory())[0].id);
  // The summary request is the first the server sees: script its reply.
  await t.control.script(model, [{ reply: "The user's name is Sarah. The user asked about the weather in Lisbon." }]);
  await agent.generate("What is my name?", s.id);
  let reqs = await t.control.requests(model);
  t.assert.equal(reqs.length, 2, "one summary request, one answer");
  t.assert.match(userTexts(reqs[0])[0], /^Summarize/);
  t.assert.match(userTexts(reqs[0])[0], /user: My name is Sarah\./);
  t.assert.ok(reqs[1].system.includes("The user's name is Sarah."), `summary not sent: ${fmt(reqs[1].system)}`);
  t.assert.ok(!userTexts(reqs[1]).includes("My name is Sarah."), "summarised turns are not sent again");
  t.assert.equal(userTexts(reqs[1]).at(-1), "What is my name?");
  const [summary] = await s.getSummaries();
  t.assert.equal(summary.content, "The user's name is Sarah. The user asked about the weather in Lisbon.");
  t.assert.deepEqual(summary.covers, p.summarize.messageIds);
  t.assert.equal(summary.model, model);
  t.assert.ok(summary.tokens > 0);
  t.assert.equal(summarized.length, 1);
  t.assert.equal(summarized[0].summary.id, summary.id);
  // Originals stay in history.
  t.assert.equal((await s.getHistory()).length, 2 + 26 + 2);
  // The next call uses the stored summary without asking for a new one.
  await agent.generate("Thanks!", s.id);
  reqs = await t.control.requests(model);
  t.assert.equal(reqs.length, 3);
  t.assert.ok(reqs[2].system.includes("The user's name is Sarah."));
  const after = await s.previewContext();
  t.assert.equal(after.summary.id, summary.id);
  t.assert.equal(after.entries[0].summary, true);
  // removeSummary undoes it: the originals are back in play.
  t.assert.equal(await s.removeSummary(summary.id), true);
  t.assert.deepEqual(await s.getSummaries(), []);
  const undone = await s.previewContext();
  t.assert.equal(undone.summary, null);
});

c("context: a failed summarisation falls back to token_window and emits context:summary_failed", async (t) => {
  const model = key("ctx-summary-fail");
  const agent = await makeAgent(t, { model, context: { strategy: "summary_buffer", budget: 300 } });
  const failures = [];
  agent.on("context:summary_failed", (e) => failures.push(e));
  const s = await agent.createSession();
  await fill(s, 20);
  await t.control.script(model, [{ status: 400 }]);
  const r = await agent.generate("Still there?", s.id);
  t.assert.match(r.content, /Still there\?/);
  t.assert.equal(failures.length, 1);
  t.assert.equal(failures[0].error.code, "LLM_HTTP");
  t.assert.equal(failures[0].sessionId, s.id);
  const reqs = await t.control.requests(model);
  t.assert.equal(reqs.length, 2);
  t.assert.equal(reqs[1].messages[0].role, "user");
  t.assert.ok(reqs[1].messages.length < 41, "the fallback window is cut");
  t.assert.deepEqual(await s.getSummaries(), []);
});

c("context: a budget too small for the new turn → CONTEXT_TOO_LARGE, nothing stored or sent", async (t) => {
  const model = key("ctx-too-large");
  const agent = await makeAgent(t, { model, context: { strategy: "token_window", budget: 30 } });
  const s = await agent.createSession();
  const err = await errorOf(t, agent.generate("word ".repeat(200), s.id));
  checkError(t, err, "CONTEXT_TOO_LARGE");
  t.assert.deepEqual(await s.getHistory(), []);
  t.assert.equal((await t.control.requests(model)).length, 0);
  await agent.generate("hi", s.id);
});

c("hector-004: buffer_window with window_size 20 sends the newest 20 messages from a user turn", async (t) => {
  const model = key("ctx-buffer");
  const agent = await makeAgent(t, { model, context: { strategy: "buffer_window", window_size: 20 } });
  const s = await agent.createSession();
  await fill(s, 20);
  await agent.generate("Latest?", s.id);
  const [req] = await t.control.requests(model);
  t.assert.equal(req.messages.length, 19, "20 would open on an assistant reply");
  t.assert.equal(req.messages[0].role, "user");
  t.assert.equal(req.messages.at(-1).text, "Latest?");
});

c("praisonai-002: getMessagesForLLM({ maxTokens, strategy: 'recent' }) and a session's maxMessages", async (t) => {
  const store = await t.lib.SessionStore.open({ storage: MEMORY });
  const session = await store.getOrCreate("long-conversation", { maxMessages: 50 });
  t.assert.equal(session.toJSON().maxMessages, 50);
  await fill(session, 40);
  const all = await session.getMessagesForLLM();
  t.assert.equal(all.length, 50, "the session's maxMessages caps the context");
  t.assert.equal(all[0].role, "user");
  const recent = await session.getMessagesForLLM({ maxTokens: 4000, strategy: "recent" });
  t.assert.equal(recent.length, 50);
  const small = await session.getMessagesForLLM({ maxTokens: 100, strategy: "recent" });
  t.assert.ok(small.length > 0 && small.length < 12, `${small.length}`);
  t.assert.equal(small[0].role, "user");
  t.assert.equal(small.at(-1).content, "Answer 39: it is sunny and warm in Lisbon today.");
  checkError(t, await errorOf(t, session.getMessagesForLLM({ maxTokens: 5 })), "CONTEXT_TOO_LARGE");
  // An agent on this store honours the session's cap too.
  const model = key("ctx-session-cap");
  const agent = await makeAgent(t, { model, store });
  await agent.generate("And now?", "long-conversation");
  const [req] = await t.control.requests(model);
  t.assert.ok(req.messages.length <= 50, `${req.messages.length}`);
});

c("context: a tool call and its results are sent together or not at all; failed replies are not sent", async (t) => {
  const model = key("ctx-tools");
  const agent = await makeAgent(t, { model, context: { strategy: "buffer_window", windowSize: 3 } });
  const s = await agent.createSession();
  await s.addMessage({ role: "user", content: "Weather in Paris?" });
  await s.addMessage({ role: "assistant", content: "", toolCalls: [{ id: "call_1", name: "weather", arguments: '{"city":"Paris"}' }] });
  await s.addMessage({ role: "tool", toolCallId: "call_1", content: "18C, cloudy" });
  await s.addMessage({ role: "assistant", content: "It is 18C and cloudy." });
  await s.addMessage({ role: "user", content: "And Lisbon?" });
  await s.addMessage({ role: "assistant", content: "garbled", status: "error" });
  const p = await s.previewContext();
  t.assert.deepEqual(roleContent(p.messages), [["user", "And Lisbon?"]]);
  t.assert.ok(p.dropped.some((d) => d.reason === "failed"));
  // Four messages would open on the tool call: the call, its result and the reply go together.
  const four = await s.previewContext({ windowSize: 4 });
  t.assert.deepEqual(four.messages.map((m) => m.role), ["user"]);
  const five = await s.previewContext({ windowSize: 5 });
  t.assert.deepEqual(five.messages.map((m) => m.role), ["user", "assistant", "tool", "assistant", "user"]);
  t.assert.equal(five.messages[1].tool_calls[0].id, "call_1");
  t.assert.equal(five.messages[2].tool_call_id, "call_1");
  await agent.generate(null, s.id);
  const [req] = await t.control.requests(model);
  t.assert.deepEqual(req.messages.map((m) => m.text), ["And Lisbon?"]);
});

c("context: anthropic requests open on a user turn; invalid context config → INVALID_CONFIG", async (t) => {
  const model = key("ctx-anthropic");
  const agent = await makeAgent(t, { provider: "anthropic", model });
  const s = await agent.createSession();
  await s.addMessage({ role: "assistant", content: "Welcome! How can I help?" });
  const p = await s.previewContext({ input: "Hello" });
  t.assert.deepEqual(p.dropped.map((d) => d.reason), ["before_user_turn"]);
  await agent.generate("Hello", s.id);
  const [req] = await t.control.requests(model);
  t.assert.equal(req.body.messages[0].role, "user");
  for (const context of [
    { strategy: "summary_buffer", threshold: 0.5, target: 0.9 },
    { strategy: "token_window", budget: 0 },
    { strategy: "sliding" },
    { strategy: "token_window", budjet: 10 },
  ]) {
    checkError(t, await errorOf(t, () => new t.lib.Agent({ storage: MEMORY, context })), "INVALID_CONFIG", JSON.stringify(context));
  }
});
