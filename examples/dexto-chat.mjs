// Dexto's "Web Application Pattern" (the /chat endpoint of ../shared/seeds/001_…) written with
// agent-sessions in Node, on node:http instead of Express (no dependency). The route's body is the
// seed's, line for line. Run: node examples/dexto-chat.mjs (PORT=0 picks a free port).
import http from "node:http";
import { Agent } from "agent-sessions";

const agent = new Agent({
  // The seed uses { provider: 'openai', model: 'gpt-5-mini', apiKey: process.env.OPENAI_API_KEY };
  // the offline mock keeps this example runnable anywhere.
  llm: process.env.OPENAI_API_KEY
    ? { provider: "openai", model: "gpt-5-mini", apiKey: process.env.OPENAI_API_KEY }
    : { provider: "mock" },
});
await agent.start();

async function chat(req, res) {
  const { message, sessionId } = req.body;

  // Get existing session or create new one
  let session;
  if (sessionId) {
    const existing = await agent.getSession(sessionId);
    session = existing ?? await agent.createSession(sessionId);
  } else {
    session = await agent.createSession();
  }

  const response = await agent.generate(message, { sessionId: session.id });

  res.json({
    response: response.content,
    sessionId: session.id
  });
}

// What express() and express.json() would do for this one route.
const server = http.createServer(async (req, res) => {
  res.json = (v) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(v));
  if (req.method !== "POST" || req.url !== "/chat") return res.writeHead(404).end();
  let text = "";
  for await (const chunk of req) text += chunk;
  try {
    req.body = JSON.parse(text || "{}");
    await chat(req, res);
  } catch (e) {
    res.writeHead(e.code?.startsWith("INVALID") ? 400 : 500, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { code: e.code ?? "INTERNAL", message: e.message } }));
  }
});
server.listen(Number(process.env.PORT ?? 3000), "127.0.0.1", () => {
  console.log(`dexto-chat: listening on http://127.0.0.1:${server.address().port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
