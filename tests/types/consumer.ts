// Compiled with `tsc --noEmit` against the built package: the declarations must type real usage
// (the seed snippets) with no `any`, and reject misuse.
import {
  Agent,
  SessionStore,
  type AgentSessionsError,
  type Message,
  type SessionInfo,
  type StoreEvent,
} from "agent-sessions";

async function dexto(): Promise<string> {
  const agent = new Agent({ name: "assistant", instructions: "Be brief.", sessions: { maxSessions: 10, sessionTTL: 1000 } });
  await agent.start();
  const session = await agent.createSession();
  const custom = await agent.createSession("user-sarah-2024", { metadata: { tier: "premium" }, title: "Sarah" });
  const found = await agent.getSession(custom.id);
  if (found) {
    const title: string | null = found.title;
    void title;
  }
  const history: Message[] = await agent.getSessionHistory(session.id);
  for (const m of history) {
    const line: string = `[${m.role}]: ${m.content.substring(0, 60)}`;
    void line;
  }
  const ids: string[] = await agent.listSessions();
  await agent.resetConversation(custom.id);
  const existed: boolean = await agent.deleteSession(custom.id);
  void existed;
  return ids.join(",");
}

async function praison(): Promise<void> {
  const store = await SessionStore.open({ storage: { type: "memory" }, retention: { expireAfter: 60_000 } });
  const s = await store.getOrCreate("user-123", { metadata: { userId: "user-789", nested: { ok: [1, "two", null] } } });
  const stored: Message = await s.addMessage({ role: "user", content: "Hi" });
  const seq: number = stored.seq;
  void seq;
  const forLlm = await s.getMessagesForLLM({ maxTokens: 4000, strategy: "recent" });
  const role: "system" | "user" | "assistant" | "tool" = forLlm[0].role;
  void role;
  const run = s.createRun();
  await run.start();
  await run.complete({ tokensUsed: 150 });
  const duration: number | null = run.duration;
  void duration;
  const page = await store.querySessions({ limit: 10, order: "createdAt", direction: "asc" });
  const infos: SessionInfo[] = page.sessions;
  const next: string | null = page.nextCursor;
  void infos;
  void next;
  const off: () => void = store.on("message:added", (e: StoreEvent) => {
    const m: Message | undefined = e.message;
    void m;
  });
  off();
}

async function generation(signal: AbortSignal): Promise<string> {
  const agent = new Agent({
    name: "assistant",
    llm: { provider: "openai", model: "gpt-4o-mini", apiKey: "sk-test", baseUrl: "http://localhost:11434/v1" },
    retry: { maxRetries: 2 },
    timeoutMs: 600_000,
    idleTimeoutMs: 60_000,
    context: { strategy: "token_window", budget: 8000 },
  });
  const s = await agent.createSession();
  const r = await agent.generate("My name is Sarah.", s.id);
  const total: number = r.usage.totalTokens;
  void total;
  await agent.generate("What is my name?", { sessionId: s.id, signal });
  let text = "";
  for await (const ev of agent.stream("Hi", { sessionId: s.id, signal })) {
    if (ev.type === "delta") text += ev.text;
    if (ev.type === "done") text += ev.result.content;
  }
  agent.on("llm:retry", (e) => void e.delayMs);
  agent.on("run:error", (e) => void e.error.code);
  // Streams that recover: restarts under retry.midStream, and continuing an interrupted reply.
  const restarting = new Agent({ llm: { provider: "mock" }, retry: { midStream: true } });
  for await (const ev of restarting.continueStream({ sessionId: s.id, signal })) {
    if (ev.type === "restart") text = `${ev.attempt} ${ev.reason}`;
    if (ev.type === "delta") text += ev.text;
  }
  const continued: string = (await restarting.continue(s.id)).content;
  void continued;
  // @ts-expect-error: midStream is a boolean
  new Agent({ retry: { midStream: "yes" } });
  const custom = new Agent({ llm: { provider: "custom", handler: async (req) => ({ content: req.messages.length + " messages" }) } });
  void custom;
  // @ts-expect-error: unknown provider
  new Agent({ llm: { provider: "palm" } });
  return text;
}

