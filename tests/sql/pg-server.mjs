// A throwaway PostgreSQL server for the tests: Debian's `postgresql` package (initdb + pg_ctl),
// in a fresh temp dir, on a free port, listening on 127.0.0.1 and a socket in that dir. Stopped
// (and its dir removed) by stop() or, at the latest, when this process exits. As root (CI) the
// server runs as the `postgres` user, which initdb requires.
//
// The server itself is never crashed by the tests (they kill Node writers), so it runs with
// fsync=off to keep them fast; durability of an acknowledged commit is PostgreSQL's own.
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";

function binary(name) {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) throw new Error("PostgreSQL is not installed (./scripts/setup installs it)");
  const version = readdirSync(base).sort((a, b) => Number(b) - Number(a))[0];
  return path.join(base, version, "bin", name);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const root = process.getuid?.() === 0;
const quote = (a) => `'${String(a).replace(/'/g, `'\\''`)}'`;

function run(args) {
  const [cmd, ...rest] = root ? ["su", "postgres", "-c", args.map(quote).join(" ")] : args;
  return execFileSync(cmd, rest, { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 }).toString();
}

export async function startPostgres() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "agent-sessions-pg-"));
  if (root) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString());
    chownSync(dir, uid, gid);
  }
  const data = path.join(dir, "db");
  run([binary("initdb"), "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  run([binary("pg_ctl"), "-D", data, "-o", options, "-l", path.join(dir, "log"), "-w", "-t", "60", "start"]);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try {
      run([binary("pg_ctl"), "-D", data, "-m", "immediate", "-w", "-t", "60", "stop"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  process.on("exit", stop);
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, dir, stop };
}

let shared = null;
/** One server for the whole process (the wasm test binary opens many backends over it). */
export function sharedPostgres() {
  shared ??= startPostgres();
  return shared;
}
