import Database from "better-sqlite3";
import { SessionStore } from "agent-sessions";
import { mkdtempSync } from "node:fs";
const base = process.env.BASE || "/tmp";
const text = (i) => `message ${i}: ` + "lorem ipsum dolor sit amet ".repeat(8);
function records(i) {
  const message = JSON.stringify({ id: `msg_${i.toString(16).padStart(24, "0")}`, sessionId: "bench", seq: i, role: i % 2 ? "assistant" : "user", content: text(i), status: "complete", createdAt: Date.now(), tokens: 60 });
  const session = JSON.stringify({ id: "bench", createdAt: 1, updatedAt: Date.now(), metadata: {}, messageCount: i + 1, nextSeq: i + 1, usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 } });
  return { message, session };
}
const N = 400, res = { hand: [], lib: [], hand1: [] };
for (let round = 0; round < 15; round++) for (const k of ["hand", "lib", "hand1"]) {
  const f = mkdtempSync(base + "/p-") + "/a.db";
  if (k === "lib") {
    const store = await SessionStore.open({ storage: { type: "sqlite", db: new Database(f) } });
    const s = await store.create("bench");
    const t = performance.now();
    for (let i = 0; i < N; i++) await s.addMessage({ role: i % 2 ? "assistant" : "user", content: text(i) });
    res.lib.push((performance.now() - t) / N * 1000);
    continue;
  }
  const first = new Database(f);
  await SessionStore.open({ storage: { type: "sqlite", db: first, prefix: "h_" } });
  if (k === "hand1") first.close();
  const db = new Database(f);
  db.pragma("journal_mode = WAL"); db.pragma("synchronous = FULL");
  db.prepare("INSERT INTO h_sessions VALUES ('bench', 1, 1, 0, '{}')").run();
  const insert = db.prepare("INSERT INTO h_messages (session_id, seq, id, data) VALUES ('bench', ?, ?, ?)");
  const update = db.prepare("UPDATE h_sessions SET updated_at = ?, next_seq = ?, data = ? WHERE id = 'bench'");
  const t = performance.now();
  for (let i = 0; i < N; i++) {
    const r = records(i);
    db.exec("BEGIN IMMEDIATE"); insert.run(i, `m${i}`, r.message); update.run(Date.now(), i + 1, r.session); db.exec("COMMIT");
  }
  res[k].push((performance.now() - t) / N * 1000);
}
const med = (v) => v.sort((a, b) => a - b)[v.length >> 1];
for (const [k, v] of Object.entries(res)) console.log(k.padEnd(6), med(v).toFixed(0), "us median;", v.map((x) => x.toFixed(0)).join(" "));
