// Cloudflare Workers: a Worker that authenticates and checks each request, and a Durable Object
// per tenant and agent that holds that tenant's sessions of that agent (in the object's storage)
// and runs them. Listing a tenant's sessions is one object's local query: nothing fans out.
//
// The config comes from `env.AGENT_SESSIONS_CONFIG` (a JSON object or its text, e.g. a [vars]
// table in wrangler.toml), or is passed to createWorker / the class; `${VAR}` in it is read from
// the Worker's env (secrets: `wrangler secret put TOKEN_A`).
import { createHandler } from "./server-handler.js";

/** A config that does not load is answered as a JSON 500 naming the key (and logged once),
 * rather than an exception page. */
function guarded(make) {
  let handler = null;
  let failure = null;
  return (request) => {
    if (!handler && !failure) {
      try {
        handler = make();
      } catch (e) {
        failure = { code: e.code ?? "INVALID_CONFIG", message: String(e.message ?? e) };
        console.error(`agent-sessions: bad config: ${failure.message}`);
      }
    }
    if (failure)
      return new Response(JSON.stringify({ error: { ...failure, details: null } }), {
        status: 500,
        headers: { "content-type": "application/json" },
      });
    return handler(request);
  };
}

function configFrom(env, given) {
  const c = given ?? env.AGENT_SESSIONS_CONFIG;
  if (c === undefined) throw Object.assign(new Error("AGENT_SESSIONS_CONFIG is not set"), { code: "INVALID_CONFIG" });
  return typeof c === "string" ? JSON.parse(c) : c;
}

/**
 * The Worker: `export default createWorker({ binding: "SESSIONS" })`. Requests for a tenant's
 * agent go to the object named `${tenant}/${agent}`.
 */
export function createWorker({ config, binding = "SESSIONS", rateLimit } = {}) {
  let handler = null;
  return {
    async fetch(request, env) {
      handler ??= guarded(() =>
        createHandler(configFrom(env, config), {
          env,
          rateLimit,
          dispatch: (req, { tenant, agent }) => {
            const ns = env[binding];
            return ns.get(ns.idFromName(`${tenant}/${agent}`)).fetch(req);
          },
        }),
      );
      return handler(request);
    },
  };
}

/**
 * The Durable Object class (declare it under `new_sqlite_classes` in wrangler.toml). It trusts
 * the tenant header, which only the Worker can set: objects are not reachable from outside.
 */
export class AgentSessionsObject {
  constructor(state, env, config) {
    this.state = state;
    this.env = env;
    this.config = config;
    this.handler = null;
  }

  async fetch(request) {
    this.handler ??= guarded(() =>
      createHandler(configFrom(this.env, this.config), {
        env: this.env,
        trustTenantHeader: true,
        // One object per tenant and agent: its SQLite storage is that tenant's agent's, nothing
        // to prefix. `state.storage` (not only `.sql`), so appends run in `transactionSync`.
        storage: () => ({ type: "sqlite", db: this.state.storage }),
        waitUntil: (p) => this.state.waitUntil?.(p),
      }),
    );
    return this.handler(request);
  }
}
