// Drives the demo app (www/) in headless Chromium over the demo's own server, as a user would:
// two chats with the offline mock provider, rename, metadata, runs, Stop, reset, settings,
// safe rendering, export/import, reload and a second tab. Waits on DOM state, never on sleeps.
// Screenshots go to test-output/e2e/.
// The page says which storage it opened in body[data-storage]: the test insists on IndexedDB, the
// default, so a silent fallback to memory fails here.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { startServer } from "../../scripts/serve.mjs";
import { launch } from "./browser.mjs";
import { startMockLlmServer } from "../support/mock-llm-server.mjs";

const out = new URL("../../test-output/e2e/", import.meta.url).pathname;
let server, browser, base, page;
const pageErrors = [];
const requested = [];

before(async () => {
  mkdirSync(out, { recursive: true });
  server = await startServer({ port: 0 });
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await launch();
  page = await openTab();
});
after(async () => {
  await browser?.context.close();
  await new Promise((r) => server?.close(r));
});

async function openTab() {
  const p = await browser.context.newPage();
  await p.setViewportSize({ width: 1400, height: 900 });
  p.setDefaultTimeout(15_000);
  p.on("pageerror", (e) => pageErrors.push(e.message));
  p.on("request", (r) => requested.push(r.url()));
  await p.goto(base);
  await p.waitForSelector("body[data-ready=true]");
  return p;
}

const storage = (p = page) => p.getAttribute("body", "data-storage");

/** Sends `text` through the composer (Enter) and waits for its reply to be stored complete. */
async function say(text, p = page) {
  const done = await p.$$eval("#history li.msg-assistant.status-complete", (els) => els.length);
  await p.fill("#message-input", text);
  await p.press("#message-input", "Enter");
  await p.waitForFunction(
    (n) => document.querySelectorAll("#history li.msg-assistant.status-complete").length === n + 1
      && document.body.dataset.busy === "false",
    done,
  );
  assert.equal(await p.textContent("#error"), "", "no error shown");
  return p.textContent("#history li.msg-assistant.status-complete:last-of-type .content");
}

async function createSession(id = "") {
  const before = await page.$$eval("li.session", (els) => els.map((e) => e.dataset.id));
  await page.fill("#new-id", id);
  await page.click("#create-form button");
  const handle = await page.waitForFunction(
    (known) => [...document.querySelectorAll("li.session.active")].map((e) => e.dataset.id).find((x) => !known.includes(x)),
    before,
  );
  return handle.jsonValue();
}

async function select(id, p = page) {
  await p.click(`li.session[data-id="${id}"] button.open`);
  await p.waitForFunction((id) => document.getElementById("chat-id").textContent === id, id);
}

const sessionTitles = (p = page) =>
  p.$$eval("li.session", (els) => els.map((e) => [e.dataset.id, e.querySelector(".title").textContent]));

let sarah, lisbon; // the two chats, shared by the later steps

