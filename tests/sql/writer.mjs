// A child process of the SQL crash and concurrency tests: opens `storage` (JSON) through the
// package, then appends to `session` in a loop and prints `ok <content>` once each append has
// resolved. With `wait`, it first prints `ready` and waits for a line on stdin (a start barrier).
//
//   node writer.mjs <storage-json> <session> <round> <count> [wait]
import { createInterface } from "node:readline";
import { SessionStore } from "agent-sessions";
import { content } from "./helpers.mjs";

const [storageJson, session, round, count, wait] = process.argv.slice(2);
const storage = JSON.parse(storageJson);
const store = await SessionStore.open({ storage });
const s = await store.getOrCreate(session);
if (wait) {
  process.stdout.write("ready\n");
  await new Promise((resolve) => createInterface({ input: process.stdin }).once("line", resolve));
}
for (let i = 0; i < Number(count); i++) {
  const text = content(round, i);
  await s.addMessage({ role: i % 2 ? "assistant" : "user", content: text });
  process.stdout.write(`ok ${text}\n`);
}
process.exit(0);
