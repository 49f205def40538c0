#!/usr/bin/env node
// agent-sessions: Hector's CLI over a Hector config (YAML or JSON).
//
//   agent-sessions serve --config config.yaml [--port 8080] [--host 127.0.0.1] [--grace-ms N] [--quiet]
//   agent-sessions chat --agent assistant --config config.yaml [--session my-session]
//   agent-sessions call "Hello" --agent assistant --config config.yaml [--session my-session]
//   agent-sessions sessions list|show <id>|delete <id>|export <id> [--out f]|import <file> --agent A --config C
//
// `serve` serves the REST + SSE API; the others work on the agent's sessions directly, in the
// config's `session_stores` (the same tables `serve` uses for its open tenant, `default`), so the
// same `--session` resumes the same conversation in a later process, or over HTTP.
//
// Exit codes: 0 done; 1 the call failed (model, storage); 2 usage (command, flag); 3 config
// (unreadable, invalid, unknown --agent); 4 no such session (show, delete, export); 130 stopped
// by Ctrl-C. Errors are one line on stderr, naming the flag or config key; no stack traces.
import { createHandler, normalizeConfig, serve, Agent } from "./server-node.js";
import { readConfigFile } from "./server-config-file.js";
import { closeStorage, nodeStorage } from "./server-node-storage.js";

const USAGE = `usage:
  agent-sessions serve --config <config.yaml|json> [--port N] [--host H] [--grace-ms N] [--quiet]
  agent-sessions chat --agent <name> --config <file> [--session <id>]
  agent-sessions call "<message>" --agent <name> --config <file> [--session <id>]
  agent-sessions sessions list --agent <name> --config <file> [--json]
  agent-sessions sessions show|delete|export <id> --agent <name> --config <file> [--json] [--out <file>]
  agent-sessions sessions import <file|-> --agent <name> --config <file> [--session <id>] [--overwrite]`;

const EXIT = { ok: 0, failed: 1, usage: 2, config: 3, notFound: 4, interrupted: 130 };
const BOOLEAN = new Set(["quiet", "help", "json", "overwrite"]);
const VALUED = new Set(["config", "port", "host", "grace-ms", "agent", "session", "out"]);

class CliError extends Error {
  constructor(message, exit) {
    super(message);
    this.exit = exit;
  }
}

function args(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      out._.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const k = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const inline = eq < 0 ? undefined : a.slice(eq + 1);
      if (BOOLEAN.has(k)) out[k] = true;
      else if (VALUED.has(k)) {
        const v = inline ?? argv[++i];
        if (v === undefined || (inline === undefined && v.startsWith("--"))) throw new CliError(`--${k} needs a value`, EXIT.usage);
        out[k] = v;
      } else throw new CliError(`unknown flag --${k}`, EXIT.usage);
    } else out._.push(a);
  }
  return out;
}

function say(line) {
  process.stderr.write(`agent-sessions: ${line}\n`);
}

/** One line for any error: ours, the library's (its message names the key), or anything. */
function oneLine(e) {
  return String(e?.message ?? e).split("\n")[0];
}

async function loadConfig(a) {
  if (!a.config) throw new CliError("--config is required (a Hector config, YAML or JSON)", EXIT.usage);
  let raw;
  try {
    raw = await readConfigFile(a.config);
  } catch (e) {
    throw new CliError(`--config: ${oneLine(e)}`, EXIT.config);
  }
  try {
    return { raw, cfg: normalizeConfig(raw, process.env) };
  } catch (e) {
    throw new CliError(`${a.config}: ${oneLine(e)}`, EXIT.config);
  }
}

/** The configured agent, over its session store (the tables `serve` uses for tenant `default`). */
async function openAgent(a) {
  const { cfg } = await loadConfig(a);
  if (!a.agent) throw new CliError(`--agent is required (agents in ${a.config}: ${Object.keys(cfg.agents).join(", ")})`, EXIT.usage);
  const spec = Object.hasOwn(cfg.agents, a.agent) ? cfg.agents[a.agent] : null;
  if (!spec) throw new CliError(`--agent: no agent "${a.agent}" under agents in ${a.config} (there: ${Object.keys(cfg.agents).join(", ")})`, EXIT.config);
  if (!spec.session_store && a._[0] !== "serve") {
    say(`agents.${a.agent} has no session_store: its sessions live only as long as this process`);
  }
  let agent;
  try {
    const store = spec.session_store ? cfg.session_stores[spec.session_store] : null;
    const storage = await nodeStorage({ tenant: "default", agent: a.agent, store, storeName: spec.session_store });
    agent = new Agent({ ...spec.options, storage });
    await agent.start();
  } catch (e) {
    throw new CliError(`${a.config}: ${oneLine(e)}`, EXIT.config);
  }
  return agent;
}

