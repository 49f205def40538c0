// Shared by the Node runner (tests/js/agent.test.mjs) and the Chromium runner
// (tests/e2e/agent-chromium.test.mjs): the mock server's control API over plain fetch, and running
// one case under a deadline. No Node-only APIs: this file is also served to the page.

/** `t.control`: script replies/faults for a model key and read back the requests it received. */
export function makeControl(mockUrl) {
  return {
    async script(key, steps) {
      const res = await fetch(`${mockUrl}/__control/script`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ key, steps }),
      });
      if (res.status !== 200) throw new Error(`mock script failed: HTTP ${res.status} ${await res.text()}`);
      return res.json();
    },
    /** Lets one `holdCut` step of `key` make its cut (see the mock server). */
    async release(key) {
      const res = await fetch(`${mockUrl}/__control/release?key=${encodeURIComponent(key)}`, { method: "POST" });
      if (res.status !== 200) throw new Error(`mock release failed: HTTP ${res.status}`);
    },
    async requests(key) {
      const res = await fetch(`${mockUrl}/__control/requests?key=${encodeURIComponent(key)}`);
      if (res.status !== 200) throw new Error(`mock requests failed: HTTP ${res.status}`);
      return res.json();
    },
  };
}

export class CaseTimeoutError extends Error {
  constructor(name, ms) {
    super(`case "${name}" did not finish within ${ms} ms`);
    this.name = "CaseTimeoutError";
  }
}

/** Runs `c.run(t)`; rejects with CaseTimeoutError after `timeoutMs` (the case's own work is abandoned). */
export async function runCase(c, t, { timeoutMs = 30_000 } = {}) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new CaseTimeoutError(c.name, timeoutMs)), timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(() => c.run(t)), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A plain, serialisable description of a thrown value (for page.evaluate → node). */
export function describeError(err) {
  if (!(err instanceof Error)) return { name: typeof err, message: String(err), text: `thrown non-Error: ${String(err)}` };
  const extra = ["code", "status", "retryable"].filter((k) => err[k] !== undefined).map((k) => `${k}=${JSON.stringify(err[k])}`);
  const stack = String(err.stack ?? "")
    .split("\n")
    .filter((l) => /^\s+at /.test(l))
    .slice(0, 6)
    .join("\n");
  const text = `${err.name}: ${err.message}${extra.length ? ` [${extra.join(", ")}]` : ""}${stack ? `\n${stack}` : ""}`;
  return { name: err.name, message: err.message, code: err.code, text };
}
