// agent-sessions/dexto: Dexto's DextoAgent is the library's Agent.
import { Agent } from "./index.js";
export type {
  AgentConfig as DextoAgentConfig, GenerateResult, GenerateOptions, Message, Session, SessionInfo, StreamEvent,
  AgentEvent, AgentEventName, AgentSessionsError, ErrorCode,
} from "./index.js";

/** Dexto's agent: `new DextoAgent({ llm, storage, sessions })`, `start()`, `createSession()`,
 * `generate(text, sessionId | { sessionId })`, `getSessionHistory`, `listSessions`, … */
export declare const DextoAgent: typeof Agent;
export type DextoAgent = Agent;
