// agent-sessions/server's declarations type real usage (Node and Workers) and reject misuse.
import { Agent, AgentSessionsObject, createHandler, createWorker, serve, type Handler } from "agent-sessions/server";

const handler: Handler = createHandler(
  {
    llms: { mock: { type: "mock" } },
    agents: { assistant: { llm: "mock", memory: { working: { strategy: "buffer_window", window_size: 20 } } } },
    auth: { tenants: { a: { tokens: ["dev-token-a"] } } },
    server: { keepalive_ms: 15000, rate_limit: { requests: 60 } },
  },
  { env: {}, storage: ({ tenant, agent }) => ({ type: "memory", tenant, agent }), rateLimit: () => null },
);
const res: Promise<Response> = handler(new Request("http://x/health"));
void res;
void (async () => {
  const s = await serve(handler, { port: 0 });
  const url: string = s.url;
  void url;
  await s.close({ graceMs: 100 });
  await handler.close();
})();
export default createWorker({ binding: "SESSIONS" });
export { AgentSessionsObject };
const a = new Agent({ name: "x" });
void a;
// @ts-expect-error agents are required
createHandler({});
// @ts-expect-error the handler takes a Request
void handler("http://x/");
