// agent-sessions/praisonai: PraisonAI's Agent, Session and SessionManager over the library.
import type {
  AgentConfig, CompleteRunOptions, LlmConfig, LlmMessage, Message, MessagesForLlmOptions, Metadata, NewMessage,
  HistoryOptions, RunRecord, RunStatus, SessionStore, StorageConfig, AgentSessionsError,
} from "./index.js";
export type { AgentSessionsError, ErrorCode, LlmConfig, LlmMessage, Message, Metadata, StorageConfig } from "./index.js";

/** A call on a Session: applied after every earlier call, in order, whether or not it is
 * awaited. Never an unhandled rejection; an un-awaited failure is the session's `error` event
 * and the rejection of the next awaited call. */
export type Queued<T> = Promise<T>;

/** A message as the session mirror holds it: stored, or `pending` until it is. */
export type SessionMessage = Message | (NewMessage & { pending: true; createdAt: number });

export interface SessionOptions {
  /** Default: "sess_" + 128 random bits. */
  id?: string;
  /** Keep (and send) at most this many of the newest messages. */
  maxMessages?: number;
  metadata?: { [key: string]: unknown };
  /** Keep the session there (loaded from there when it exists). Default: memory, this object. */
  storage?: StorageConfig;
  /** Or share a SessionStore. */
  store?: SessionStore | Promise<SessionStore>;
}

export interface SessionErrorEvent {
  type: "error";
  sessionId: string;
  /** The call that failed: "addMessage", "chat", "getMessagesForLLM", "open", … */
  operation: string;
  error: AgentSessionsError;
}

export declare class Run {
  private constructor();
  /** The stored run's id (null only between `createRun()` on a still-opening session and its storing). */
  readonly id: string | null;
  readonly sessionId: string;
  status: RunStatus;
  startedAt: number | null;
  endedAt: number | null;
  error: string | null;
  metadata: CompleteRunOptions;
  /** Milliseconds from start to end (to now while running); null before start. */
  readonly duration: number | null;
  start(): Queued<void>;
  complete(options?: CompleteRunOptions): Queued<void>;
  fail(error: unknown): Queued<void>;
  toJSON(): { id: string | null; sessionId: string; status: RunStatus; startedAt: number | null; endedAt: number | null; duration: number | null; error: string | null; metadata: CompleteRunOptions };
}

export declare class Session {
  constructor(options?: SessionOptions);
  readonly id: string;
  metadata: Metadata;
  createdAt: number;
  readonly maxMessages: number | undefined;
  /** The conversation as the calls made so far leave it (synchronous). */
  readonly messages: SessionMessage[];
  /** The runs, oldest first (synchronous). */
  readonly runs: Run[];
  /** Resolves when the session is loaded and every call made so far is applied. */
  readonly ready: Queued<void>;
  addMessage(message: NewMessage | Message | LlmMessage): Queued<Message>;
  getMessagesForLLM(options?: MessagesForLlmOptions): Queued<LlmMessage[]>;
  getHistory(options?: HistoryOptions): Queued<Message[]>;
  createRun(): Run;
  clear(): Queued<void>;
  setMetadata(metadata: { [key: string]: unknown }): Queued<void>;
  on(event: "error", listener: (event: SessionErrorEvent) => void): () => void;
  toJSON(): { id: string; metadata: Metadata; createdAt: number; messages: SessionMessage[]; runs: ReturnType<Run["toJSON"]>[] };
}

export interface SessionManagerOptions {
  /** Default: the runtime's (IndexedDB in a browser, memory elsewhere). */
  storage?: StorageConfig;
  store?: SessionStore | Promise<SessionStore>;
  maxMessages?: number;
}

export declare class SessionManager {
  constructor(options?: SessionManagerOptions);
  /** The same Session object for an id each time; loaded from storage on first use. */
  getOrCreate(id: string, options?: Omit<SessionOptions, "id" | "store" | "storage">): Session;
  create(options?: Omit<SessionOptions, "store" | "storage">): Session;
  get(id: string): Session | undefined;
  list(): Session[];
  listSessions(): Promise<string[]>;
  delete(id: string): Promise<boolean>;
  on(event: "error", listener: (event: SessionErrorEvent) => void): () => void;
}

export interface AgentOptions extends Omit<AgentConfig, "llm" | "session" | "store" | "storage"> {
  name?: string;
  instructions?: string;
  /** The agent's memory: its messages and replies are stored there. */
  session?: Session;
  /** The library's LlmConfig, or a model name ("gpt-4o-mini", "anthropic/claude-…"). Default:
   * OpenAI gpt-4o-mini from OPENAI_API_KEY (OPENAI_BASE_URL, OPENAI_MODEL_NAME when set). */
  llm?: LlmConfig | string;
}

export interface ChatOptions {
  /** Use (and store in) this session for this call. */
  session?: Session;
  signal?: AbortSignal;
}

export declare class Agent {
  constructor(options?: AgentOptions);
  readonly name: string;
  readonly instructions: string | undefined;
  readonly session: Session | null;
  /** Resolves to the reply text. A string is stored (with the reply) in the session; messages
   * (or the promise `getMessagesForLLM()` returns) are sent as they are, and nothing is stored. */
  chat(input: string | LlmMessage[] | PromiseLike<LlmMessage[]> | (NewMessage | Message)[], options?: ChatOptions): Promise<string>;
  start(input: string | LlmMessage[] | PromiseLike<LlmMessage[]>, options?: ChatOptions): Promise<string>;
}

export interface StoredSessionInfo {
  id: string;
  metadata: Metadata;
  createdAt: Date;
  updatedAt: Date;
  messageCount: number;
}

/** PraisonAI's persistent session storage. */
export declare class SessionStorage {
  private constructor();
  /** Creates the session, or merges `metadata` into it when it exists. */
  createSession(sessionId: string, metadata?: { [key: string]: unknown }): Promise<StoredSessionInfo>;
  getSession(sessionId: string): Promise<StoredSessionInfo | null>;
  getMessages(sessionId: string, options?: HistoryOptions): Promise<Message[]>;
  /** Appends, creating the session on first use. */
  addMessage(sessionId: string, message: NewMessage | Message | LlmMessage): Promise<Message>;
  deleteSession(sessionId: string): Promise<boolean>;
  listSessions(): Promise<string[]>;
  store(): Promise<SessionStore>;
}

/** A connection string, `{ connectionString }` / `{ url }`, or a `pg.Pool`. */
export declare function createPostgresSessionStorage(db: string | { connectionString: string; prefix?: string } | { url: string; prefix?: string } | object): SessionStorage;
/** A file path, or an open SQLite database (node:sqlite, better-sqlite3, D1, a Durable Object's storage). */
export declare function createSQLiteSessionStorage(db: string | object): SessionStorage;
/** Any storage of the library, or a SessionStore. */
export declare function createSessionStorage(storage: StorageConfig | SessionStore): SessionStorage;