async function contextWindows(): Promise<number> {
  // Hector's working-memory strategies.
  const agent = new Agent({
    llm: { provider: "mock" },
    instructions: "You are helpful.",
    context: { strategy: "summary_buffer", budget: 4000, threshold: 0.85, target: 0.7 },
  });
  new Agent({ context: { strategy: "buffer_window", windowSize: 20 } });
  // @ts-expect-error: no such strategy
  new Agent({ context: { strategy: "everything" } });
  agent.on("context:summary_failed", (e) => void e.error.code);
  agent.on("context:summarized", (e) => void e.summary.covers.length);
  const s = await agent.createSession("long-conversation", { maxMessages: 50 });
  const p = await s.previewContext({ input: "What is my name?" });
  const dropped: string[] = p.dropped.map((d) => `${d.id}:${d.reason}`);
  void dropped;
  const summaries = await s.getSummaries();
  if (summaries.length) await s.removeSummary(summaries[0].id);
  return p.tokens + (p.summary?.tokens ?? 0) + (p.summarize?.messageIds.length ?? 0);
}

async function agkit(): Promise<void> {
  const memory = await SessionStore.open();
  await memory.add({ message: { id: "msg-1", role: "user", content: "Hello", timestamp: new Date() }, state: { userId: "alice" } }, { sessionId: "a" });
  const entries = await memory.list({ sessionId: "a" });
  const when: Date = entries[0].message.timestamp;
  void when;
}

function handle(e: unknown): string {
  const err = e as AgentSessionsError;
  if (err.name === "AgentSessionsError" && err.code === "SESSION_NOT_FOUND") return err.sessionId ?? "";
  return err.message;
}

async function misuse(store: SessionStore): Promise<void> {
  // @ts-expect-error: roles are a closed set
  await (await store.create()).addMessage({ role: "wizard", content: "x" });
  // @ts-expect-error: metadata is plain JSON
  await store.create("x", { metadata: { when: () => 1 } });
  // @ts-expect-error: unknown storage type
  await SessionStore.open({ storage: { type: "floppy" } });
  await SessionStore.open({ storage: { type: "indexeddb", name: "app", fallback: "memory" } });
  await SessionStore.open({ storage: { type: "localstorage", prefix: "app/" } });
  const map = new Map<string, string>();
  const kv = {
    get: async (k: string) => map.get(k),
    put: async (k: string, v: string) => void map.set(k, v),
    delete: async (k: string) => map.delete(k),
    list: async ({ prefix }: { prefix: string }) => [...map.keys()].filter((k) => k.startsWith(prefix)),
  };
  await SessionStore.open({ storage: { type: "kv", kv, prefix: "app/" } });
  await SessionStore.open({ storage: { type: "sqlite", path: "./sessions.db" } });
  await SessionStore.open({ storage: { type: "sqlite", db: {}, prefix: "app_" } });
  await SessionStore.open({ storage: { type: "postgres", url: "postgres://localhost/app" } });
  await SessionStore.open({ storage: { database: { type: "postgresql", url: "postgres://x" }, cache: { type: "in-memory" } } });
  await SessionStore.open({ storage: { backend: "sql", sql: { driver: "sqlite", database: "./s.db" } } });
  // @ts-expect-error: a sqlite store needs db or path
  await SessionStore.open({ storage: { type: "sqlite" } });
  // @ts-expect-error: a kv store needs its kv object
  await SessionStore.open({ storage: { type: "kv" } });
  // @ts-expect-error: the only fallback is memory
  await SessionStore.open({ storage: { type: "indexeddb", fallback: "disk" } });
  // @ts-expect-error: unknown event
  store.on("session:exploded", () => {});
}

export { dexto, praison, agkit, handle, misuse, generation, contextWindows };
