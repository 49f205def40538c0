#!/usr/bin/env node
// agent-sessions serve --config config.yaml [--port 8080] [--host 127.0.0.1] [--quiet]
//
// Serves Hector's REST + SSE API from Node: the config's agents, its session stores (a SQLite
// file, or memory), its tenants and CORS origins. Prints `listening on <url>` once ready.
// SIGINT/SIGTERM shut down gracefully: no new runs, active runs finish or are cancelled after
// the grace period (their partial replies stored `interrupted`), storage closed, exit 0.
import { createHandler, serve } from "./server-node.js";
import { readConfigFile } from "./server-config-file.js";
import { closeStorage, nodeStorage } from "./server-node-storage.js";

const USAGE = "usage: agent-sessions serve --config <config.yaml|json> [--port N] [--host H] [--grace-ms N] [--quiet]";

function args(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith("--")) {
      const [k, inline] = a.slice(2).split("=", 2);
      if (k === "quiet" || k === "help") out[k] = true;
      else out[k] = inline ?? argv[++i];
    } else out._.push(a);
  }
  return out;
}

async function main() {
  const a = args(process.argv.slice(2));
  if (a.help || a._[0] !== "serve" || !a.config) {
    console.error(USAGE);
    process.exit(a.help ? 0 : 2);
  }
  let handler;
  try {
    const raw = await readConfigFile(a.config);
    handler = createHandler(raw, { env: process.env, storage: nodeStorage });
    // Open every agent's store now, so a store that cannot open fails the start, not a request.
    await handler.warm?.();
  } catch (e) {
    console.error(`agent-sessions: bad config: ${e.message}`);
    process.exit(1);
  }
  const cfg = handler.config;
  const port = a.port !== undefined ? Number(a.port) : (cfg.server.port ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`agent-sessions: --port must be 0..65535`);
    process.exit(2);
  }
  const host = a.host ?? cfg.server.host ?? "127.0.0.1";
  const log = a.quiet ? () => {} : (m) => console.error(m);
  const running = await serve(handler, { port, host, log });
  const tenants = cfg.tenants ? `${cfg.tenants.length} tenant(s)` : "no auth (one tenant)";
  console.log(`agent-sessions: listening on ${running.url} (agents: ${Object.keys(cfg.agents).join(", ")}; ${tenants})`);
  let stopping = false;
  const stop = async (sig) => {
    if (stopping) return;
    stopping = true;
    console.error(`agent-sessions: ${sig}: finishing active runs`);
    await running.close({ graceMs: a["grace-ms"] !== undefined ? Number(a["grace-ms"]) : 10_000 });
    await closeStorage();
    console.error("agent-sessions: stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main();
