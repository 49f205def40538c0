// PraisonAI's "Agent with Persistent Sessions" snippet with PostgreSQL in place of Neon: the
// seed file the packaging stage runs (tests/packaging/consumers/seeds/002-praisonai.ts), here with
// DATABASE_URL set to a real PostgreSQL this test starts, run twice as two Node 24 processes
// (type stripping) against the mock LLM server: the second remembers the first.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { startPostgres } from "./pg-server.mjs";
import { startMockLlmServer } from "../support/mock-llm-server.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const node24 = path.join(root, ".tools/node_modules/node24/bin/node");
const dir = path.join(root, "test-output/sql/seeds");
let server;
let llm;

before(async () => {
  server = await startPostgres();
  llm = await startMockLlmServer();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, "data"), { recursive: true });
  cpSync(path.join(root, "tests/packaging/consumers/seeds/002-praisonai.ts"), path.join(dir, "002-praisonai.ts"));
  writeFileSync(path.join(dir, "package.json"), '{ "type": "module" }\n');
});
after(async () => {
  await llm?.close();
  server?.stop();
});

function runSnippet() {
  return new Promise((resolve, reject) => {
    execFile(node24, ["002-praisonai.ts"], {
      cwd: dir,
      env: { ...process.env, DATABASE_URL: server.url, OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: `${llm.url}/v1`, NODE_NO_WARNINGS: "1" },
      timeout: 120_000,
    }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)));
  });
}

test("PraisonAI persistent sessions over PostgreSQL: a second process resumes the first's conversation", async () => {
  assert.ok(existsSync(node24), "scripts/setup installs Node 24 into .tools/");
  const first = (await runSnippet()).split("\n");
  assert.ok(first.includes("test: Echo: My name is Petra. (turn 1)"), first.join("\n"));
  assert.ok(first.includes("test: stored 2 messages"));
  const second = (await runSnippet()).split("\n");
  assert.ok(second.includes("test: Your name is Petra."), second.join("\n"));
  assert.ok(second.includes("test: stored 4 messages"));
  assert.ok(!existsSync(path.join(dir, "data/praisonai.db")), "nothing went to SQLite");
  // The rows are PostgreSQL's.
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    const { rows } = await client.query("SELECT count(*)::int AS n FROM agent_sessions_messages WHERE session_id = $1", ["persistent-1"]);
    assert.equal(rows[0].n, 4);
  } finally {
    await client.end();
  }
});
