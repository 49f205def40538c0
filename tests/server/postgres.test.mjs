// Two `agent-sessions serve` processes over one PostgreSQL database (a real server the test
// starts and stops, from Debian's postgresql): what several Node servers behind a load balancer
// share. A conversation begun on one continues on the other, tenants stay apart, and a restart
// of both keeps everything.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startPostgres } from "../sql/pg-server.mjs";
import { cleanup, client, startNode, tempDir, testConfig, TOKENS } from "./support.mjs";

test("node: two servers share sessions through PostgreSQL (driver postgres), tenants apart, across restarts", async () => {
  const pg = await startPostgres();
  const dir = tempDir("node-pg");
  const config = testConfig({
    session_stores: { main: { backend: "sql", sql: { driver: "postgres", database: "${PG_URL}" } } },
  });
  const env = { PG_URL: pg.url };
  let one = await startNode({ config, dir, env });
  let two = await startNode({ config, dir, env });
  try {
    const a1 = client(one.url, TOKENS.a);
    const a2 = client(two.url, TOKENS.a);
    const b2 = client(two.url, TOKENS.b);
    const id = (await a1.call("POST", "/agents/assistant/sessions", { title: "shared" })).json.session_id;
    await a1.call("POST", `/agents/assistant/sessions/${id}/messages`, { message: "My name is Pat." });
    const r = await a2.call("POST", `/agents/assistant/sessions/${id}/messages`, { message: "What is my name?" });
    assert.equal(r.status, 200);
    assert.equal(r.json.message.content, "Your name is Pat.", "the second server sees the first one's turn");
    assert.equal((await b2.call("GET", `/agents/assistant/sessions/${id}`)).status, 404, "tenant b cannot see it");
    // Tenant b may use the same id independently.
    assert.equal((await b2.call("POST", "/agents/assistant/sessions", { session_id: id })).status, 201);
    assert.deepEqual((await b2.call("GET", `/agents/assistant/sessions/${id}/messages`)).json.messages, []);

    await one.stop();
    await two.stop();
    one = await startNode({ config, dir, env });
    two = await startNode({ config, dir, env });
    const h = (await client(two.url, TOKENS.a).call("GET", `/agents/assistant/sessions/${id}/messages`)).json.messages;
    assert.deepEqual(h.map((m) => [m.role, m.content]), [
      ["user", "My name is Pat."],
      ["assistant", "Nice to meet you, Pat! I'll remember that."],
      ["user", "What is my name?"],
      ["assistant", "Your name is Pat."],
    ]);
    assert.equal((await client(one.url, TOKENS.a).call("GET", `/agents/assistant/sessions/${id}`)).json.title, "shared");
  } finally {
    await one.stop();
    await two.stop();
    pg.stop();
    cleanup(dir);
  }
});
