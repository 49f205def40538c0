// ./scripts/edge: see that script's header.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const args = process.argv.slice(2);
const useNode = args.includes("--node");
const portArg = args.includes("--port") ? Number(args[args.indexOf("--port") + 1]) : null;
const configPath = path.join(root, "server/dev.config.yaml");

async function freePort(preferred) {
  const tryPort = (p) =>
    new Promise((resolve) => {
      const s = net.createServer().once("error", () => resolve(null));
      s.listen(p, "127.0.0.1", () => s.close(() => resolve(s.address()?.port ?? p)));
    });
  return (await tryPort(preferred)) ?? (await tryPort(0));
}

const port = portArg ?? (await freePort(8787));
const hint = (url) =>
  console.log(`
agent-sessions dev server (${useNode ? "Node" : "workerd"}): ${url}
  curl -X POST ${url}/agents/assistant/sessions -H "Authorization: Bearer dev-token-a"
  curl -X POST ${url}/agents/assistant/sessions/SESSION_ID/messages -H "Authorization: Bearer dev-token-a" \\
    -H "Content-Type: application/json" -d '{"message": "My name is Sarah."}'
  curl -N -X POST ${url}/agents/slow/sessions/SESSION_ID/messages/stream -H "Authorization: Bearer dev-token-a" \\
    -d '{"message": "Please repeat a long sentence with very many short words in it, one by one"}'
Ctrl-C stops it.`);

if (useNode) {
  const node22 = path.join(root, ".tools/node_modules/node22/bin/node");
  const node = existsSync(node22) ? node22 : process.execPath;
  const child = spawn(node, ["--experimental-sqlite", "--no-warnings", path.join(root, "pkg/cli.js"), "serve", "--config", configPath, "--port", String(port)], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { AGENT_SESSIONS_DB: path.join(root, "test-output/edge-dev/node-sessions.db"), ...process.env },
  });
  child.stdout.on("data", (d) => {
    process.stdout.write(d);
    const m = /listening on (\S+)/.exec(String(d));
    if (m) hint(m[1]);
  });
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
  child.on("exit", (code) => process.exit(code ?? 0));
} else {
  const { Miniflare } = await import("miniflare");
  const YAML = await import("yaml");
  const config = YAML.parse(readFileSync(configPath, "utf8"));
  const pkg = JSON.parse(readFileSync(path.join(root, "pkg/package.json"), "utf8"));
  const dir = path.join(root, "test-output/edge-dev");
  mkdirSync(dir, { recursive: true });
  // edge/worker.js as a bundler would see it: the package's workerd entry for `agent-sessions/server`.
  const script = readFileSync(path.join(root, "edge/worker.js"), "utf8").replace(
    '"agent-sessions/server"',
    JSON.stringify("../../" + path.posix.join("pkg", pkg.exports["./server"].workerd)),
  );
  const scriptPath = path.join(dir, "worker.js");
  writeFileSync(scriptPath, script);
  const mf = new Miniflare({
    scriptPath,
    modules: true,
    modulesRoot: root,
    modulesRules: [
      { type: "ESModule", include: ["**/*.js"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2025-01-01",
    host: "127.0.0.1",
    port,
    durableObjects: { SESSIONS: { className: "AgentSessionsObject", useSQLite: true } },
    durableObjectsPersist: path.join(dir, "do"),
    bindings: { AGENT_SESSIONS_CONFIG: config },
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  hint(url);
  const stop = async () => {
    await mf.dispose();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
