// A Cloudflare Worker: wrangler resolves the package's `workerd` entry and uploads the .wasm as a
// compiled module. Each conversation lives in a Durable Object (the storage the README advises for
// chat); `POST /chat` runs the scenario there, `GET /history` reads it back in a later request
// through a new store over the object's storage.
import * as lib from "agent-sessions";
import { runScenario } from "./scenario.js";

export class Conversation {
  constructor(ctx) {
    this.ctx = ctx;
  }

  async fetch(request) {
    const storage = { type: "kv", kv: this.ctx.storage };
    const { pathname } = new URL(request.url);
    try {
      if (pathname === "/chat" && request.method === "POST") {
        return Response.json(await runScenario(lib, { storage }));
      }
      if (pathname === "/history") {
        const store = await lib.SessionStore.open({ storage });
        const session = await store.get("packaging-check");
        const history = session ? await session.getHistory() : null;
        return Response.json({ history: history && history.map((m) => ({ role: m.role, content: m.content, status: m.status })) });
      }
      return new Response("not found", { status: 404 });
    } catch (e) {
      return Response.json({ error: String(e?.stack ?? e) }, { status: 500 });
    }
  }
}

export default {
  async fetch(request, env) {
    const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName("packaging"));
    return stub.fetch(request);
  },
};
