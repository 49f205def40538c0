/** Every error this library throws: an `Error` named `AgentSessionsError` with a stable `code`. */
export interface AgentSessionsError extends Error {
  name: "AgentSessionsError";
  code: ErrorCode;
  /** Whether the same call may succeed if repeated. */
  retryable: boolean;
  /** HTTP status, for errors that came from an HTTP response. */
  status?: number;
  /** The session concerned, where there is one. */
  sessionId?: string;
  /** A wait the server asked for before retrying. */
  retryAfterMs?: number;
  /** The original value thrown by JavaScript code or a host API, where one was wrapped. */
  cause?: unknown;
}

export type ErrorCode =
  | "SESSION_NOT_FOUND" | "SESSION_EXISTS" | "SESSION_BUSY" | "MESSAGE_NOT_FOUND"
  | "INVALID_ID" | "INVALID_MESSAGE" | "INVALID_METADATA" | "INVALID_ARGUMENT" | "INVALID_CONFIG"
  | "STORAGE_QUOTA" | "STORAGE_CORRUPT" | "STORAGE_UNAVAILABLE" | "STORAGE_ERROR" | "WRONG_KEY"
  | "LLM_HTTP" | "LLM_RATE_LIMITED" | "LLM_TIMEOUT" | "LLM_STREAM_TRUNCATED" | "LLM_BAD_RESPONSE"
  | "LLM_NETWORK" | "CONTEXT_TOO_LARGE" | "ABORTED" | "ILLEGAL_CONSTRUCTOR" | "INTERNAL";

/** Plain JSON, as stored. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type Metadata = { [key: string]: JsonValue };

/**
 * Where sessions are kept. Default: `indexeddb` (database "agent-sessions", falling back to
 * memory if it cannot be opened) where `indexedDB` exists, `memory` elsewhere.
 */
export type StorageConfig =
  | MemoryStorageConfig
  | IndexedDbStorageConfig
  | LocalStorageConfig
  | KvStorageConfig
  | SqliteStorageConfig
  | PostgresStorageConfig
  | DextoStorageConfig
  | HectorSessionStoreConfig;

/** This instance only; gone with it. */
export interface MemoryStorageConfig { type: "memory" }

/** IndexedDB (browsers, web workers): the default there. */
export interface IndexedDbStorageConfig {
  type: "indexeddb";
  /** Database name. Default "agent-sessions". */
  name?: string;
  /** Used when IndexedDB is missing or refused (STORAGE_UNAVAILABLE otherwise). */
  fallback?: "memory";
}

/** localStorage (browser windows): one key per record, within the origin's ~5 MB. */
export interface LocalStorageConfig {
  type: "localstorage";
  /** Key prefix. Default "agent-sessions/". */
  prefix?: string;
  /** Used when localStorage is missing or refused (STORAGE_UNAVAILABLE otherwise). */
  fallback?: "memory";
}

/**
 * A host key-value store, taken as it is: a Durable Object's `state.storage`, a Workers KV
 * namespace, or your own object with these async methods.
 */
export interface KvStorageConfig {
  type: "kv";
  kv: KeyValueStore;
  /** Key prefix. Default "agent-sessions/". */
  prefix?: string;
}

/**
 * SQLite, taken as the host gives it: a SQLite-backed Durable Object's `ctx.storage` (or
 * `ctx.storage.sql`), a D1 binding, a `node:sqlite` `DatabaseSync` or a `better-sqlite3`
 * `Database` (told apart by shape); or, in Node, a file `path` (better-sqlite3 if installed, else
 * node:sqlite). Tables `agent_sessions_*`, created and migrated by the library.
 */
export type SqliteStorageConfig =
  | { type: "sqlite"; db: object; path?: never; prefix?: string }
  | { type: "sqlite"; path: string; db?: never; prefix?: string };

/** PostgreSQL through `pg` (Node): a connection string or a `pg.Pool`. */
export type PostgresStorageConfig =
  | { type: "postgres" | "postgresql"; url: string; pool?: never; prefix?: string }
  | { type: "postgres" | "postgresql"; pool: object; url?: never; prefix?: string };

/** Dexto's `storage` shape; the only cache is the in-memory one. */
export interface DextoStorageConfig {
  database:
    | { type: "sqlite"; path: string }
    | { type: "postgres" | "postgresql"; url: string }
    | { type: "in-memory" };
  cache?: { type: "in-memory" };
  prefix?: string;
}

