// A Cloudflare Worker serving Hector's REST + SSE API from agent-sessions/server: the Worker
// checks each request (route, bearer token → tenant, body size, rate limit, CORS) and forwards it
// to the Durable Object of that tenant's agent, which stores and runs its sessions.
// Deploy: `npx wrangler deploy` (see wrangler.toml; tokens and keys are secrets).
import { AgentSessionsObject, createWorker } from "agent-sessions/server";

export { AgentSessionsObject };
export default createWorker({ binding: "SESSIONS" });
