import { SessionStore } from "/tmp/prof/pkgdbg/node.js";
import Database from "better-sqlite3";
import { mkdtempSync } from "node:fs";
let version = null;
const fake = { prepare(q) { return { reader: /^\s*SELECT/i.test(q), pluck() {}, raw() {}, run() { if (/INSERT INTO \w*meta/.test(q)) version = 1; return { changes: 1 }; }, all() { if (/sqlite_master/.test(q)) return version ? ["x"] : []; if (/schema_version/.test(q)) return version ? [1] : []; return []; } }; }, exec() {} };
const text = (i) => `message ${i}: ` + "lorem ipsum dolor sit amet ".repeat(8);
for (const [name, storage] of [["memory", { type: "memory" }], ["no-op SQL host", { type: "sqlite", db: fake }], ["better-sqlite3 tmpfs", { type: "sqlite", db: new Database(mkdtempSync("/dev/shm/p-") + "/a.db") }]]) {
  const store = await SessionStore.open({ storage });
  const s = await store.create("bench");
  const N = 20000;
  const t = performance.now();
  for (let i = 0; i < N; i++) await s.addMessage({ role: i % 2 ? "assistant" : "user", content: text(i) });
  console.log(name, ((performance.now() - t) / N * 1000).toFixed(1), "us/append");
}