async function sessionFor(agent, id) {
  if (id === undefined) return (await agent.createSession()).id;
  if (!(await agent.getSession(id))) await agent.createSession(id);
  return id;
}

/** A spinner on stderr while a reply is awaited, on a terminal only. */
function progress() {
  if (!process.stderr.isTTY) return () => {};
  const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
  let i = 0;
  const draw = () => process.stderr.write(`\r${frames[i++ % frames.length]} thinking…`);
  draw();
  const t = setInterval(draw, 80);
  return () => {
    clearInterval(t);
    process.stderr.write("\r\x1b[2K");
  };
}

/** Streams one reply to stdout; resolves to "done" or "interrupted" (the partial reply stays
 * stored as `interrupted`). */
async function turn(agent, sessionId, text, signal) {
  let stop = progress();
  let wrote = false;
  try {
    for await (const ev of agent.stream(text, { sessionId, signal })) {
      if (ev.type === "delta") {
        stop();
        stop = () => {};
        process.stdout.write(ev.text);
        wrote = true;
      }
    }
    process.stdout.write("\n");
    return "done";
  } catch (e) {
    if (e?.code === "ABORTED") {
      if (wrote) process.stdout.write("\n");
      process.stderr.write("[interrupted]\n");
      return "interrupted";
    }
    if (wrote) process.stdout.write("\n");
    throw e;
  } finally {
    stop();
  }
}

async function call(a) {
  const text = a._.slice(1).join(" ");
  if (!text) throw new CliError('call needs a message: agent-sessions call "Hello" --agent <name> --config <file>', EXIT.usage);
  const agent = await openAgent(a);
  const sessionId = await sessionFor(agent, a.session);
  if (a.session === undefined) say(`session ${sessionId} (resume with --session ${sessionId})`);
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.on("SIGINT", onSigint);
  try {
    return (await turn(agent, sessionId, text, controller.signal)) === "interrupted" ? EXIT.interrupted : EXIT.ok;
  } finally {
    process.off("SIGINT", onSigint);
  }
}

async function chat(a) {
  const agent = await openAgent(a);
  const sessionId = await sessionFor(agent, a.session);
  const tty = Boolean(process.stdin.isTTY);
  if (!tty && a.session === undefined) say(`session ${sessionId} (resume with --session ${sessionId})`);
  const { createInterface } = await import("node:readline");
  const rl = createInterface({ input: process.stdin, output: tty ? process.stdout : undefined, terminal: tty });
  if (tty) {
    const history = await agent.getSessionHistory(sessionId);
    say(`session ${sessionId}${history.length ? ` (${history.length} messages; resumed)` : ""}; Ctrl-C stops a reply, Ctrl-D quits`);
    rl.setPrompt("you> ");
  }
  let active = null; // the reply's AbortController
  let code = EXIT.ok;
  const lines = [];
  let wake = null;
  let closed = false;
  rl.on("line", (l) => {
    lines.push(l);
    wake?.();
  });
  rl.on("close", () => {
    closed = true;
    wake?.();
  });
  const interrupt = () => {
    if (active) active.abort();
    else {
      // At the prompt: Ctrl-C quits.
      code = EXIT.interrupted;
      closed = true;
      rl.close();
      wake?.();
    }
  };
  rl.on("SIGINT", interrupt);
  process.on("SIGINT", interrupt);
  if (tty) rl.prompt();
  for (;;) {
    if (!lines.length) {
      if (closed) break;
      await new Promise((r) => (wake = r));
      wake = null;
      continue;
    }
    const text = lines.shift().trim();
    if (!text) {
      if (tty) rl.prompt();
      continue;
    }
    active = new AbortController();
    try {
      await turn(agent, sessionId, text, active.signal);
    } catch (e) {
      say(oneLine(e));
      if (!tty) {
        code = EXIT.failed;
        break;
      }
    } finally {
      active = null;
    }
    if (tty && !closed) rl.prompt();
  }
  process.off("SIGINT", interrupt);
  rl.close();
  if (tty) process.stdout.write("\n");
  return code;
}

