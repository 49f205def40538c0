// The token_window build benchmark, runtime-neutral (Node and browsers): sessions of 100 to
// 100,000 messages in the memory store, and the time of one `getMessagesForLLM({ maxTokens: 8000 })`
// (a token_window build: read the newest pages, select, convert to the OpenAI shape).
// Run it through ./run.mjs (Node and headless Chromium).

const TEXTS = [
  "Could you look at the deployment logs from last night and tell me why the worker restarted twice?",
  "The worker ran out of memory while resizing images; the second restart came from the health check timing out.",
  "What would you change so it does not happen again, and how much would the bigger instance cost per month?",
  "Stream the resize instead of buffering whole files, cap concurrency at four, and keep the current instance size.",
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))];
};

/** `lib` is the package ({ SessionStore }); `now` a millisecond clock (performance.now). */
export async function runBench(lib, { sizes = [100, 1000, 10000, 100000], builds = 200, budget = 8000, now, log = () => {} } = {}) {
  const store = await lib.SessionStore.open({ storage: { type: "memory" } });
  const session = await store.create("bench");
  const rows = [];
  let count = 0;
  for (const size of sizes) {
    const fillStart = now();
    for (; count < size; count++) {
      await session.addMessage({ role: count % 2 ? "assistant" : "user", content: `${count}: ${TEXTS[count % TEXTS.length]}` });
    }
    const fillMs = now() - fillStart;
    // Warm up, then time each build separately.
    let kept = 0;
    for (let i = 0; i < 20; i++) kept = (await session.getMessagesForLLM({ maxTokens: budget, strategy: "recent" })).length;
    // Batches of 10 builds, so a coarse browser clock (100 µs) still resolves a build.
    const times = [];
    for (let i = 0; i < builds / 10; i++) {
      const t0 = now();
      for (let j = 0; j < 10; j++) await session.getMessagesForLLM({ maxTokens: budget, strategy: "recent" });
      times.push((now() - t0) / 10);
    }
    const row = { messages: size, kept, medianMs: median(times), p90Ms: quantile(times, 0.9), builds: times.length * 10, fillMs };
    log(row);
    rows.push(row);
  }
  return rows;
}
