// Regenerates docs/demo.png: the demo in headless Chromium after a short scripted chat.
// Run after ./scripts/build: node scripts/screenshot.mjs
import { mkdirSync } from "node:fs";
import { startServer } from "./serve.mjs";
import { launch } from "../tests/e2e/browser.mjs";

const target = new URL("../docs/demo.png", import.meta.url).pathname;
mkdirSync(new URL("../docs/", import.meta.url).pathname, { recursive: true });
const server = await startServer({ port: 0 });
const browser = await launch();
try {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1400, height: 820 });
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForSelector("body[data-ready=true]");

  const chat = async (id, lines) => {
    await page.fill("#new-id", id);
    await page.click("#create-form button");
    await page.waitForFunction((id) => document.getElementById("chat-id").textContent === id, id);
    for (const [i, text] of lines.entries()) {
      await page.fill("#message-input", text);
      await page.press("#message-input", "Enter");
      await page.waitForFunction((n) =>
        document.querySelectorAll("#history li.msg-assistant.status-complete").length === n
        && document.body.dataset.busy === "false", i + 1);
    }
  };
  await chat("support-case-456", ["My subscription renews tomorrow, can I pause it?"]);
  await chat("user-alice", ["I live in Porto.", "Where do I live?"]);
  await chat("user-sarah-2024", [
    "My name is Sarah.",
    "I live in Lisbon and I like **sailing** and `rust`.",
    "What is my name?",
    "Where do I live?",
    "What do I like?",
  ]);
  await page.fill("#meta-title", "Sarah's trip planning");
  await page.fill("#meta-json", '{\n  "tier": "premium",\n  "locale": "pt-PT"\n}');
  await page.click("#meta-form button[type=submit]");
  await page.waitForFunction(() => document.getElementById("meta-status").textContent === "Saved.");
  await page.focus("#message-input");
  await page.screenshot({ path: target });
  console.log(`wrote ${target}`);
} finally {
  await browser.context.close();
  server.close();
}
