// Drives the demo page in headless Chromium: the module loads, sessions are created, listed and
// deleted through the real UI.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { startServer } from "../../scripts/serve.mjs";
import { launch } from "./browser.mjs";

const out = new URL("../../test-output/e2e/", import.meta.url).pathname;
let server, browser, base;

before(async () => {
  mkdirSync(out, { recursive: true });
  server = await startServer({ port: 0 });
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await launch();
});
after(async () => {
  await browser?.context.close();
  await new Promise((r) => server?.close(r));
});

test("the demo loads the module and creates, lists and deletes sessions", async () => {
  const page = await browser.context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(base);
  await page.waitForSelector("body[data-ready=true]");
  await page.fill("#new-id", "user-sarah-2024");
  await page.click("#create-form button");
  await page.click("#create-form button"); // a generated id
  await page.waitForFunction(() => document.querySelectorAll("li.session").length === 2);
  const ids = await page.$$eval("li.session", (els) => els.map((e) => e.dataset.id));
  assert.ok(ids.includes("user-sarah-2024"));
  assert.ok(ids.some((id) => /^sess_[0-9a-f]{32}$/.test(id)));
  await page.click('li.session[data-id="user-sarah-2024"]');
  await page.fill("#message-input", "My name is Sarah.");
  await page.click("#send");
  await page.waitForFunction(() => document.querySelectorAll("#history li.msg-assistant.status-complete").length === 1);
  await page.fill("#message-input", "What is my name?");
  await page.click("#send");
  await page.waitForFunction(() => document.querySelectorAll("#history li.msg-assistant.status-complete").length === 2);
  const answers = await page.$$eval("#history li.msg-assistant", (els) => els.map((e) => e.textContent));
  assert.match(answers[1], /Your name is Sarah\./, "the offline provider remembers within the session");
  // Stop a reply mid-stream: the partial answer is kept, marked interrupted.
  await page.fill("#message-input", "Tell me a long story about the sea and the stars and the wind");
  await page.click("#send");
  await page.waitForFunction(() => (document.querySelector("#history li.streaming")?.textContent.length ?? 0) > 20);
  await page.click("#stop");
  await page.waitForSelector("#history li.msg-assistant.status-interrupted");
  assert.match(await page.textContent("#history li.status-interrupted .badge"), /interrupted/);
  // A duplicate id is refused with the typed error, shown to the user.
  await page.fill("#new-id", "user-sarah-2024");
  await page.click("#create-form button");
  await page.waitForFunction(() => document.getElementById("error").textContent.includes("SESSION_EXISTS"));
  await page.screenshot({ path: out + "demo-sessions.png", fullPage: true });
  await page.click('button[aria-label="Delete user-sarah-2024"]');
  await page.waitForFunction(() => document.querySelectorAll("li.session").length === 1);
  assert.deepEqual(errors, []);
});
