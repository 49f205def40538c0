// The page side of bench/idb.mjs: runs in the browser, imports the built package from /pkg/.
//
// Per round: N `addMessage` calls through the library (IndexedDB storage, Web Locks and
// BroadcastChannel on, as in an app) against N raw IndexedDB `readwrite` transactions with
// `durability: "strict"`, one per message, each putting an equivalent message record, the two
// alternating in chunks of CHUNK; then RESTORES alternating pairs of the library's
// `getHistory()` of the N messages (from a freshly opened store) against a raw `getAll` over
// the session's key range.
import { SessionStore } from "/pkg/browser.js";

const text = (i) => `message ${i}: ` + "lorem ipsum dolor sit amet ".repeat(8);
const now = () => performance.now();
const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
const done = (tx) => new Promise((ok, fail) => { tx.oncomplete = ok; tx.onabort = tx.onerror = () => fail(tx.error); });

function rawOpen(name) {
  const r = indexedDB.open(name, 1);
  r.onupgradeneeded = () => {
    r.result.createObjectStore("messages", { keyPath: ["sessionId", "seq"] });
  };
  return req(r);
}

async function drop(name) {
  await new Promise((ok) => { const r = indexedDB.deleteDatabase(name); r.onsuccess = r.onerror = r.onblocked = ok; });
}

/** The library's appends, in chunks: `next(count)` appends `count` more and returns the ms. */
async function oursAppender(name) {
  const store = await SessionStore.open({ storage: { type: "indexeddb", name } });
  const s = await store.create("bench");
  let i = 0;
  return {
    async next(count) {
      const t = now();
      for (const end = i + count; i < end; i++) await s.addMessage({ role: i % 2 ? "assistant" : "user", content: text(i) });
      return now() - t;
    },
    close() { s.free?.(); store.free?.(); }, // drops the connection (wasm-bindgen's free)
  };
}

/** Raw strict readwrite transactions, one put each, in chunks likewise. */
async function rawAppender(name) {
  const db = await rawOpen(name);
  let i = 0;
  return {
    async next(count) {
      const t = now();
      for (const end = i + count; i < end; i++) {
        const tx = db.transaction(["messages"], "readwrite", { durability: "strict" });
        tx.objectStore("messages").put({
          id: `msg_${i.toString(16).padStart(26, "0")}`, sessionId: "bench", seq: i,
          role: i % 2 ? "assistant" : "user", content: text(i), status: "complete", createdAt: Date.now(), tokens: 40,
        });
        await done(tx);
      }
      return now() - t;
    },
    close() { db.close(); },
  };
}

async function oursRestore(name, n) {
  const store = await SessionStore.open({ storage: { type: "indexeddb", name } });
  const s = await store.get("bench");
  const t = now();
  const history = await s.getHistory();
  const ms = now() - t;
  s.free?.(); store.free?.();
  if (history.length !== n) throw new Error(`library restore read ${history.length} of ${n}`);
  return ms;
}

async function rawRestore(name, n) {
  const db = await rawOpen(name);
  const t = now();
  const tx = db.transaction(["messages"], "readonly");
  const all = await req(tx.objectStore("messages").getAll(IDBKeyRange.bound(["bench", 0], ["bench", Infinity], false, true)));
  const ms = now() - t;
  db.close();
  if (all.length !== n) throw new Error(`raw restore read ${all.length} of ${n}`);
  return ms;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

export async function run({ n = 2000, rounds = 5, restores = 7, chunk = 100 } = {}) {
  const out = { n, rounds, restores, chunk, append: { ours: [], raw: [] }, restore: { ours: [], raw: [] } };
  for (let r = 0; r < rounds; r++) {
    const ours = `bench-ours-${r}`, raw = `bench-raw-${r}`;
    await drop(ours); await drop(raw);
    // The two sides alternate in chunks of CHUNK appends (which goes first alternating too), so
    // a change in the machine's load falls on both alike; each side's time is its chunks' sum.
    const [a, b] = [await oursAppender(ours), await rawAppender(raw)];
    let [ta, tb] = [0, 0];
    for (let c = 0, sent = 0; sent < n; c++, sent += chunk) {
      const count = Math.min(chunk, n - sent);
      if ((r + c) % 2 === 0) { ta += await a.next(count); tb += await b.next(count); }
      else { tb += await b.next(count); ta += await a.next(count); }
    }
    a.close(); b.close();
    out.append.ours.push(ta);
    out.append.raw.push(tb);
    for (let k = 0; k < restores; k++) {
      if ((r + k) % 2 === 0) {
        out.restore.ours.push(await oursRestore(ours, n));
        out.restore.raw.push(await rawRestore(raw, n));
      } else {
        out.restore.raw.push(await rawRestore(raw, n));
        out.restore.ours.push(await oursRestore(ours, n));
      }
    }
    await drop(ours); await drop(raw);
  }
  out.median = {
    appendOurs: median(out.append.ours), appendRaw: median(out.append.raw),
    restoreOurs: median(out.restore.ours), restoreRaw: median(out.restore.raw),
  };
  // Append: speed relative to raw (>= 0.8 wanted). Restore: time relative to raw (<= 1.3 wanted).
  out.appendSpeed = out.median.appendRaw / out.median.appendOurs;
  out.restoreTime = out.median.restoreOurs / out.median.restoreRaw;
  return out;
}

window.runBench = run;
window.benchReady = true;
