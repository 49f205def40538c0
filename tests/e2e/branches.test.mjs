// The demo's branches in headless Chromium, as a user would: ask, edit the question (the new
// answer streams), regenerate the answer, step between alternatives with the arrows, reload (the
// same branch is active, the arrows still there), fork the chat. The offline mock provider answers
// from the history it is sent, so each answer shows which branch the model saw. Waits on DOM
// state, never on sleeps; screenshots go to test-output/e2e/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { startServer } from "../../scripts/serve.mjs";
import { launch } from "./browser.mjs";

const out = new URL("../../test-output/e2e/", import.meta.url).pathname;
let server, browser, base, page;
const pageErrors = [];

before(async () => {
  mkdirSync(out, { recursive: true });
  server = await startServer({ port: 0 });
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await launch();
  page = await browser.context.newPage();
  await page.setViewportSize({ width: 1400, height: 900 });
  page.setDefaultTimeout(15_000);
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(base);
  await page.waitForSelector("body[data-ready=true]");
});
after(async () => {
  await browser?.context.close();
  await new Promise((r) => server?.close(r));
});

const idle = () => page.waitForFunction(() => document.body.dataset.busy !== "true" && !document.querySelector("#history li.streaming"));
const texts = () => page.$$eval("#history li.msg .content", (els) => els.map((e) => e.textContent.trim()));
/** Waits until the history shows exactly these texts. */
async function shows(want) {
  await page.waitForFunction((want) => {
    const got = [...document.querySelectorAll("#history li.msg .content")].map((e) => e.textContent.trim());
    return JSON.stringify(got) === JSON.stringify(want) && document.body.dataset.busy !== "true";
  }, want).catch(async (e) => { throw new Error(`${e.message}: history is ${JSON.stringify(await texts())}`); });
}
const count = (i) => page.textContent(`#history li.msg:nth-child(${i}) .branch-count`);

test("edit → the new answer; regenerate; switch back; reload keeps the branch; fork", async () => {
  await page.fill("#new-id", "branches");
  await page.click("#create-form button");
  await page.waitForFunction(() => document.getElementById("chat-id").textContent === "branches");
  await page.fill("#message-input", "My name is Sarah.");
  await page.press("#message-input", "Enter");
  await page.waitForFunction(() => document.querySelectorAll("#history li.msg-assistant.status-complete").length === 1);
  await idle();
  const [, sarahAnswer] = await texts();
  assert.match(sarahAnswer, /Sarah/);

  // Edit the question: the answer is for the edited one.
  await page.click("#history li.msg-user button.edit");
  await page.fill("#history li.msg-user textarea.edit-input", "My name is Tom.");
  await page.click("#history li.msg-user .edit-form button.primary");
  await page.waitForFunction(() => /Tom/.test(document.querySelector("#history li.msg-assistant .content")?.textContent ?? ""));
  await idle();
  const [question, tomAnswer] = await texts();
  assert.equal(question, "My name is Tom.");
  assert.match(tomAnswer, /Tom/);
  assert.equal(await count(1), "2 / 2", "the question has two alternatives");

  // Regenerate the answer: a second alternative of it.
  await page.click("#history li.msg-assistant button.regenerate");
  await page.waitForFunction(() => document.querySelector("#history li.msg-assistant .branch-count")?.textContent === "2 / 2");
  await idle();
  assert.match((await texts())[1], /Tom/);
  await page.screenshot({ path: out + "branches-1-regenerated.png" });

  // Back to the first question: its own answer.
  await page.click('#history li.msg-user button[aria-label="Previous alternative"]');
  await shows(["My name is Sarah.", sarahAnswer]);
  assert.equal(await count(1), "1 / 2");

  // Ask on this branch: the model sees Sarah, not Tom.
  await page.fill("#message-input", "What is my name?");
  await page.press("#message-input", "Enter");
  await page.waitForFunction(() => document.querySelectorAll("#history li.msg-assistant.status-complete").length === 2);
  await idle();
  assert.match((await texts())[3], /Sarah/);

  // Reload: the same branch is active, the arrows are still there.
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  await page.click('li.session[data-id="branches"] button.open');
  await page.waitForFunction(() => document.getElementById("chat-id").textContent === "branches");
  await page.waitForFunction(() => document.querySelectorAll("#history li.msg").length === 4);
  const after = await texts();
  assert.equal(after[0], "My name is Sarah.");
  assert.match(after[3], /Sarah/);
  await page.waitForFunction(() => document.querySelector("#history li.msg:nth-child(1) .branch-count")?.textContent === "1 / 2");
  await page.screenshot({ path: out + "branches-2-after-reload.png" });

  // Fork: a new session with the active history, opened.
  await page.click("#fork");
  await page.waitForFunction(() => document.getElementById("chat-id").textContent !== "branches");
  await page.waitForFunction(() => document.getElementById("chat-title").textContent.startsWith("Fork: "));
  await shows(after);
  assert.deepEqual(pageErrors, []);
});
