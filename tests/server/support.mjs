// Shared by the server suites: start the Node server (the package's `bin`) or the Worker (in
// workerd through miniflare) on a free port chosen at runtime, talk to it, read SSE streams.
// Every wait is on an event (a line printed, a frame read, a process exit), never on the clock.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { once } from "node:events";
import { moduleWorkerOptions } from "../support/workerd.mjs";

export const root = fileURLToPath(new URL("../../", import.meta.url));
export const outDir = path.join(root, "test-output", "server");
mkdirSync(outDir, { recursive: true });

/** Node 22.12 from .tools (scripts/setup; node:sqlite, behind --experimental-sqlite there, for
 * the SQLite store): the oldest Node 22 the package claims. The machine's node otherwise. */
export const node22 = (() => {
  const p = path.join(root, ".tools/node_modules/node22/bin/node");
  return existsSync(p) ? p : process.execPath;
})();

export const TOKENS = { a: "dev-token-a", b: "dev-token-b" };

/** The config of the suites: the dev config's tenants and agents, with a short keepalive. */
export function testConfig(extra = {}) {
  return {
    llms: {
      mock: { type: "mock" },
      "mock-slow": { type: "mock", chunk_delay_ms: 40 },
      // Nothing listens on the discard port: every call fails with LLM_NETWORK.
      down: { type: "openai", model: "m", host: "http://127.0.0.1:9/v1", api_key: "sk-test-not-a-key", max_retries: 0 },
    },
    session_stores: { main: { backend: "sql", sql: { driver: "sqlite", database: "${AGENT_SESSIONS_DB}" } } },
    agents: {
      assistant: { llm: "mock", instructions: "You are a helpful assistant.", session_store: "main" },
      slow: { llm: "mock-slow", session_store: "main" },
      broken: { llm: "down", session_store: "main" },
    },
    auth: { tenants: { a: { tokens: [TOKENS.a] }, b: { tokens: [TOKENS.b] } } },
    server: { keepalive_ms: 50, max_body_bytes: 65536, ...(extra.server ?? {}) },
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== "server")),
  };
}

/** testConfig for the Worker: sessions live in each Durable Object's storage, no store to name. */
export function workerdConfig(extra = {}) {
  const c = testConfig(extra);
  delete c.session_stores;
  for (const a of Object.values(c.agents)) delete a.session_store;
  return c;
}

export function tempDir(name) {
  return mkdtempSync(path.join(outDir, `${name}-`));
}

/** Spawns `agent-sessions serve` and resolves once it prints its URL. */
export async function startNode({ config, dir, env = {}, args = [] }) {
  const configPath = path.join(dir, "config.json");
  if (config) writeFileSync(configPath, JSON.stringify(config, null, 2));
  const child = spawn(
    node22,
    ["--experimental-sqlite", "--no-warnings", path.join(root, "pkg/cli.js"), "serve", "--config", configPath, "--port", "0", "--quiet", ...args],
    { env: { ...process.env, AGENT_SESSIONS_DB: path.join(dir, "sessions.db"), ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const url = await new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
  const exited = once(child, "exit");
  return {
    url,
    child,
    stderr: () => err,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code] = await exited;
      return code;
    },
  };
}

/** The test Worker: edge/worker.js, plus a route that evicts a Durable Object (state.abort). */
export function workerScript() {
  const pkg = JSON.parse(readFileSync(path.join(root, "pkg/package.json"), "utf8"));
  const entry = "../../" + path.posix.join("pkg", pkg.exports["./server"].workerd);
  return `
import { AgentSessionsObject, createWorker } from "${entry}";
export class TestSessionsObject extends AgentSessionsObject {
  async fetch(request) {
    if (new URL(request.url).pathname === "/__test/evict") {
      this.state.abort("evicted by the test");
    }
    return super.fetch(request);
  }
}
const worker = createWorker({ binding: "SESSIONS" });
export default {
  async fetch(request, env, ctx) {
    const u = new URL(request.url);
    const m = /^\\/__test\\/evict\\/([^/]+)\\/([^/]+)$/.exec(u.pathname);
    if (m) {
      const ns = env.SESSIONS;
      try {
        await ns.get(ns.idFromName(m[1] + "/" + m[2])).fetch("http://object/__test/evict");
      } catch (e) {
        return new Response("evicted");
      }
      return new Response("not evicted", { status: 500 });
    }
    return worker.fetch(request, env, ctx);
  },
};
`;
}

/** Starts the Worker in workerd with its Durable Objects persisted under `dir`. */
export async function startWorkerd({ config, dir }) {
  const { Miniflare } = await import("miniflare");
  const scriptPath = path.join(outDir, "test-worker.js");
  writeFileSync(scriptPath, workerScript());
  const mf = new Miniflare({
    scriptPath,
    ...moduleWorkerOptions(root),
    host: "127.0.0.1",
    port: 0,
    durableObjects: { SESSIONS: { className: "TestSessionsObject", useSQLite: true } },
    durableObjectsPersist: path.join(dir, "do"),
    bindings: { AGENT_SESSIONS_CONFIG: config },
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  return { url, mf, stop: () => mf.dispose() };
}

/** A small client for one server and tenant. */
export function client(base, token) {
  const auth = token ? { authorization: `Bearer ${token}` } : {};
  const call = async (method, p, body, headers = {}) => {
    const init = { method, headers: { ...auth, ...headers } };
    if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      init.headers["content-type"] = "application/json";
    }
    const res = await fetch(base + p, init);
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {}
    return { status: res.status, headers: res.headers, json, text };
  };
  return { call, base, token };
}

/**
 * Opens an SSE stream and reads it frame by frame. `next()` resolves with the next event
 * (`{ id, event, data }`) or null at the end; `comments` counts `:` lines; `abort()` drops the
 * connection.
 */
export async function openStream(url, { method = "GET", headers = {}, body } = {}) {
  const ac = new AbortController();
  const res = await fetch(url, {
    method,
    headers: { ...headers, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: ac.signal,
  });
  const s = { status: res.status, headers: res.headers, comments: 0, raw: "" };
  if (!res.body || res.status !== 200) {
    s.text = await res.text();
    s.next = async () => null;
    s.abort = () => {};
    return s;
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  let ended = false;
  s.next = async () => {
    for (;;) {
      const i = buf.indexOf("\n\n");
      if (i >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = { id: null, event: "message", data: "" };
        let isEvent = false;
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) s.comments++;
          else if (line.startsWith("id: ")) (ev.id = line.slice(4)), (isEvent = true);
          else if (line.startsWith("event: ")) (ev.event = line.slice(7)), (isEvent = true);
          else if (line.startsWith("data: ")) data.push(line.slice(6)), (isEvent = true);
        }
        if (!isEvent) continue;
        ev.data = JSON.parse(data.join("\n"));
        return ev;
      }
      if (ended) return null;
      const { value, done } = await reader.read();
      if (done) ended = true;
      else {
        const t = decoder.decode(value, { stream: true });
        s.raw += t;
        buf += t;
      }
    }
  };
  s.all = async () => {
    const out = [];
    for (let e; (e = await s.next()); ) out.push(e);
    return out;
  };
  s.abort = () => {
    ac.abort();
    reader.cancel().catch(() => {});
  };
  return s;
}

export function cleanup(dir) {
  rmSync(dir, { recursive: true, force: true });
}

/** Runs a shell command line (bash), resolving with its stdout. */
export async function sh(command) {
  const child = spawn("bash", ["-c", command], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const [code] = await once(child, "exit");
  if (code !== 0) throw new Error(`${command}\nexit ${code}: ${err}`);
  return out;
}