test("two chats remember within themselves and not across; rename, metadata, runs, reset", async () => {
  assert.equal(await storage(), "indexeddb", "the default storage opened");
  sarah = await createSession("trip-sarah");
  assert.equal(sarah, "trip-sarah");
  assert.match(await say("My name is Sarah."), /Sarah/);
  assert.equal(await say("What is my name?"), "Your name is Sarah.");

  lisbon = await createSession();
  assert.match(lisbon, /^sess_[0-9a-f]{32}$/);
  await say("I live in Lisbon.");
  assert.equal(await say("Where do I live?"), "You live in Lisbon.");
  assert.match(await say("What is my name?"), /haven't told me your name/, "sessions are isolated");

  // Newest activity first; a first message titles an untitled chat.
  assert.deepEqual(await sessionTitles(), [[lisbon, "I live in Lisbon."], [sarah, "My name is Sarah."]]);

  // Rename from the sidebar.
  await page.click(`li.session[data-id="${sarah}"] button[data-action=rename]`);
  await page.fill("li.session input.rename", "Sarah's trip");
  await page.press("li.session input.rename", "Enter");
  await page.waitForFunction((id) =>
    document.querySelector(`li.session[data-id="${id}"] .title`)?.textContent === "Sarah's trip", sarah);

  // Metadata editor: saved JSON round-trips; bad JSON and a prototype key are refused, visibly.
  await select(sarah);
  await page.fill("#meta-json", '{ "tier": "premium", "tags": ["travel"] }');
  await page.click("#meta-form button[type=submit]");
  await page.waitForFunction(() => document.getElementById("meta-status").textContent === "Saved.");
  await page.fill("#meta-json", "{ not json");
  await page.click("#meta-form button[type=submit]");
  await page.waitForFunction(() => document.getElementById("meta-status").textContent.startsWith("Not valid JSON"));
  await page.fill("#meta-json", '{ "__proto__": { "admin": true } }');
  await page.click("#meta-form button[type=submit]");
  await page.waitForFunction(() => document.getElementById("meta-status").textContent.includes("INVALID_METADATA"));
  await select(lisbon);
  await select(sarah);
  assert.deepEqual(JSON.parse(await page.inputValue("#meta-json")), { tier: "premium", tags: ["travel"] });
  assert.equal(await page.inputValue("#meta-title"), "Sarah's trip");

  // Runs panel: one row per turn, with model, tokens, duration, status and retries.
  const runs = await page.$$eval("#runs tbody tr", (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
  assert.equal(runs.length, 2);
  for (const [status, model, tokens, duration, retries] of runs) {
    assert.equal(status, "completed");
    assert.equal(model, "mock-1");
    const [inTok, outTok] = tokens.split(" / ").map(Number);
    assert.ok(inTok > 0 && outTok > 0, tokens);
    assert.match(duration, /^\d+(\.\d+)? m?s$/);
    assert.equal(retries, "0");
  }
  assert.match(await page.textContent("#usage-total"), /^2 runs · \d+ in \/ \d+ out tokens/);

  // Reset empties the conversation (two clicks) and keeps the session, its title and metadata.
  await select(lisbon);
  await page.click("#reset");
  await page.click("#reset");
  await page.waitForFunction(() => document.querySelectorAll("#history li").length === 0);
  assert.equal(await page.textContent("#reset"), "Reset", "disarmed once done");
  assert.equal(await page.isVisible("#suggestions"), true);
  assert.match(await say("Where do I live?"), /haven't told me where you live/, "reset forgets");
  await page.screenshot({ path: out + "1-two-chats.png" });
});

test("Stop ends a stream and keeps the partial answer, marked interrupted", async () => {
  await select(sarah);
  await page.fill("#message-input", "Tell me a long story about the sea, the stars, the wind and the lighthouse keeper at the end of the world");
  await page.press("#message-input", "Enter");
  await page.waitForFunction(() => (document.querySelector("#history li.streaming .content")?.textContent.length ?? 0) > 15);
  await page.click("#stop");
  await page.waitForSelector("#history li.msg-assistant.status-interrupted");
  await page.waitForFunction(() => document.body.dataset.busy === "false");
  const partial = await page.textContent("#history li.status-interrupted .content");
  assert.ok(partial.length > 15, partial);
  assert.ok(!partial.includes("earlier messages."), "the answer was cut short");
  assert.equal(await page.textContent("#history li.status-interrupted .badge"), "interrupted");
  assert.equal(await page.textContent("#runs tbody tr:first-child td:first-child .pill"), "aborted");
  // The session goes on after a stop.
  assert.equal(await say("What is my name?"), "Your name is Sarah.");
  await page.screenshot({ path: out + "2-stopped.png" });
});

test("model output is text: markup is shown, never run, and no image is fetched", async () => {
  await select(lisbon);
  const before = requested.length;
  const reply = await say('**bold** <img src="/probe-a.png" onerror="window.pwned=1"> ![pic](/probe-b.png)');
  assert.match(reply, /<img src="\/probe-a.png"/, "the tag is displayed as text");
  assert.equal(await page.$$eval("#history img, #history script, #history iframe", (els) => els.length), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.equal(await page.textContent("#history li.msg-assistant:last-of-type strong"), "bold", "markdown rendered");
  assert.match(await page.textContent("#history li.msg-assistant:last-of-type a.md-image"), /image: pic/);
  assert.deepEqual(requested.slice(before).filter((u) => u.includes("probe")), []);
});

test("settings: provider and key in memory only unless remembered; context strategy reaches the model", async () => {
  const openSettings = async () => {
    await page.click("#open-settings");
    await page.waitForSelector("#settings[open]");
  };
  const saveSettings = async () => {
    await page.click("#settings-save");
    await page.waitForSelector("#settings:not([open])", { state: "attached" });
  };
  const stored = () => page.evaluate(() => JSON.stringify({ ...localStorage }));

  await openSettings();
  await page.selectOption("#set-provider", "openai");
  await page.fill("#set-model", "gpt-4o-mini");
  await page.fill("#set-api-key", "sk-e2e-secret");
  assert.equal(await page.isChecked("#set-remember-key"), false);
  await saveSettings();
  assert.match(await page.textContent("#status"), /^openai · gpt-4o-mini/);
  assert.ok(!(await stored()).includes("sk-e2e-secret"), "the key is not persisted by default");

  await openSettings();
  assert.equal(await page.inputValue("#set-api-key"), "sk-e2e-secret", "kept in memory");
  await page.check("#set-remember-key");
  assert.match(await page.getAttribute("#key-warning", "class"), /strong/, "the warning is emphasised");
  await saveSettings();
  assert.ok((await stored()).includes("sk-e2e-secret"), "remembered when asked");

  // Back to the offline mock, forgetting the key; a one-message window hides earlier facts.
  await openSettings();
  await page.uncheck("#set-remember-key");
  await page.fill("#set-api-key", "");
  await page.selectOption("#set-provider", "mock");
  await page.fill("#set-model", "");
  await page.selectOption("#set-strategy", "buffer_window");
  assert.equal(await page.isVisible("#set-window"), true);
  assert.equal(await page.isVisible("#set-budget"), false);
  await page.fill("#set-window", "1");
  await saveSettings();
  assert.ok(!(await stored()).includes("sk-e2e-secret"), "forgotten");
  assert.match(await page.textContent("#status"), /^mock · mock-1 · .* · context buffer_window/);
  await select(sarah);
  assert.match(await say("What is my name?"), /haven't told me your name/, "the window dropped it");

  await openSettings();
  await page.selectOption("#set-strategy", "full");
  await saveSettings();
  assert.equal(await say("What is my name?"), "Your name is Sarah.", "the full history again");
});

test("an OpenAI-compatible server set by base URL: streamed over HTTP, key sent, a retry counted", async () => {
  const llm = await startMockLlmServer();
  const model = "e2e-demo-model";
  try {
    await page.click("#open-settings");
    await page.selectOption("#set-provider", "openai");
    await page.fill("#set-base-url", `${llm.url}/v1`);
    await page.fill("#set-model", model);
    await page.fill("#set-api-key", "sk-local-test");
    await page.click("#settings-save");
    await page.waitForSelector("#settings:not([open])", { state: "attached" });
    await createSession("over-http");
    llm.script(model, [{ status: 503, headers: { "retry-after-ms": "50" } }]); // one 503, then a reply
    assert.equal(await say("My name is Ana."), "Echo: My name is Ana. (turn 1)");
    assert.equal(await say("What is my name?"), "Your name is Ana.");
    const rows = await page.$$eval("#runs tbody tr", (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent)));
    assert.deepEqual(rows.map((r) => [r[0], r[1], r[4]]), [["completed", model, "0"], ["completed", model, "1"]]);
    const sent = llm.requests(model);
    assert.equal(sent.length, 3, "503, its retry, the second turn");
    for (const r of sent) {
      assert.equal(r.path, "/v1/chat/completions");
      assert.equal(r.headers.authorization, "Bearer sk-local-test");
      assert.equal(r.stream, true);
      assert.equal(r.system, "You are a helpful assistant.");
    }
    assert.deepEqual(sent[2].messages.map((m) => m.role), ["user", "assistant", "user"], "the history went along");
  } finally {
    if (!(await page.isVisible("#settings"))) await page.click("#open-settings");
    await page.fill("#set-base-url", "");
    await page.fill("#set-model", "");
    await page.fill("#set-api-key", "");
    await page.selectOption("#set-provider", "mock");
    await page.click("#settings-save");
    await page.waitForSelector("#settings:not([open])", { state: "attached" });
    await llm.close();
  }
});

test("the context panel shows what the model would see under the chosen strategy", async () => {
  const contextRoles = () => page.$$eval("#context-list li .role", (els) => els.map((e) => e.textContent));
  await select(sarah);
  const history = await page.$$eval("#history li.msg", (els) => els.length);
  assert.ok(history > 4);
  await page.waitForFunction(() => /^Strategy full: \d+ message/.test(document.getElementById("context-summary").textContent));
  assert.equal((await contextRoles()).filter((r) => r !== "system").length, history, "full: every message");

  await page.click("#open-settings");
  await page.selectOption("#set-strategy", "buffer_window");
  await page.fill("#set-window", "2");
  await page.click("#settings-save");
  await page.waitForFunction(() => /^Strategy buffer_window: /.test(document.getElementById("context-summary").textContent));
  const windowed = (await contextRoles()).filter((r) => r !== "system");
  assert.ok(windowed.length >= 1 && windowed.length <= 2, String(windowed));
  assert.match(await page.textContent("#context-summary"), /left out/);

  await page.click("#open-settings");
  await page.selectOption("#set-strategy", "full");
  await page.click("#settings-save");
  await page.waitForFunction(() => /^Strategy full: /.test(document.getElementById("context-summary").textContent));
});

test("export a session to a file, delete it, import it back", async () => {
  await select(sarah);
  const before = await page.$$eval("#history li.msg", (els) => els.map((e) => e.textContent));
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export")]);
  const file = out + "exported-session.json";
  await download.saveAs(file);
  const bundle = JSON.parse(readFileSync(file, "utf8"));
  assert.equal(bundle.session.id, sarah);
  assert.equal(bundle.session.title, "Sarah's trip");
  assert.ok(bundle.messages.length >= 8);
  assert.equal(JSON.stringify(bundle).includes("sk-e2e-secret"), false, "no key in an export");

  const del = `li.session[data-id="${sarah}"] button[data-action=delete]`;
  await page.click(del);
  await page.click(del);
  await page.waitForFunction((id) => !document.querySelector(`li.session[data-id="${id}"]`), sarah);

  await page.setInputFiles("#import-file", file);
  await page.waitForFunction((id) => document.getElementById("chat-id").textContent === id, sarah);
  assert.equal(await page.textContent("#chat-title"), "Sarah's trip");
  await page.waitForFunction((n) => document.querySelectorAll("#history li.msg").length === n, before.length);
  assert.deepEqual(await page.$$eval("#history li.msg", (els) => els.map((e) => e.textContent)), before);
  assert.ok((await page.$$("#runs tbody tr")).length >= 5, "runs come back too");
  assert.equal(await say("What is my name?"), "Your name is Sarah.", "the imported chat goes on");

  // Importing it again does not overwrite: a copy under a new id.
  await page.setInputFiles("#import-file", file);
  await page.waitForFunction(() => document.getElementById("error").textContent.includes("imported as a copy"));
  assert.match(await page.textContent("#chat-id"), /^trip-sarah-copy-/);
});

test("a reload finds both chats: histories, runs and titles", async () => {
  const snapshot = async () => {
    const result = {};
    for (const [id, title] of await sessionTitles()) {
      await select(id);
      result[id] = {
        title,
        messages: await page.$$eval("#history li.msg", (els) => els.map((e) => [e.className, e.querySelector(".content").textContent])),
        runs: await page.$$eval("#runs tbody tr", (rows) => rows.map((r) => r.dataset.id + r.cells[0].textContent)),
        metadata: await page.inputValue("#meta-json"),
      };
    }
    return result;
  };
  const before = await snapshot();
  assert.ok(before[sarah] && before[lisbon]);
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  assert.equal(await storage(), "indexeddb");
  const after = await snapshot();
  assert.deepEqual(after, before);
  assert.ok(after[sarah].messages.some(([cls]) => cls.includes("status-interrupted")), "the stopped answer stays interrupted");
  await page.screenshot({ path: out + "3-after-reload.png" });
});

test("Continue finishes a stopped answer in place, also after a reload", async () => {
  const id = await createSession("continue-me");
  await page.fill("#message-input", "Tell me a long story about the sea, the stars, the wind and the lighthouse keeper at the end of the world");
  await page.press("#message-input", "Enter");
  await page.waitForFunction(() => (document.querySelector("#history li.streaming .content")?.textContent.length ?? 0) > 15);
  await page.click("#stop");
  await page.waitForSelector("#history li.msg-assistant.status-interrupted button.continue");
  await page.waitForFunction(() => document.body.dataset.busy === "false");
  const partial = await page.textContent("#history li.status-interrupted .content");
  const messageId = await page.getAttribute("#history li.status-interrupted", "data-id");

  // The tab is gone; the stored partial answer is not, and it can still be finished.
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  await select(id);
  await page.click("#history li.status-interrupted button.continue");
  await page.waitForFunction(
    (mid) => document.querySelector(`#history li.msg-assistant[data-id="${mid}"]`)?.classList.contains("status-complete")
      && document.body.dataset.busy === "false",
    messageId,
  );
  assert.equal(await page.textContent("#error"), "", "no error shown");
  const items = await page.$$eval("#history li.msg", (els) => els.map((e) => [e.dataset.id, e.className]));
  assert.equal(items.length, 2, `one user message and one answer: ${JSON.stringify(items)}`);
  assert.equal(items[1][0], messageId, "the same message, completed");
  const full = await page.textContent(`#history li[data-id="${messageId}"] .content`);
  assert.ok(full.startsWith(partial.trimEnd()) && full.length > partial.length, `${JSON.stringify(full)} continues ${JSON.stringify(partial)}`);
  assert.equal(await page.$$eval("#history button.continue", (els) => els.length), 0, "nothing left to continue");
  await page.screenshot({ path: out + "3b-continued.png" });
});

test("a message sent in one tab appears live in another", async () => {
  const second = await openTab();
  try {
    assert.equal(await storage(second), await storage());
    await select(lisbon, second);
    await select(lisbon);
    const text = "I like sailing.";
    await say(text);
    // The second tab was not touched: the store's cross-tab events redraw it.
    await second.waitForFunction((text) => [...document.querySelectorAll("#history li.msg-user .content")]
      .some((e) => e.textContent === text), text);
    await second.waitForFunction(() => document.querySelector("#history li.msg-assistant:last-of-type")
      ?.classList.contains("status-complete") && /sailing/.test(document.querySelector("#history li.msg-assistant:last-of-type").textContent));
    await second.screenshot({ path: out + "4-second-tab.png" });
    // And the other way round, with a session the first tab has not seen.
    await second.fill("#new-id", "from-tab-two");
    await second.click("#create-form button");
    await page.waitForSelector('li.session[data-id="from-tab-two"]');
  } finally {
    await second.close();
  }
});

test("the storage setting: localStorage keeps its own chats across a reload", async () => {
  const chooseStorage = async (type) => {
    await page.click("#open-settings");
    await page.selectOption("#set-storage", type);
    await page.click("#settings-save");
    await page.waitForFunction((type) => document.body.dataset.storage === type
      && !document.getElementById("settings").open, type);
  };
  const indexedIds = (await sessionTitles()).map(([id]) => id);
  await chooseStorage("localstorage");
  await page.waitForFunction(() => document.querySelectorAll("li.session").length === 0);
  assert.match(await page.textContent("#status"), /localStorage/);
  await createSession("kept-in-localstorage");
  assert.equal(await say("My name is Lee."), "Nice to meet you, Lee! I'll remember that.");
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  assert.equal(await storage(), "localstorage", "the choice is remembered");
  assert.deepEqual((await sessionTitles()).map(([id]) => id), ["kept-in-localstorage"]);
  await select("kept-in-localstorage");
  assert.equal(await say("What is my name?"), "Your name is Lee.");
  await chooseStorage("indexeddb");
  await page.waitForFunction((n) => document.querySelectorAll("li.session").length === n, indexedIds.length);
  assert.deepEqual((await sessionTitles()).map(([id]) => id).sort(), [...indexedIds].sort());
});

test("on a phone-sized screen the sessions list is a drawer", async () => {
  await page.setViewportSize({ width: 390, height: 800 });
  try {
    assert.equal(await page.isVisible("#sidebar"), false);
    await page.click("#toggle-sidebar");
    assert.equal(await page.getAttribute("#toggle-sidebar", "aria-expanded"), "true");
    await page.waitForSelector("#sidebar", { state: "visible" });
    for (const id of ["on-the-go", "on-the-go-2"]) {
      if (id !== "on-the-go") await page.click("#toggle-sidebar");
      await page.fill("#new-id", id);
      await page.click("#create-form button");
      await page.waitForSelector("#sidebar", { state: "hidden" }); // choosing a chat closes it
      await page.waitForFunction((id) => document.getElementById("chat-id").textContent === id, id);
    }
    await page.click("#toggle-sidebar");
    await page.waitForSelector("#sidebar", { state: "visible" });
    await page.screenshot({ path: out + "5-phone-drawer.png" });
    await page.click('li.session[data-id="on-the-go"] button.open');
    await page.waitForSelector("#sidebar", { state: "hidden" });
    await page.waitForFunction(() => document.getElementById("chat-id").textContent === "on-the-go");
    assert.equal(await page.isVisible("#message-input"), true);
  } finally {
    await page.setViewportSize({ width: 1400, height: 900 });
  }
});

test("no page errors", () => {
  assert.deepEqual(pageErrors, []);
});
