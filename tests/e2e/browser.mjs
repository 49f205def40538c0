// Launches the system Chromium for end-to-end tests (Playwright cannot download browsers here).
import { before, after } from "node:test";
import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export async function launch() {
  const userDataDir = mkdtempSync(path.join(tmpdir(), "agent-sessions-e2e-"));
  const args = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
  ];
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args,
  });
  return { context, userDataDir };
}

/**
 * Serves the repo (www/ at /, the package at /pkg/) on a free port for one test file, and gives
 * pages a blank document on that origin (IndexedDB, locks and channels are per origin).
 */
export function servedOrigin() {
  const served = { origin: "" };
  let server;
  before(async () => {
    const { startServer } = await import("../../scripts/serve.mjs");
    server = await startServer({ port: 0 });
    served.origin = `http://127.0.0.1:${server.address().port}`;
  });
  after(() => new Promise((r) => (server ? server.close(r) : r())));
  return served;
}

/** Routes `/harness.html` on `origin` to an empty page, for a page or a whole context. */
export async function routeHarness(target, origin) {
  await target.route(`${origin}/harness.html`, (r) =>
    r.fulfill({ contentType: "text/html", body: "<!doctype html><title>harness</title>" }));
}
