// agent-sessions/ag-kit: AG-Kit's memory API over the library's sessions.
import type { GenerateResult, LlmConfig, MemoryEntry, SessionStore, StorageConfig, StoredMemoryEntry, AgentConfig, Usage } from "./index.js";
export type { AgentSessionsError, ErrorCode, MemoryEntry, StorageConfig, StoredMemoryEntry } from "./index.js";

export interface SessionMemoryOptions {
  /** Default: the runtime's (IndexedDB in a browser, memory elsewhere). */
  storage?: StorageConfig;
  store?: SessionStore | Promise<SessionStore>;
}

/** AG-Kit's memory over any storage of the library. */
export declare class SessionMemory {
  constructor(options?: SessionMemoryOptions);
  add(entry: MemoryEntry, options: { sessionId: string }): Promise<StoredMemoryEntry>;
  list(options: { sessionId: string; limit?: number }): Promise<StoredMemoryEntry[]>;
  getCount(options: { sessionId: string }): Promise<number>;
  /** Deletes the session and its entries; resolves to whether it existed. */
  clear(options: { sessionId: string }): Promise<boolean>;
  listSessions(): Promise<string[]>;
  store(): Promise<SessionStore>;
}

/** In memory, this instance only. */
export declare class InMemoryMemory extends SessionMemory {
  constructor();
}

export interface AgKitAgentOptions extends Omit<AgentConfig, "llm" | "session" | "store" | "storage"> {
  llm?: LlmConfig | string;
}

export interface AgentRunResult {
  content: string;
  message: { id: string; role: "assistant"; content: string; timestamp: Date };
  sessionId: string | null;
  usage: Usage;
  finishReason: GenerateResult["finishReason"];
  model: GenerateResult["model"];
}

/** `run({ messages })` sends exactly `messages` and resolves to the reply; nothing is stored. */
export declare class Agent {
  constructor(options?: AgKitAgentOptions);
  readonly name: string;
  readonly instructions: string | undefined;
  run(input: { messages: { role: "system" | "user" | "assistant" | "tool"; content: string | null; [key: string]: unknown }[]; sessionId?: string; signal?: AbortSignal }): Promise<AgentRunResult>;
}
