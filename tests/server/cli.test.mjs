// Hector's CLI (the package's bin, pkg/cli.js), driven as a user drives it: real processes, a
// YAML config in the seed's shape (session_stores → a SQLite file under ./data), the model over
// real HTTP (the mock LLM server, OpenAI wire format), and a pseudo-terminal (util-linux
// `script`) for the interactive mode. Every wait is for output or an exit, never the clock.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startMockLlmServer } from "../support/mock-llm-server.mjs";
import { cleanup, root, tempDir } from "./support.mjs";

const node = (() => {
  const p = path.join(root, ".tools/node_modules/node24/bin/node");
  return existsSync(p) ? p : process.execPath;
})();
const cli = path.join(root, "pkg/cli.js");

let llm;
let dir;
before(async () => {
  llm = await startMockLlmServer();
  dir = tempDir("cli");
  writeFileSync(path.join(dir, "config.yaml"), `# The seed's persistent-store config, with an LLM on the mock server.
llms:
  remote: { type: openai, model: gpt-4o-mini, host: "\${MOCK_LLM_URL}/v1", api_key: "\${OPENAI_API_KEY}", max_retries: 0 }
  # A reply streams a word every 3 s: a Ctrl-C always lands mid-reply.
  slow: { type: mock, chunk_delay_ms: 3000 }
session_stores:
  main-db:
    backend: sql
    sql:
      driver: sqlite  # or postgres, mysql
      database: ./data/sessions.db

agents:
  assistant:
    llm: remote
    instructions: You are a helpful assistant.
    session_store: "main-db"  # Reference global store
    memory:
      working:
        strategy: "summary_buffer"
        budget: 4000
  slow:
    llm: slow
    session_store: "main-db"
`);
});
after(async () => {
  await llm?.close();
  cleanup(dir);
});