const iso = (ms) => new Date(ms).toISOString();

async function sessions(a) {
  const [, sub, id] = a._;
  const needId = ["show", "delete", "export", "import"];
  if (!["list", ...needId].includes(sub)) throw new CliError(`sessions needs list, show, delete, export or import${sub ? ` (not "${sub}")` : ""}`, EXIT.usage);
  if (needId.includes(sub) && !id) throw new CliError(`sessions ${sub} needs ${sub === "import" ? "a bundle file (or - for stdin)" : "a session id"}`, EXIT.usage);
  const agent = await openAgent(a);
  const store = await agent.store();
  if (sub === "list") {
    const all = [];
    let cursor = null;
    do {
      const page = await store.querySessions({ limit: 1000, cursor });
      all.push(...page.sessions);
      cursor = page.nextCursor;
    } while (cursor);
    if (a.json) process.stdout.write(JSON.stringify(all.map((s) => ({ id: s.id, title: s.title, messageCount: s.messageCount, createdAt: iso(s.createdAt), updatedAt: iso(s.updatedAt) })), null, 2) + "\n");
    else for (const s of all) process.stdout.write(`${s.id}\t${s.messageCount} messages\t${iso(s.updatedAt)}${s.title ? `\t${s.title}` : ""}\n`);
    return EXIT.ok;
  }
  if (sub === "import") {
    const { readFileSync } = await import("node:fs");
    let text;
    try {
      text = readFileSync(id === "-" ? 0 : id, "utf8");
    } catch (e) {
      throw new CliError(`sessions import: cannot read ${id}: ${e.code ?? e.message}`, EXIT.usage);
    }
    const s = await store.importSession(text, { ...(a.session ? { id: a.session } : {}), ...(a.overwrite ? { overwrite: true } : {}) });
    process.stdout.write(`${s.id}\n`);
    return EXIT.ok;
  }
  const session = await store.get(id);
  if (!session) throw new CliError(`--session: no session "${id}" for agent ${a.agent}`, EXIT.notFound);
  if (sub === "delete") {
    await store.delete(id);
    say(`deleted ${id}`);
    return EXIT.ok;
  }
  if (sub === "export") {
    const json = JSON.stringify(await session.export(), null, 2) + "\n";
    if (a.out) (await import("node:fs")).writeFileSync(a.out, json);
    else process.stdout.write(json);
    return EXIT.ok;
  }
  const history = await session.getHistory();
  if (a.json) {
    process.stdout.write(JSON.stringify({ ...session.toJSON(), messages: history }, null, 2) + "\n");
    return EXIT.ok;
  }
  process.stdout.write(`session ${session.id}${session.title ? ` "${session.title}"` : ""}: ${history.length} messages, updated ${iso(session.updatedAt)}\n`);
  for (const m of history) {
    process.stdout.write(`[${m.role}${m.status !== "complete" ? `, ${m.status}` : ""}] ${m.content}\n`);
  }
  return EXIT.ok;
}

async function serveCommand(a) {
  if (!a.config) throw new CliError("--config is required (a Hector config, YAML or JSON)", EXIT.usage);
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

async function main() {
  let a;
  try {
    a = args(process.argv.slice(2));
  } catch (e) {
    say(e.message);
    console.error(USAGE);
    process.exit(EXIT.usage);
  }
  const command = a._[0];
  if (a.help || !command) {
    console.error(USAGE);
    process.exit(a.help ? EXIT.ok : EXIT.usage);
  }
  if (command === "serve") return serveCommand(a);
  const commands = { chat, call, sessions };
  if (!Object.hasOwn(commands, command)) {
    say(`unknown command "${command}"`);
    console.error(USAGE);
    process.exit(EXIT.usage);
  }
  let code;
  try {
    code = await commands[command](a);
  } catch (e) {
    say(oneLine(e));
    code = e instanceof CliError ? e.exit : e?.code === "SESSION_NOT_FOUND" ? EXIT.notFound : e?.code === "INVALID_CONFIG" ? EXIT.config : EXIT.failed;
  }
  await closeStorage().catch(() => {});
  process.exit(code);
}

main();
