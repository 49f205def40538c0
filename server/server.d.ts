// agent-sessions/server: Hector's REST + SSE API as a fetch-style handler.
export { Agent, SessionStore } from "./index.js";

/** A config in Hector's shape (parsed YAML or JSON); see the README, "Serve sessions over HTTP". */
export interface ServerConfig {
  llms?: Record<string, Record<string, unknown>>;
  agents: Record<string, { llm: string; instructions?: string; memory?: { working?: Record<string, unknown> }; session_store?: string }>;
  session_stores?: Record<string, { backend: "sql" | "memory" | "kv"; sql?: { driver: "sqlite" | "postgres"; database: string }; prefix?: string }>;
  auth?: { tenants: Record<string, { tokens?: string[]; token_sha256?: string[] }> };
  cors?: { origins?: string[] };
  server?: {
    port?: number; host?: string; max_body_bytes?: number; keepalive_ms?: number; run_timeout?: number | string;
    rate_limit?: { requests: number; per_seconds?: number };
    resume?: { max_bytes?: number; max_events?: number; keep_ms?: number };
  };
  [key: string]: unknown;
}

export interface HandlerOptions {
  /** Variables for `${VAR}` in the config. */
  env?: Record<string, string | undefined>;
  /** The library `storage` for one tenant's agent. Default `{ type: "memory" }`. */
  storage?: (where: { tenant: string; agent: string; store: Record<string, unknown> | null; storeName: string | null }) => unknown;
  /** null to go on, or `{ retryAfter }` (seconds) to answer 429. */
  rateLimit?: (tenant: string, request: Request) => { retryAfter: number } | null | Promise<{ retryAfter: number } | null>;
  dispatch?: (request: Request, where: { tenant: string; agent: string }) => Promise<Response>;
  trustTenantHeader?: boolean;
  waitUntil?: (p: Promise<unknown>) => void;
  /** Told of faults that are not the library's coded errors. Default: console.error. */
  onError?: (error: unknown) => void;
}

export interface Handler {
  (request: Request): Promise<Response>;
  fetch(request: Request): Promise<Response>;
  /** No new runs; waits for active ones, cancelling them after `graceMs` (default 10 000). */
  close(options?: { graceMs?: number }): Promise<void>;
  warm(): Promise<void>;
  activeRuns(): number;
  readonly config: unknown;
}

export function createHandler(config: ServerConfig, options?: HandlerOptions): Handler;
export function normalizeConfig(config: ServerConfig, env?: Record<string, string | undefined>): unknown;

/** Node only. */
export function serve(handler: Handler, options?: { port?: number; host?: string; log?: (line: string) => void }): Promise<{ url: string; port: number; close(options?: { graceMs?: number }): Promise<void> }>;

/** Workers only. */
export function createWorker(options?: { config?: ServerConfig; binding?: string; rateLimit?: HandlerOptions["rateLimit"] }): {
  fetch(request: Request, env: Record<string, unknown>): Promise<Response>;
};
export class AgentSessionsObject {
  constructor(state: unknown, env: Record<string, unknown>, config?: ServerConfig);
  fetch(request: Request): Promise<Response>;
}
