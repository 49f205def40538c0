// edge/ deploys as it is: `wrangler deploy --dry-run` (wrangler 4.164.0 under Node 22, from
// .tools/) bundles edge/worker.js with the package's workerd entry for agent-sessions/server and
// the server module, and reads the Durable Object binding and the config var from wrangler.toml.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { node22, root, tempDir, cleanup } from "./support.mjs";

test("wrangler deploy --dry-run bundles edge/ with the server module and its bindings", async () => {
  const wrangler = path.join(root, "tests/packaging/node_modules/wrangler/bin/wrangler.js");
  assert.ok(existsSync(wrangler), "wrangler is installed by scripts/setup into tests/packaging/");
  const out = tempDir("wrangler");
  try {
    const child = spawn(node22, [wrangler, "deploy", "--dry-run", "--outdir", out], {
      cwd: path.join(root, "edge"),
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1", PATH: `${path.dirname(node22)}:${process.env.PATH}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    child.stderr.on("data", (d) => (text += d));
    const [code] = await once(child, "exit");
    assert.equal(code, 0, text);
    assert.match(text, /env\.SESSIONS \(AgentSessionsObject\)\s+Durable Object/);
    assert.match(text, /env\.AGENT_SESSIONS_CONFIG/);
    const files = readdirSync(out);
    assert.ok(files.some((f) => f.endsWith("agent_sessions_server_bg.wasm")), files.join(", "));
    const bundle = readFileSync(path.join(out, "worker.js"), "utf8");
    assert.match(bundle, /AgentSessionsObject/);
    // The browser module is not in the Worker: only the server module is.
    assert.ok(!files.some((f) => /agent_sessions_bg\.wasm$/.test(f)), files.join(", "));
  } finally {
    cleanup(out);
  }
});
