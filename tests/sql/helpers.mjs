// Shared by the SQL suites: temp dirs that are removed, child processes that are killed, and
// the checks of a history written by killed or concurrent writers.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const here = path.dirname(fileURLToPath(import.meta.url));

export function tempDir(tag) {
  const dir = mkdtempSync(path.join(tmpdir(), `agent-sessions-${tag}-`));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function hasModule(name) {
  try {
    await import(name);
    return true;
  } catch {
    return false;
  }
}

const children = new Set();
process.on("exit", () => {
  for (const c of children) try { c.kill("SIGKILL"); } catch {}
});

/** Starts `tests/sql/writer.mjs` with `args`; lines of its stdout arrive through `onLine`.
 * `exited` resolves to the exit code (or signal). Bounded: a child is killed after `timeoutMs`. */
export function writer(args, onLine = () => {}, timeoutMs = 120_000) {
  const child = spawn(process.execPath, [path.join(here, "writer.mjs"), ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  children.add(child);
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  createInterface({ input: child.stdout }).on("line", onLine);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const exited = new Promise((resolve) =>
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stderr });
    }),
  );
  return { child, exited };
}

/** Runs a writer until it has acknowledged `acks` appends, then SIGKILLs it; resolves to the
 * contents it acknowledged. */
export async function killAfter(args, acks) {
  const acked = [];
  let w;
  await new Promise((resolve, reject) => {
    w = writer(args, (line) => {
      if (line.startsWith("ok ")) {
        acked.push(line.slice(3));
        if (acked.length === acks) {
          w.child.kill("SIGKILL");
          resolve();
        }
      }
    });
    w.exited.then(({ code, signal, stderr }) => {
      if (signal !== "SIGKILL") reject(new Error(`writer exited early (${code}): ${stderr}`));
      else resolve();
    });
  });
  await w.exited;
  return acked;
}

/** Every acknowledged append of every round is there, once, whole, in order; at most one more
 * per round (committed but killed before it could say so) follows a round's acknowledged ones. */
export function checkRounds(assert, history, rounds) {
  const contents = history.map((m) => m.content);
  assert.equal(new Set(contents).size, contents.length, "no duplicates");
  assert.ok(history.every((m, i) => i === 0 || m.seq > history[i - 1].seq), "seqs increase");
  let at = 0;
  rounds.forEach((acked, r) => {
    for (const c of acked) {
      assert.equal(contents[at], c, `round ${r}: acknowledged append at ${at}`);
      at++;
    }
    // An append that committed as the process died: the next one of that round, whole.
    if (contents[at] !== undefined && contents[at].startsWith(`r${r}-`)) {
      assert.equal(contents[at], content(r, acked.length));
      at++;
    }
  });
  assert.equal(at, contents.length, "nothing else");
}

/** The text of append `i` of round `r` (long enough that a kill can land inside its write). */
export function content(r, i) {
  return `r${r}-${i}-` + "x".repeat(2000) + `-end`;
}

/** Imports session `id` with two messages and a summary of the first into `store` (summaries
 * reach storage through the same put as an agent's summary_buffer writes). */
export async function importWithSummary(store, id) {
  const bundle = {
    format: "agent-sessions/session", version: 1, exportedAt: 1,
    session: { id, title: "Summed", metadata: {}, createdAt: 1, updatedAt: 2, usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 } },
    messages: [
      { id: "msg_a", sessionId: id, seq: 0, role: "user", content: "My name is Sarah.", status: "complete", createdAt: 1, tokens: 5 },
      { id: "msg_b", sessionId: id, seq: 1, role: "assistant", content: "Hello Sarah.", status: "complete", createdAt: 2, tokens: 4 },
    ],
    runs: [],
    summaries: [{ id: "sum_a", sessionId: id, content: "The user's name is Sarah.", covers: ["msg_a"], throughSeq: 0, tokens: 6, createdAt: 3 }],
  };
  await store.importSession(bundle);
}