/** Hector's `session_stores` entry. */
export interface HectorSessionStoreConfig {
  backend: "sql" | "memory";
  sql?: { driver: "sqlite" | "postgres"; database: string };
  prefix?: string;
}

/**
 * What `{ type: "kv" }` needs: `list` may resolve to a Map (Durable Objects), an array of keys,
 * or a Workers KV page `{ keys: [{ name }], list_complete, cursor }` (followed to the end).
 */
export interface KeyValueStore {
  get(key: string): Promise<unknown>;
  put(key: string, value: string): Promise<unknown>;
  delete(key: string): Promise<unknown>;
  list(options: { prefix: string; cursor?: string }): Promise<unknown>;
}

export interface SessionsConfig {
  /** Sessions held in memory at most (LRU). Storage keeps the rest. Default 1000. */
  maxSessions?: number;
  /** Milliseconds an idle session stays in memory. Default 3 600 000. */
  sessionTTL?: number;
}

export interface RetentionConfig {
  /** Delete a session from storage after this many milliseconds without a write. */
  expireAfter?: number;
  /** Delete a session from storage this many milliseconds after its creation. */
  maxAge?: number;
}

export interface StoreConfig {
  storage?: StorageConfig;
  sessions?: SessionsConfig;
  retention?: RetentionConfig;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

export interface SessionInfo {
  id: string;
  title: string | null;
  metadata: Metadata;
  createdAt: number;
  updatedAt: number;
  messageCount: number;
  usage: Usage;
  /** PraisonAI's session-level cap on the messages a context holds, when set. */
  maxMessages?: number;
}

export type Role = "system" | "user" | "assistant" | "tool";
export type MessageStatus = "complete" | "interrupted" | "error";

export interface ToolCall {
  id: string;
  name: string;
  /** JSON text of the arguments. */
  arguments: string;
}

export interface Message {
  id: string;
  sessionId: string;
  /** Position in the session; increases, never reused. */
  seq: number;
  /** The previous message on this message's branch, when it is not the one stored just before it
   * (`null`: it starts the conversation). Only messages written by an edit or after a switch have it. */
  parentSeq?: number | null;
  role: Role;
  content: string;
  /** Author: the agent's name on assistant messages. */
  name?: string;
  toolCalls?: ToolCall[];
  toolCallId?: string;
  status: MessageStatus;
  createdAt: number;
  /** Estimated tokens, computed when stored. */
  tokens: number;
  runId?: string;
  metadata?: Metadata;
  /** A framework's own form of the message (an AI SDK UIMessage's parts, an OpenAI Agents item, a
   * LangChain message dict), kept verbatim beside the fields above; sealed with the content. */
  payload?: JsonValue;
}

export interface NewMessage {
  role: Role;
  content?: string | { type?: string; text: string }[] | null;
  id?: string;
  name?: string;
  toolCalls?: ToolCall[];
  toolCallId?: string;
  status?: MessageStatus;
  createdAt?: number;
  metadata?: Metadata;
  /** A framework's own form of the message, kept verbatim (every JSON value but `null`, ≤ 4 MB). */
  payload?: JsonValue;
}

/**
 * A message in the OpenAI chat shape, as `getMessagesForLLM` returns it: exactly what the
 * `openai` provider sends, so every chat-completions client accepts it. `content` is `null` on an
 * assistant message that only calls tools; `name` is on user messages only (in OpenAI's
 * `[A-Za-z0-9_-]` characters), since several compatible servers refuse it elsewhere.
 */
export interface LlmMessage {
  role: Role;
  content: string | null;
  name?: string;
  tool_calls?: { id: string; type: "function"; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

/** A stored summary of older messages (context strategy `summary_buffer`). */
export interface SummaryRecord {
  id: string;
  sessionId: string;
  content: string;
  /** Ids of the messages it stands for. */
  covers: string[];
  /** The highest `seq` covered. */
  throughSeq: number;
  tokens: number;
  model?: string;
  createdAt: number;
}

/** A session as `session.export()` writes it and `store.importSession()` reads it. */
export interface SessionBundle {
  format: "agent-sessions/session";
  /** 2 carries the message tree (`parentSeq`, `session.headSeq`); 1 (linear) still imports. */
  version: 1 | 2;
  exportedAt: number;
  session: { id: string; title: string | null; metadata: Metadata; createdAt: number; updatedAt: number; usage: Usage; maxMessages?: number; headSeq?: number };
  messages: Message[];
  runs: RunRecord[];
  summaries: SummaryRecord[];
}

export interface ImportSessionOptions {
  /** Store it under this id instead of the bundle's. */
  id?: string;
  /** Replace an existing session with that id (otherwise `SESSION_EXISTS`). */
  overwrite?: boolean;
}

export interface CreateSessionOptions {
  title?: string;
  metadata?: Metadata;
  /** Cap on the messages every context of this session holds (PraisonAI `maxMessages`). */
  maxMessages?: number;
}

export interface UpdateSessionOptions {
  /** `null` clears the title. */
  title?: string | null;
  /** Replaces the whole metadata object. */
  metadata?: Metadata;
}

export interface AddMessagesOptions {
  /** First deletes everything after this message (as `truncateAfter`); `null`: the whole history (as `reset`, summaries too). */
  truncateAfter?: string | null;
  /** Replaces the whole metadata object, in the same write. */
  metadata?: Metadata;
}

export interface HistoryOptions {
  /** Only the newest `limit` messages. */
  limit?: number;
  /** A message id: the branch through that message (down to its newest message), not the active one. */
  branch?: string;
}

export interface EditMessageOptions {
  content: string | { type?: string; text: string }[];
  /** The alternative's id (default: generated); one the session holds is INVALID_MESSAGE. */
  id?: string;
  /** Replaces the original's metadata; kept when absent. */
  metadata?: Metadata | null;
  /** The alternative's payload (the original's is not carried over). */
  payload?: JsonValue;
}

export interface ForkOptions {
  /** Fork the path up to this message (default: the whole active history). */
  atMessageId?: string;
  /** The new session's id (default: generated). */
  id?: string;
  /** Default "Fork: " and the source's title (or id). */
  title?: string;
}

export interface MessagesForLlmOptions {
  /** The newest messages within this many estimated tokens (`token_window`). */
  maxTokens?: number;
  /** At most this many messages (`buffer_window`). */
  maxMessages?: number;
  strategy?: "recent";
}

/** A stored summary of older messages (`summary_buffer`). */
export interface Summary {
  id: string;
  sessionId: string;
  content: string;
  /** Ids of the messages this summary read directly. */
  covers: string[];
  /** The earlier summary this one folded in (whose messages it covers too). */
  rollsUp?: string;
  /** The newest `seq` covered. */
  throughSeq: number;
  /** Estimated tokens of the summary as sent. */
  tokens: number;
  model?: string;
  createdAt: number;
}

// llm-only:begin — the context preview
export type DropReason = "failed" | "empty" | "orphan_tool_result" | "before_user_turn" | "window";

export interface PreviewContextOptions {
  strategy?: ContextStrategy;
  budget?: number;
  /** PraisonAI spelling of a `token_window` budget. */
  maxTokens?: number;
  windowSize?: number;
  threshold?: number;
  target?: number;
  maxMessages?: number;
  /** The system prompt (defaults to the agent's `instructions` on handles from an agent). */
  instructions?: string;
  /** A user message about to be sent: counted as the newest, not stored. */
  input?: string;
}

/** What a call would send now, with the estimates and decisions behind it. */
export interface ContextPreview {
  strategy: ContextStrategy;
  system: string | null;
  /** Exactly the messages sent after the system prompt (a summary leads as a system message). */
  messages: LlmMessage[];
  entries: { id: string; seq: number; role: Role; tokens: number; summary?: true; pending?: true }[];
  /** Estimated tokens of the request: system prompt, tools, summary, messages. */
  tokens: number;
  /** `tokens` times the calibration learnt from the provider's reported usage. */
  calibratedTokens: number;
  calibration: number;
  budget: number | null;
  threshold: number | null;
  target: number | null;
  maxMessages: number | null;
  /** Messages read but not sent, and why. */
  dropped: { id: string; seq: number; reason: DropReason }[];
  /** Older messages (after the summary) were left out without being read. */
  omittedBeforeSeq: number | null;
  /** The active summary. */
  summary: Summary | null;
  /** A summarisation the call would make first: these messages (and `summary`) are folded into a
   * new summary, which is then sent ahead of `messages`. */
  summarize: { messageIds: string[]; throughSeq: number | null; previous: string | null } | null;
}
// llm-only:end

export interface QuerySessionsOptions {
  /** 1 to 1000; default 50. */
  limit?: number;
  cursor?: string | null;
  order?: "updatedAt" | "createdAt";
  direction?: "desc" | "asc";
}

export interface SessionPage {
  sessions: SessionInfo[];
  /** Pass back as `cursor` for the next page; `null` on the last. */
  nextCursor: string | null;
}

export type RunStatus = "pending" | "running" | "completed" | "failed" | "aborted";

export interface RunRecord {
  id: string;
  sessionId: string;
  agent?: string;
  provider?: string;
  model?: string;
  status: RunStatus;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  durationMs: number | null;
  attempts: number;
  usage: Usage;
  errorCode?: string;
  errorMessage?: string;
  /** Estimated tokens of the context sent (compared with `usage.inputTokens` to calibrate). */
  estimatedInputTokens?: number;
}

export interface CompleteRunOptions {
  tokensUsed?: number;
  usage?: Partial<Usage>;
}

/** AG-Kit's memory entry. */
export interface MemoryEntry {
  message: { id?: string; role: Role; content: string; timestamp?: Date | number; [key: string]: unknown };
  state?: Metadata;
}

export interface StoredMemoryEntry {
  message: Omit<Message, "metadata"> & { timestamp: Date };
  state: Metadata | null;
}

export type StoreEventName =
  | "session:created" | "session:updated" | "session:reset"
  | "session:deleted" | "session:expired" | "message:added" | "message:updated" | "run:updated";

export interface StoreEvent {
  type: StoreEventName;
  sessionId: string;
  session?: SessionInfo;
  message?: Message;
  run?: RunRecord;
  /** Set when another tab or worker over the same storage made the change. */
  remote?: true;
}

export type Unsubscribe = () => void;

/** Sessions over a storage backend. */
export class SessionStore {
  private constructor();
  free(): void;
  static open(config?: StoreConfig): Promise<SessionStore>;
  create(id?: string | null, options?: CreateSessionOptions): Promise<Session>;
  get(id: string): Promise<Session | null>;
  getOrCreate(id: string, options?: CreateSessionOptions): Promise<Session>;
  listSessions(): Promise<string[]>;
  querySessions(options?: QuerySessionsOptions): Promise<SessionPage>;
  delete(id: string): Promise<boolean>;
  sweep(): Promise<string[]>;
  /** Stores a bundle made by `session.export()` (the object or its JSON text). */
  importSession(bundle: SessionBundle | string, options?: ImportSessionOptions): Promise<Session>;
  /** AG-Kit: add an entry to a session, creating the session on first use. */
  add(entry: MemoryEntry, options: { sessionId: string }): Promise<StoredMemoryEntry>;
  /** AG-Kit: the entries of a session, oldest first (`[]` when it does not exist). */
  list(options: { sessionId: string; limit?: number }): Promise<StoredMemoryEntry[]>;
  on(event: StoreEventName, listener: (event: StoreEvent) => void): Unsubscribe;
}

/** A handle on one session. */
export class Session {
  private constructor();
  free(): void;
  readonly id: string;
  readonly title: string | null;
  readonly metadata: Metadata;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly messageCount: number;
  readonly usage: Usage;
  addMessage(message: NewMessage): Promise<Message>;
  /** Several messages as one write: all are validated first (a bad one writes nothing), then appended after the optional truncation, with the optional metadata. Resolves to the messages stored. */
  addMessages(messages: NewMessage[], options?: AddMessagesOptions): Promise<Message[]>;
  getHistory(options?: HistoryOptions): Promise<Message[]>;
  /** A new alternative to a message, made active; what followed the original stays on its branch. */
  editMessage(messageId: string, options: EditMessageOptions): Promise<Message>;
  /** The alternatives at a message's place (it among them), oldest first. */
  getBranches(messageId: string): Promise<Message[]>;
  /** Makes the branch through a message active, down to its newest message; resolves to the history. */
  switchBranch(messageId: string): Promise<Message[]>;
  /** Moves the active leaf back to a message, keeping what followed as a branch; resolves to the history. */
  rewind(messageId: string): Promise<Message[]>;
  /** Deletes everything after a message (every branch below it) and makes it active; resolves to the count deleted. */
  truncateAfter(messageId: string): Promise<number>;
  /** Replaces the message with this `id` in place, or appends it to the active branch. */
  upsertMessage(message: NewMessage & { id: string }): Promise<Message>;
  /** A new session with this one's active history (or the path to `atMessageId`), sharing nothing. */
  fork(options?: ForkOptions): Promise<Session>;
  // llm-only:begin (not in agent-sessions/store: scripts/build strips these regions for store.d.ts)
  getMessagesForLLM(options?: MessagesForLlmOptions): Promise<LlmMessage[]>;
  /** What a call would send now (the agent's settings on handles from an agent). */
  previewContext(options?: PreviewContextOptions): Promise<ContextPreview>;
  // llm-only:end
  /** Stored summaries (`summary_buffer`), oldest first. */
  getSummaries(): Promise<Summary[]>;
  /** Deletes one summary; the next context uses the one before it. */
  removeSummary(summaryId: string): Promise<boolean>;
  update(options: UpdateSessionOptions): Promise<SessionInfo>;
  reset(): Promise<void>;
  delete(): Promise<boolean>;
  refresh(): Promise<boolean>;
  createRun(): Run;
  getRuns(): Promise<RunRecord[]>;
  /** The whole session (messages, runs, summaries) as a versioned JSON bundle. */
  export(): Promise<SessionBundle>;
  toJSON(): SessionInfo;
}

/** A unit of work tracked on a session. */
export class Run {
  private constructor();
  free(): void;
  readonly id: string;
  readonly sessionId: string;
  readonly status: RunStatus;
  /** Milliseconds from start to end (to now while running); null before start. */
  readonly duration: number | null;
  start(): Promise<void>;
  complete(options?: CompleteRunOptions): Promise<void>;
  fail(error: unknown): Promise<void>;
  toJSON(): RunRecord;
}

// llm-only:begin — the LLM client and the agent (to the end of the file)
export type Provider = "openai" | "anthropic" | "gemini" | "mock" | "custom";

/** What a `custom` provider's handler receives. */
export interface CustomLlmRequest {
  model: string;
  system: string | null;
  messages: LlmMessage[];
  tools: ToolSpec[];
  stream: boolean;
}

/** What a `custom` provider's handler resolves to. */
export type CustomLlmResponse =
  | string
  | { content?: string; toolCalls?: ToolCall[]; usage?: Partial<Usage>; finishReason?: string; model?: string };

export interface LlmConfig {
  provider: Provider;
  /** Required for openai, anthropic and gemini. */
  model?: string;
  /** Sent as the provider's auth header; never stored or logged. */
  apiKey?: string;
  /** Replaces the provider's URL prefix, e.g. "http://localhost:11434/v1" for Ollama. */
  baseUrl?: string;
  headers?: Record<string, string>;
  maxTokens?: number;
  temperature?: number;
  /** Anthropic from a browser: sends `anthropic-dangerous-direct-browser-access: true`. */
  dangerouslyAllowBrowser?: boolean;
  /** mock: pause between streamed chunks. */
  chunkDelayMs?: number;
  /** custom: the model. */
  handler?: (request: CustomLlmRequest) => CustomLlmResponse | Promise<CustomLlmResponse>;
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
}

export interface ToolSpec {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object. */
  parameters?: JsonValue;
}

export interface RetryConfig {
  /** Default 2. */
  maxRetries?: number;
  /** Default 500. */
  baseDelayMs?: number;
  /** Default 8000. */
  maxDelayMs?: number;
  /** Cap on a server-requested wait. Default 60000. */
  maxRetryAfterMs?: number;
  /** Also retry a stream that already yielded deltas: it then yields `{ type: "restart" }` and the
   * stored partial reply is rewritten at once to what it was before the failed attempt (empty for
   * a new reply, the text being continued for a continue; still `interrupted`), then grows with
   * the new attempt's text. Default false (such a stream fails). */
  midStream?: boolean;
}

export type ContextStrategy = "full" | "buffer_window" | "token_window" | "summary_buffer";

/** What the model sees of a session. `maxMessages` caps every strategy. */
export type ContextConfig =
  | { strategy?: "full"; maxMessages?: number }
  /** The newest `windowSize` messages (default 20). */
  | { strategy: "buffer_window"; windowSize?: number; maxMessages?: number }
  /** The newest messages within `budget` estimated tokens (default 8000), system prompt included. */
  | { strategy: "token_window"; budget?: number; maxMessages?: number }
  /** Over `threshold × budget` (default 0.85), the oldest turns are summarised by the LLM so the
   * summary and the newest turns fit `target × budget` (default 0.7). */
  | { strategy: "summary_buffer"; budget?: number; threshold?: number; target?: number; maxMessages?: number };

export interface GenerateResult {
  content: string;
  sessionId: string;
  messageId: string;
  runId: string;
  usage: Usage;
  finishReason: string | null;
  model: string | null;
  toolCalls?: ToolCall[];
}

export interface GenerateOptions {
  sessionId?: string;
  signal?: AbortSignal;
}

export type StreamEvent =
  | { type: "start"; runId: string }
  | { type: "delta"; text: string }
  | { type: "tool_call"; toolCall: ToolCall }
  /** With `retry.midStream` only: the attempt that yielded the deltas and tool calls so far failed
   * (`reason` is its error code) and attempt `attempt` (1 = first retry) starts over: drop the text
   * shown so far and every `tool_call` yielded since the last `restart` (or `start`); they are void. */
  | { type: "restart"; attempt: number; reason: ErrorCode }
  | { type: "done"; result: GenerateResult };

export interface EventError {
  code: ErrorCode;
  message: string;
  status: number | null;
  retryable: boolean;
}

export type AgentEvent =
  | { type: "run:start"; run: RunRecord }
  | { type: "run:complete"; run: RunRecord; result: GenerateResult }
  | { type: "run:error"; run: RunRecord; error: EventError }
  /** A failed attempt is repeated. When `llm:chunk` events of the same run came before it (a
   * `midStream` restart), that text is void: the new attempt's chunks start over. */
  | { type: "llm:retry"; runId: string; sessionId: string; attempt: number; delayMs: number; error: EventError }
  /** Every delta as it arrives, of every attempt: after an `llm:retry` of the same run, the
   * chunks before it were voided (see `llm:retry`). */
  | { type: "llm:chunk"; runId: string; sessionId: string; text: string }
  | { type: "context:summarized"; runId: string; sessionId: string; summary: Summary }
  | { type: "context:summary_failed"; runId: string; sessionId: string; error: EventError };

export type AgentEventName = AgentEvent["type"];

export interface AgentConfig extends StoreConfig {
  llm?: LlmConfig;
  context?: ContextConfig;
  retry?: RetryConfig;
  /** Whole call, retries included. Default 600 000. */
  timeoutMs?: number;
  /** Longest wait for the next streamed chunk. Default 60 000. */
  idleTimeoutMs?: number;
  tools?: ToolSpec[];
  /** Author of this agent's assistant messages. Default "assistant". */
  name?: string;
  /** The system prompt; never stored as a message. */
  instructions?: string;
  /** Share a store (and so sessions) with other agents. */
  store?: SessionStore;
  /** Bind the agent to one session (a handle or an id). */
  session?: Session | string;
}

/** Dexto-shaped agent. */
export class Agent {
  constructor(config: AgentConfig);
  free(): void;
  readonly name: string;
  readonly instructions: string | undefined;
  start(): Promise<void>;
  store(): Promise<SessionStore>;
  createSession(sessionId?: string | null, options?: CreateSessionOptions): Promise<Session>;
  getSession(sessionId: string): Promise<Session | null>;
  listSessions(): Promise<string[]>;
  getSessionHistory(sessionId?: string): Promise<Message[]>;
  resetConversation(sessionId: string): Promise<void>;
  deleteSession(sessionId: string): Promise<boolean>;
  /** Stores `input` as a user message, calls the model, stores the reply. `null` input continues
   * from the stored history (e.g. after adding tool results). */
  generate(input: string | null, sessionIdOrOptions?: string | GenerateOptions): Promise<GenerateResult>;
  /** `generate` on the bound session (config `session`), created on first use. */
  chat(input: string | null, options?: GenerateOptions): Promise<GenerateResult>;
  /** One streamed turn; breaking out of the loop aborts it (the partial reply stays, `interrupted`). */
  stream(input: string | null, sessionIdOrOptions?: string | GenerateOptions): AsyncIterableIterator<StreamEvent>;
  /** Continues the session's `interrupted` reply (aborted, crashed, tab closed): the same message grows
   * and ends `complete`; `content` is the whole reply. INVALID_ARGUMENT when the last message is not an
   * interrupted assistant reply with text. A failed continue leaves it `interrupted`. */
  continue(sessionIdOrOptions?: string | GenerateOptions): Promise<GenerateResult>;
  /** `continue`, streamed: the deltas carry only the new text. */
  continueStream(sessionIdOrOptions?: string | GenerateOptions): AsyncIterableIterator<StreamEvent>;
  /** A new answer to a user message (or to the one a reply answers; default the last user message),
   * streamed like `stream`; the old answer stays as an alternative (`session.getBranches`). */
  regenerate(messageId?: string | null, sessionIdOrOptions?: string | GenerateOptions): AsyncIterableIterator<StreamEvent>;
  on<E extends AgentEventName>(event: E, listener: (event: Extract<AgentEvent, { type: E }>) => void): Unsubscribe;
  on(event: StoreEventName, listener: (event: StoreEvent) => void): Unsubscribe;
}
// llm-only:end