/** Runs the CLI to its exit: { code, stdout, stderr }. */
function cli$(args, { input, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [cli, ...args], {
      cwd: dir,
      env: { ...process.env, MOCK_LLM_URL: llm.url, OPENAI_API_KEY: "sk-test", NODE_NO_WARNINGS: "1", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}
const base = ["--agent", "assistant", "--config", "config.yaml"];

/** One line on stderr, prefixed, without a stack trace. */
function assertOneLine(stderr, re) {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line: ${stderr}`);
  assert.match(lines[0], /^agent-sessions: /);
  assert.match(lines[0], re);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

test("two `call`s with one --session, in separate processes, are one conversation (in ./data/sessions.db)", async () => {
  const first = await cli$(["call", "My name is Sarah.", ...base, "--session", "my-session"]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, "Echo: My name is Sarah. (turn 1)\n");
  const second = await cli$(["call", "What is my name?", ...base, "--session", "my-session"]);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, "Your name is Sarah.\n");
  assert.ok(existsSync(path.join(dir, "data/sessions.db")), "the config's session store");
  // The model was sent the first turn by the second process.
  const sent = llm.requests().at(-1).body.messages.map((m) => `${m.role}:${m.content}`);
  assert.deepEqual(sent, [
    "system:You are a helpful assistant.",
    "user:My name is Sarah.",
    "assistant:Echo: My name is Sarah. (turn 1)",
    "user:What is my name?",
  ]);
  // No --session: a new one, named on stderr so it can be resumed.
  const fresh = await cli$(["call", "What is my name?", ...base]);
  assert.equal(fresh.stdout, "I don't have that information.\n");
  const id = /resume with --session (\S+)\)/.exec(fresh.stderr)?.[1];
  assert.match(id, /^sess_[0-9a-f]{32}$/);
  assert.equal((await cli$(["call", "What did I just say?", ...base, "--session", id])).stdout, 'You said: "What is my name?"\n');
});

test("`chat` reads lines from stdin when it is not a terminal: a reply per line, nothing else on stdout", async () => {
  const r = await cli$(["chat", ...base, "--session", "piped"], { input: "My name is Ada.\n\nWhat is my name?\n" });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "Echo: My name is Ada. (turn 1)\nYour name is Ada.\n");
  assert.equal(r.stderr, "", "no prompt, no progress indicator off a terminal");
  const again = await cli$(["chat", ...base, "--session", "piped"], { input: "What did I just say?\n" });
  assert.equal(again.stdout, 'You said: "What is my name?"\n', "a later process resumes the session");
});

test("`sessions list|show|export|import|delete` over the same store", async () => {
  const list = await cli$(["sessions", "list", ...base]);
  assert.equal(list.code, 0, list.stderr);
  const ids = list.stdout.trim().split("\n").map((l) => l.split("\t")[0]);
  assert.ok(ids.includes("my-session") && ids.includes("piped"), list.stdout);
  assert.match(list.stdout, /^my-session\t4 messages\t\d{4}-\d\d-\d\dT/m);
  const json = JSON.parse((await cli$(["sessions", "list", ...base, "--json"])).stdout);
  assert.equal(json.find((s) => s.id === "piped").messageCount, 6);

  const show = await cli$(["sessions", "show", "my-session", ...base]);
  assert.equal(show.code, 0);
  assert.deepEqual(show.stdout.trim().split("\n").slice(1), [
    "[user] My name is Sarah.",
    "[assistant] Echo: My name is Sarah. (turn 1)",
    "[user] What is my name?",
    "[assistant] Your name is Sarah.",
  ]);

  const exported = await cli$(["sessions", "export", "my-session", ...base, "--out", "bundle.json"]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.equal(JSON.parse(readFileSync(path.join(dir, "bundle.json"), "utf8")).format, "agent-sessions/session");
  const imported = await cli$(["sessions", "import", "bundle.json", ...base, "--session", "copy"]);
  assert.equal(imported.stdout, "copy\n", imported.stderr);
  assert.equal((await cli$(["call", "What is my name?", ...base, "--session", "copy"])).stdout, "Your name is Sarah.\n");
  const taken = await cli$(["sessions", "import", "bundle.json", ...base]);
  assert.equal(taken.code, 1);
  assertOneLine(taken.stderr, /exists/i);

  assert.equal((await cli$(["sessions", "delete", "copy", ...base])).code, 0);
  const gone = await cli$(["sessions", "show", "copy", ...base]);
  assert.equal(gone.code, 4);
  assertOneLine(gone.stderr, /^agent-sessions: --session: no session "copy"/);
});

test("mistakes exit non-zero with one line naming the flag or the config key", async () => {
  const unknownAgent = await cli$(["call", "hi", "--agent", "nobody", "--config", "config.yaml"]);
  assert.equal(unknownAgent.code, 3);
  assertOneLine(unknownAgent.stderr, /--agent: no agent "nobody" under agents in config\.yaml \(there: assistant, slow\)/);

  writeFileSync(path.join(dir, "bad.yaml"), "llms: { m: { type: mock } }\nagents:\n  assistant: { llm: fast }\n");
  const bad = await cli$(["call", "hi", "--agent", "assistant", "--config", "bad.yaml"]);
  assert.equal(bad.code, 3);
  assertOneLine(bad.stderr, /bad\.yaml: agents\.assistant\.llm: "fast" is not defined under llms/);

  writeFileSync(path.join(dir, "broken.yaml"), "agents: [unclosed\n");
  const broken = await cli$(["sessions", "list", "--agent", "assistant", "--config", "broken.yaml"]);
  assert.equal(broken.code, 3);
  assertOneLine(broken.stderr, /^agent-sessions: --config: broken\.yaml: /);

  const missing = await cli$(["call", "hi", "--agent", "assistant", "--config", "nope.yaml"]);
  assert.equal(missing.code, 3);
  assertOneLine(missing.stderr, /--config: cannot read config nope\.yaml: ENOENT/);

  const noAgent = await cli$(["call", "hi", "--config", "config.yaml"]);
  assert.equal(noAgent.code, 2);
  assertOneLine(noAgent.stderr, /--agent is required/);

  const flag = await cli$(["call", "hi", ...base, "--sesion", "x"]);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /^agent-sessions: unknown flag --sesion\n/);

  const model = await cli$(["call", "hi", ...base, "--session", "down"], { env: { MOCK_LLM_URL: "http://127.0.0.1:9" } });
  assert.equal(model.code, 1);
  assertOneLine(model.stderr, /./);
});

test("interactive `chat` in a pseudo-terminal: prompt, progress indicator, streamed replies, Ctrl-C keeps the reply `interrupted`, Ctrl-D quits", async () => {
  const cmd = [node, cli, "chat", "--agent", "slow", "--config", "config.yaml", "--session", "pty"].map((a) => `'${a}'`).join(" ");
  const child = spawn("script", ["-qfec", cmd, "/dev/null"], { cwd: dir, env: { ...process.env, TERM: "dumb", NODE_NO_WARNINGS: "1", MOCK_LLM_URL: llm.url, OPENAI_API_KEY: "sk-test" }, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  const waiters = [];
  child.stdout.on("data", (d) => {
    out += d;
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise((r) => child.on("exit", r));
  const waitFor = async (re, from = 0) => {
    while (!re.test(out.slice(from))) {
      const done = await Promise.race([new Promise((r) => waiters.push(() => r(false))), exited.then(() => true)]);
      if (done && !re.test(out.slice(from))) throw new Error(`exited before ${re}: ${JSON.stringify(out)}`);
    }
    return out.length;
  };
  try {
    let at = await waitFor(/you> /);
    child.stdin.write("My name is Sarah.\r");
    at = await waitFor(/Nice /, at);
    assert.match(out, /thinking…/, "a progress indicator while the reply is awaited");
    child.stdin.write("\x03"); // Ctrl-C mid-reply
    at = await waitFor(/\[interrupted\][^]*you> /, at);
    child.stdin.write("What is my name?\r");
    at = await waitFor(/Your /, at); // streamed: the first word before the rest
    await waitFor(/Your name is Sarah\.[^]*you> /, at - 5);
    child.stdin.write("\x04"); // Ctrl-D
    assert.equal(await exited, 0, out);
  } finally {
    child.kill();
  }
  const show = await cli$(["sessions", "show", "pty", "--agent", "slow", "--config", "config.yaml", "--json"]);
  const messages = JSON.parse(show.stdout).messages.map((m) => [m.role, m.status, m.content]);
  assert.deepEqual(messages, [
    ["user", "complete", "My name is Sarah."],
    ["assistant", "interrupted", "Nice "],
    ["user", "complete", "What is my name?"],
    ["assistant", "complete", "Your name is Sarah."],
  ]);
});

test("`chat` off a terminal without --session names the new session on stderr; an agent without a session_store says it keeps nothing", async () => {
  const r = await cli$(["chat", ...base], { input: "My name is Bo.\n" });
  assert.equal(r.code, 0, r.stderr);
  const id = /^agent-sessions: session (sess_[0-9a-f]{32}) \(resume with --session \1\)\n$/.exec(r.stderr)?.[1];
  assert.ok(id, r.stderr);
  assert.equal((await cli$(["call", "What is my name?", ...base, "--session", id])).stdout, "Your name is Bo.\n");
  writeFileSync(path.join(dir, "memory.yaml"), "llms: { m: { type: mock } }\nagents:\n  assistant: { llm: m }\n");
  const mem = await cli$(["call", "My name is Bo.", "--agent", "assistant", "--config", "memory.yaml", "--session", "x"]);
  assert.equal(mem.code, 0);
  assert.equal(mem.stderr, "agent-sessions: agents.assistant has no session_store: its sessions live only as long as this process\n");
});
