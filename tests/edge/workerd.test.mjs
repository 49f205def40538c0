// The package inside a real Worker (workerd, through miniflare): imported through the `workerd`
// entry of its exports map, it creates and reads sessions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { entry, worker } from "./worker.mjs";

// The worker imports the file the exports map names for workerd, exactly as a bundler would.
const script = `
import { Agent, SessionStore } from "${entry}";
const store = await SessionStore.open();
export default {
  async fetch(request) {
    const url = new URL(request.url);
    try {
      if (url.pathname === "/create") {
        const s = await store.create(url.searchParams.get("id") ?? undefined, { metadata: { via: "workerd" } });
        await s.addMessage({ role: "user", content: "hello from the edge" });
        return Response.json({ id: s.id });
      }
      if (url.pathname === "/read") {
        const s = await store.get(url.searchParams.get("id"));
        if (!s) return Response.json({ found: false });
        return Response.json({ found: true, metadata: s.metadata, history: await s.getHistory(), ids: await store.listSessions() });
      }
      if (url.pathname === "/agent") {
        const agent = new Agent({ name: "edge" });
        const s = await agent.createSession("user-1");
        return Response.json({ id: s.id, missing: await agent.getSession("nope") });
      }
      if (url.pathname === "/bad") {
        await store.create("   ");
      }
      return new Response("not found", { status: 404 });
    } catch (e) {
      return Response.json({ name: e.name, code: e.code, message: e.message }, { status: 400 });
    }
  },
};
`;

const held = worker("edge-smoke-worker", script);

test("a Worker creates and reads back a session through the workerd entry", async () => {
  const created = await (await held.mf.dispatchFetch("http://w/create?id=user-edge-1")).json();
  assert.equal(created.id, "user-edge-1");
  const read = await (await held.mf.dispatchFetch("http://w/read?id=user-edge-1")).json();
  assert.equal(read.found, true);
  assert.deepEqual(read.metadata, { via: "workerd" });
  assert.deepEqual(read.history.map((m) => m.content), ["hello from the edge"]);
  assert.deepEqual(read.ids, ["user-edge-1"]);
  const generated = await (await held.mf.dispatchFetch("http://w/create")).json();
  assert.match(generated.id, /^sess_[0-9a-f]{32}$/, "crypto.getRandomValues works in workerd");
  const missing = await (await held.mf.dispatchFetch("http://w/read?id=ghost")).json();
  assert.equal(missing.found, false);
});

test("Agent works in workerd and errors keep their code", async () => {
  const agent = await (await held.mf.dispatchFetch("http://w/agent")).json();
  assert.deepEqual(agent, { id: "user-1", missing: null });
  const bad = await held.mf.dispatchFetch("http://w/bad");
  assert.equal(bad.status, 400);
  const err = await bad.json();
  assert.equal(err.name, "AgentSessionsError");
  assert.equal(err.code, "INVALID_ID");
});
