// A bounded loopback load test of the sessions API: `sessions` sessions over tenants a and b,
// each sent `turns` messages, all sessions concurrently (turns within a session in order).
// Checks every history exactly (roles, contents, nothing from another session) and reports
// request latency percentiles. The mock provider answers, so the figures are the server's cost.
//
//   node bench/server/load.mjs --url http://127.0.0.1:PORT [--sessions 200] [--turns 5]
//   (or --node / --workerd to start the dev server itself; see bench/server.md)
import http from "node:http";

const TOKENS = { a: "dev-token-a", b: "dev-token-b" };

// node:http without keep-alive: a fresh loopback connection per request, so a server closing an
// idle kept-alive socket just as the client reuses it (a client-side race, not the server's
// fault) cannot fail a request. Connecting on loopback costs ~0.1 ms.
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
function request(url, { method = "GET", headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode, text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

function pct(sorted, p) {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function loadRun({ url, sessions = 200, turns = 5, agent: agentName = "assistant", concurrency = Infinity }) {
  const latencies = { create: [], send: [], history: [] };
  let errors = 0;
  let firstError = null;
  let checked = 0;
  const fail = (what) => {
    errors++;
    firstError ??= what;
  };
  const timed = async (kind, p, init) => {
    const t0 = performance.now();
    const res = await request(url + p, init);
    latencies[kind].push(performance.now() - t0);
    let body = null;
    try {
      body = JSON.parse(res.text);
    } catch {}
    return { status: res.status, body };
  };
  const one = async (i) => {
    const tenant = i % 2 ? "b" : "a";
    const headers = { authorization: `Bearer ${TOKENS[tenant]}`, "content-type": "application/json" };
    const base = `/agents/${agentName}/sessions`;
    const c = await timed("create", base, { method: "POST", headers });
    if (c.status !== 201) return fail({ i, step: "create", ...c });
    const id = c.body.session_id;
    const expected = [];
    for (let t = 0; t < turns; t++) {
      // Each session says something only it knows; the reply must be about that, and nothing else.
      const message = t === 0 ? `My name is S${i}x.` : `What is my name? (turn ${t} of session ${i})`;
      const r = await timed("send", `${base}/${id}/messages`, { method: "POST", headers, body: JSON.stringify({ message }) });
      if (r.status !== 200) return fail({ i, t, step: "send", ...r });
      if (t > 0 && r.body.message.content !== `Your name is S${i}x.`) return fail({ i, t, step: "reply", got: r.body.message.content });
      expected.push(["user", message], ["assistant", r.body.message.content]);
    }
    const h = await timed("history", `${base}/${id}/messages`, { headers });
    const got = h.body?.messages?.map((m) => [m.role, m.content]);
    if (JSON.stringify(got) !== JSON.stringify(expected)) return fail({ i, step: "history", got, expected });
    checked++;
  };
  const t0 = performance.now();
  const queue = Array.from({ length: sessions }, (_, i) => i);
  const workers = Array.from({ length: Math.min(concurrency, sessions) }, async () => {
    while (queue.length) await one(queue.shift()).catch((e) => fail({ error: String(e), cause: String(e?.cause ?? "") }));
  });
  await Promise.all(workers);
  const wall = performance.now() - t0;
  const summary = {};
  for (const [k, v] of Object.entries(latencies)) {
    const s = [...v].sort((x, y) => x - y);
    summary[k] = { n: s.length, p50: +pct(s, 50).toFixed(1), p99: +pct(s, 99).toFixed(1), max: +(s.at(-1) ?? 0).toFixed(1) };
  }
  const requests = Object.values(latencies).reduce((n, v) => n + v.length, 0);
  return { sessions, turns, checked, errors, firstError, wallMs: +wall.toFixed(0), requests, rps: +((requests / wall) * 1000).toFixed(0), latency: summary };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (k, d) => {
    const i = process.argv.indexOf(`--${k}`);
    return i > 0 ? process.argv[i + 1] : d;
  };
  const sessions = Number(arg("sessions", 200));
  const turns = Number(arg("turns", 5));
  let url = arg("url");
  let stop = async () => {};
  if (!url) {
    const s = await import("../../tests/server/support.mjs");
    const dir = s.tempDir("bench");
    const server = process.argv.includes("--workerd")
      ? await s.startWorkerd({ config: s.workerdConfig(), dir })
      : await s.startNode({ config: s.testConfig(), dir });
    url = server.url;
    stop = async () => {
      await server.stop();
      s.cleanup(dir);
    };
  }
  const concurrency = Number(arg("concurrency", Infinity));
  const r = await loadRun({ url, sessions, turns, concurrency });
  console.log(JSON.stringify(r, null, 2));
  await stop();
  process.exit(r.errors ? 1 : 0);
}
