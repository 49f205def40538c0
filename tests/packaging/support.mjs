// Process, port and HTTP helpers for tests/packaging/run.mjs. Every wait is bounded and ends on an
// event (a process exits, a line is printed, a server listens); nothing sleeps to synchronise.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";

const children = new Set();

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal); // detached: the child leads its own process group
  } catch {
    // already gone
  }
}

// A test that throws or times out must not leave a workerd or a bundler behind.
process.on("exit", () => {
  for (const child of children) killGroup(child, "SIGKILL");
});

function tail(text, lines = 40) {
  return text.split("\n").slice(-lines).join("\n");
}

/**
 * Runs `cmd args` to completion in its own process group; resolves to its output, rejects (with
 * the output's tail) on a non-zero exit or after `timeoutMs`, killing the whole group.
 */
export function run(cmd, args, { cwd, env = process.env, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), timeoutMs);
    const label = `${path.basename(cmd)} ${args.join(" ")}`;
    child.on("error", (e) => {
      clearTimeout(timer);
      children.delete(child);
      reject(new Error(`${label}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (code === 0) return resolve({ stdout, stderr });
      const why = signal ? `killed by ${signal}${signal === "SIGKILL" ? ` (timeout ${timeoutMs} ms?)` : ""}` : `exit ${code}`;
      reject(new Error(`${label} (in ${cwd}): ${why}\n--- stdout\n${tail(stdout)}\n--- stderr\n${tail(stderr)}`));
    });
  });
}

/**
 * Starts a long-running `cmd args` in its own process group and resolves once its output matches
 * `ready` (the match is returned); rejects if it exits first or `timeoutMs` passes. `stop()` ends
 * the group: SIGTERM, then SIGKILL if it is still there after `graceMs`.
 */
export function startProcess(cmd, args, { cwd, env = process.env, ready, timeoutMs = 90_000, graceMs = 5_000 }) {
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let output = "";
  const exited = new Promise((resolve) => child.on("close", (code, signal) => {
    children.delete(child);
    resolve({ code, signal });
  }));
  const stop = async () => {
    if (!children.has(child)) return;
    killGroup(child, "SIGTERM");
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
    killGroup(child, "SIGKILL"); // grandchildren that ignored SIGTERM after their parent left
  };
  const started = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready after ${timeoutMs} ms:\n${tail(output)}`)), timeoutMs);
    const onData = (d) => {
      output += d;
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`exited (${signal ?? code}) before it was ready:\n${tail(output)}`));
    });
  });
  return { started, stop, output: () => output };
}

/** A TCP port that was free a moment ago (the kernel's choice), for tools that need a number. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

const types = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8", ".json": "application/json",
  ".wasm": "application/wasm", ".css": "text/css; charset=utf-8",
};

/** Serves the files under `dir` (a built app) on 127.0.0.1 at a free port. */
export async function serveDir(dir) {
  const server = createServer(async (req, res) => {
    const rel = path.posix.normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    const file = path.join(dir, rel.endsWith("/") ? rel + "index.html" : rel);
    try {
      if (!file.startsWith(dir + path.sep) || !(await stat(file)).isFile()) throw new Error("no");
      res.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
      res.end(await readFile(file));
    } catch {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  });
  await listen(server);
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

/**
 * An HTTP(S) proxy that refuses everything and records who asked: given to a tool as its
 * HTTPS_PROXY / HTTP_PROXY, it shows any download the tool tries at run time.
 */
export async function tripwireProxy() {
  const hits = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(403).end();
  });
  server.on("connect", (req, socket) => {
    hits.push(`CONNECT ${req.url}`);
    socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
  });
  await listen(server);
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    hits,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}
