// The demo: a chat app on agent-sessions. Sessions, history, runs and metadata live in the
// library's store (IndexedDB by default); the page only renders them and reacts to the store's
// events, which also arrive when another tab writes. Model text reaches the page only through
// textContent (see markdown.js).
import { Agent, SessionStore } from "/pkg/browser.js";
import { renderMarkdown } from "./markdown.js";

const $ = (id) => document.getElementById(id);
const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

// ---- settings -------------------------------------------------------------------------------

const SETTINGS_KEY = "agent-sessions-demo:settings";
const KEY_KEY = "agent-sessions-demo:api-key";
const PROVIDERS = {
  mock: { model: "mock-1", baseUrl: "" },
  openai: { model: "gpt-4o-mini", baseUrl: "https://api.openai.com/v1" },
  anthropic: { model: "claude-sonnet-4-5", baseUrl: "https://api.anthropic.com" },
  gemini: { model: "gemini-2.5-flash", baseUrl: "https://generativelanguage.googleapis.com/v1beta" },
};
const DEFAULTS = {
  provider: "mock", baseUrl: "", model: "", instructions: "You are a helpful assistant.",
  storage: "indexeddb", strategy: "full", budget: 4000, windowSize: 20, markdown: true,
  rememberKey: false,
};
const STORAGE_LABELS = { indexeddb: "IndexedDB", localstorage: "localStorage", memory: "memory" };

function loadSettings() {
  let saved = {};
  try {
    saved = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? "{}") ?? {};
  } catch {
    saved = {};
  }
  const settings = { ...DEFAULTS, ...saved, apiKey: "" };
  if (settings.rememberKey) settings.apiKey = localStorage.getItem(KEY_KEY) ?? "";
  return settings;
}

function saveSettings(settings) {
  const { apiKey, ...rest } = settings;
  localStorage.setItem(SETTINGS_KEY, JSON.stringify(rest));
  if (settings.rememberKey && apiKey) localStorage.setItem(KEY_KEY, apiKey);
  else localStorage.removeItem(KEY_KEY);
}

function llmConfig(s) {
  const defaults = PROVIDERS[s.provider];
  const llm = { provider: s.provider, model: s.model || defaults.model };
  if (s.provider === "mock") return { ...llm, chunkDelayMs: 30 };
  if (s.baseUrl) llm.baseUrl = s.baseUrl;
  if (s.apiKey) llm.apiKey = s.apiKey;
  if (s.provider === "anthropic") llm.dangerouslyAllowBrowser = true;
  return llm;
}

function contextConfig(s) {
  switch (s.strategy) {
    case "buffer_window": return { strategy: s.strategy, windowSize: Number(s.windowSize) };
    case "token_window":
    case "summary_buffer": return { strategy: s.strategy, budget: Number(s.budget) };
    default: return { strategy: "full" };
  }
}

// ---- state ----------------------------------------------------------------------------------

let settings = loadSettings();
let store = null;          // SessionStore
let agent = null;          // Agent over `store`
let storageInUse = null;   // what actually opened
let unsubscribe = [];      // store + agent listeners
let current = null;        // selected session id
let running = null;        // { sessionId, controller, runId, text, bubble }
let sidebarOpen = false;

function showError(e) {
  $("error").textContent = e ? `${e.code ?? e.name}: ${e.message}` : "";
}

function explain(e) {
  return `${e.code ?? e.name}: ${e.message}`;
}

async function openStore(type) {
  try {
    return { store: await SessionStore.open({ storage: { type } }), type, fallback: null };
  } catch (e) {
    if (type === "memory") throw e;
    // A build or browser without this backend: keep the app usable, and say so.
    const memory = await SessionStore.open({ storage: { type: "memory" } });
    return { store: memory, type: "memory", fallback: { wanted: type, reason: explain(e) } };
  }
}

function buildAgent(s, onStore) {
  return new Agent({
    name: "assistant",
    instructions: s.instructions || undefined,
    llm: llmConfig(s),
    context: contextConfig(s),
    // A reply cut off mid-stream is started over (the chat drops the text shown) rather than failed.
    retry: { midStream: true },
    store: onStore,
  });
}

/** Opens the store and agent the settings describe, and subscribes to their events. */
async function applySettings(next) {
  const reopen = !store || next.storage !== settings.storage;
  const opened = reopen ? await openStore(next.storage) : null;
  const newAgent = buildAgent(next, opened ? opened.store : store);
  for (const off of unsubscribe) off();
  unsubscribe = [];
  if (opened) {
    store = opened.store;
    storageInUse = opened;
  }
  agent = newAgent;
  settings = next;
  for (const name of ["session:created", "session:updated", "session:reset", "session:deleted",
    "session:expired", "message:added", "message:updated", "run:updated"]) {
    unsubscribe.push(store.on(name, onStoreEvent));
  }
  unsubscribe.push(agent.on("llm:retry", (e) => {
    setStatus(`retrying (${e.attempt}) in ${Math.round(e.delayMs)} ms: ${e.error.code}`, "warn");
  }));
  await agent.start();
  if (opened && current && !(await store.get(current))) current = null;
  describeSetup();
}

function describeSetup() {
  const s = settings;
  const model = s.model || PROVIDERS[s.provider].model;
  const where = STORAGE_LABELS[storageInUse.type];
  let text = `${s.provider} · ${model} · ${where} · context ${s.strategy}`;
  let tone = "";
  if (storageInUse.fallback) {
    text += ` — ${STORAGE_LABELS[storageInUse.fallback.wanted]} unavailable here, sessions last until reload`;
    tone = "warn";
  } else if (storageInUse.type === "memory") {
    text += " — sessions last until reload";
  }
  if (s.provider !== "mock" && !s.apiKey) {
    text += " — no API key set";
    tone = "warn";
  }
  setStatus(text, tone);
  document.body.dataset.storage = storageInUse.type;
}

function setStatus(text, tone = "") {
  $("status").textContent = text;
  $("status").dataset.tone = tone;
}

// ---- rendering ------------------------------------------------------------------------------

let renderQueued = null;
/** Coalesces renders: many events in one tick make one render. */
function scheduleRender() {
  renderQueued ??= Promise.resolve().then(async () => {
    renderQueued = null;
    await render();
  });
  return renderQueued;
}

function onStoreEvent(ev) {
  if ((ev.type === "session:deleted" || ev.type === "session:expired") && ev.sessionId === current) {
    current = null;
  }
  scheduleRender();
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
function ago(ms) {
  const s = Math.round((ms - Date.now()) / 1000);
  if (Math.abs(s) < 45) return "just now";
  for (const [unit, size] of [["day", 86400], ["hour", 3600], ["minute", 60]]) {
    if (Math.abs(s) >= size) return relative.format(Math.round(s / size), unit);
  }
  return relative.format(s, "second");
}

function titleOf(info) {
  return info.title || "Untitled";
}

function drawSessions(sessions) {
  const list = $("session-list");
  if (list.querySelector("input.rename")) return; // do not pull the field from under the user
  list.replaceChildren(...sessions.map(sessionItem));
  $("empty").hidden = sessions.length > 0;
}

function sessionItem(info) {
  const li = el("li", "session" + (info.id === current ? " active" : ""));
  li.dataset.id = info.id;
  const open = el("button", "open");
  open.type = "button";
  if (info.id === current) open.setAttribute("aria-current", "true");
  const title = el("span", "title", titleOf(info));
  const meta = el("span", "meta small muted");
  const idCode = el("code", "sid", info.id);
  meta.append(idCode, ` · ${info.messageCount} msg · ${ago(info.updatedAt)}`);
  open.append(title, meta);
  open.onclick = () => select(info.id);

  const rename = el("button", "icon", "✎");
  rename.type = "button";
  rename.title = "Rename";
  rename.setAttribute("aria-label", `Rename ${titleOf(info)} (${info.id})`);
  rename.dataset.action = "rename";
  rename.onclick = () => startRename(li, info);

  const del = el("button", "icon danger-text", "✕");
  del.type = "button";
  del.title = "Delete";
  del.setAttribute("aria-label", `Delete ${info.id}`);
  del.dataset.action = "delete";
  del.onclick = () => confirmThen(del, "Delete?", async () => {
    await store.delete(info.id);
    if (current === info.id) current = null;
    await render();
  });
  li.append(open, rename, del);
  return li;
}

/** Two-step confirmation for destructive buttons: the first click arms, the second acts;
 * an armed button disarms itself after a few seconds. */
function confirmThen(button, armedLabel, action) {
  const disarm = () => {
    if (button.dataset.armed !== "true") return;
    button.dataset.armed = "false";
    button.textContent = button.dataset.label;
    button.classList.remove("armed");
  };
  if (button.dataset.armed === "true") {
    disarm();
    run(action);
    return;
  }
  button.dataset.label = button.textContent;
  button.dataset.armed = "true";
  button.textContent = armedLabel;
  button.classList.add("armed");
  setTimeout(disarm, 4000);
}

function startRename(li, info) {
  const input = el("input", "rename");
  input.value = info.title ?? "";
  input.placeholder = "Untitled";
  input.setAttribute("aria-label", `New title for ${info.id}`);
  const open = li.querySelector("button.open");
  open.replaceWith(input);
  input.focus();
  input.select();
  let done = false;
  const finish = async (save) => {
    if (done) return;
    done = true;
    input.remove(); // lets drawSessions redraw
    if (save) {
      const s = await store.get(info.id);
      await s?.update({ title: input.value.trim() || null });
    }
    await render();
  };
  input.onkeydown = (e) => {
    if (e.key === "Enter") run(() => finish(true));
    if (e.key === "Escape") run(() => finish(false));
  };
  input.onblur = () => run(() => finish(true));
}

function messageItem(m, runStatus, last, branches) {
  const li = el("li", `msg msg-${m.role} status-${m.status}`);
  li.dataset.id = m.id;
  const head = el("div", "msg-head");
  head.append(el("span", "role", m.role === "assistant" ? (m.name ?? "assistant") : m.role));
  const streaming = m.status === "interrupted" && runStatus === "running";
  if (streaming) li.classList.add("remote-streaming");
  if (m.status !== "complete") {
    head.append(el("span", `badge ${streaming ? "live" : m.status}`, streaming ? "writing…" : m.status));
  }
  head.append(el("span", "small muted when", new Date(m.createdAt).toLocaleTimeString()));
  const body = el("div", "content");
  fillContent(body, m.role, m.content);
  li.append(head, body);
  li.append(messageTools(m, li, body, branches ?? [m], streaming));
  // An interrupted reply (stopped, or cut off by a reload or a crash) can be finished in place.
  if (last && !streaming && !running && m.role === "assistant" && m.status === "interrupted" && m.content) {
    const more = el("button", "continue", "Continue");
    more.type = "button";
    more.onclick = () => run(() => resume(m));
    li.append(more);
  }
  return li;
}

/** A message's branch controls: "‹ 2 / 3 ›" between its alternatives, Edit on a question,
 * Regenerate on an answer. */
function messageTools(m, li, body, branches, streaming) {
  const tools = el("div", "msg-tools");
  if (branches.length > 1) {
    const at = branches.findIndex((b) => b.id === m.id);
    const nav = el("span", "branch-nav");
    const step = (delta, label, text) => {
      const b = el("button", "ghost tiny", text);
      b.type = "button";
      b.setAttribute("aria-label", label);
      const target = branches[at + delta];
      b.disabled = !target || !!running;
      if (target) b.onclick = () => run(() => switchTo(target.id));
      return b;
    };
    nav.append(step(-1, "Previous alternative", "‹"), el("span", "branch-count", `${at + 1} / ${branches.length}`),
      step(1, "Next alternative", "›"));
    tools.append(nav);
  }
  if (!running && !streaming && m.role === "user") {
    const edit = el("button", "ghost tiny edit", "Edit");
    edit.type = "button";
    edit.setAttribute("aria-label", "Edit this message");
    edit.onclick = () => startEdit(m, li, body, tools);
    tools.append(edit);
  }
  if (!running && !streaming && m.role === "assistant") {
    const again = el("button", "ghost tiny regenerate", "Regenerate");
    again.type = "button";
    again.setAttribute("aria-label", "Regenerate this answer");
    again.onclick = () => run(() => regenerate(m.id));
    tools.append(again);
  }
  return tools;
}

function startEdit(m, li, body, tools) {
  const box = el("textarea", "edit-input");
  box.value = m.content;
  box.setAttribute("aria-label", "Edited message");
  const save = el("button", "primary tiny", "Save");
  const cancel = el("button", "ghost tiny", "Cancel");
  save.type = cancel.type = "button";
  const form = el("div", "edit-form");
  form.append(box, save, cancel);
  body.replaceWith(form);
  tools.hidden = true;
  box.focus();
  cancel.onclick = () => render();
  save.onclick = () => run(() => editAndAnswer(m, box.value));
  box.onkeydown = (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); save.click(); }
    if (e.key === "Escape") cancel.click();
  };
}

function fillContent(body, role, text) {
  if (role === "assistant" && settings.markdown) body.replaceChildren(renderMarkdown(text));
  else body.replaceChildren(el("p", "plain", text));
}

function liveBubble() {
  const li = el("li", "msg msg-assistant streaming");
  const head = el("div", "msg-head");
  head.append(el("span", "role", "assistant"), el("span", "badge live", "streaming…"));
  li.append(head, el("div", "content"));
  return li;
}

/** Everything the detail pane shows, read before anything is drawn. */
async function loadDetail() {
  // Through the agent, so the context preview uses its settings and instructions.
  const session = current ? await agent.getSession(current) : null;
  if (!session) return null;
  const [history, runs, preview] = await Promise.all([
    session.getHistory(),
    session.getRuns(),
    session.previewContext().catch((e) => ({ error: e })),
  ]);
  // The alternatives at each place of the history (one, for a chat nobody edited).
  const branches = await Promise.all(history.map((m) => session.getBranches(m.id).catch(() => [m])));
  return { info: session.toJSON(), history, runs, preview, branches };
}

function drawDetail(detail, sessions) {
  const info = detail?.info;
  $("chat-title").textContent = info ? titleOf(info) : sessions.length ? "Pick a session" : "Welcome";
  $("chat-id").textContent = info ? info.id : "";
  $("chat-actions").hidden = !info;
  $("message-form").hidden = !info;
  $("inspector").hidden = !info;
  $("welcome").hidden = !!info;
  if (!info) {
    $("history").replaceChildren();
    $("suggestions").hidden = true;
    return;
  }
  const { history, runs, preview, branches } = detail;
  const branchesOf = new Map(history.map((m, i) => [m.id, branches[i]]));
  const runStatus = new Map(runs.map((r) => [r.id, r.status]));
  const mine = running?.sessionId === info.id ? running : null;
  const items = history
    .filter((m) => !(mine && ((mine.runId && m.runId === mine.runId) || m.id === mine.messageId)))
    .map((m, i, shown) => messageItem(m, runStatus.get(m.runId), i === shown.length - 1, branchesOf.get(m.id)));
  if (mine?.bubble) items.push(mine.bubble);
  const box = $("history");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.replaceChildren(...items);
  if (atBottom || mine) box.scrollTop = box.scrollHeight;
  $("suggestions").hidden = history.length > 0 || !!mine;
  drawRuns(runs, info);
  drawMeta(info);
  drawContext(preview);
}

function drawRuns(runs, info) {
  const rows = [...runs].sort((a, b) => b.createdAt - a.createdAt).map((r) => {
    const tr = el("tr", `run run-${r.status}`);
    tr.dataset.id = r.id;
    const status = el("td");
    status.append(el("span", `pill ${r.status}`, r.status));
    if (r.errorCode) {
      status.append(el("span", "small muted block", r.errorCode));
      status.title = r.errorMessage ?? r.errorCode;
    }
    tr.append(
      status,
      el("td", "model", r.model ?? "—"),
      el("td", "tokens num", `${r.usage.inputTokens} / ${r.usage.outputTokens}`),
      el("td", "duration num", r.durationMs == null ? "…" : formatMs(r.durationMs)),
      el("td", "retries num", String(Math.max(0, r.attempts - 1))),
    );
    return tr;
  });
  $("runs").tBodies[0].replaceChildren(...rows);
  $("runs").hidden = rows.length === 0;
  $("runs-empty").hidden = rows.length > 0;
  const u = info.usage;
  $("usage-total").textContent =
    `${runs.length} run${runs.length === 1 ? "" : "s"} · ${u.inputTokens} in / ${u.outputTokens} out tokens in total`;
}

function formatMs(ms) {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

let metaShownFor = null;
function drawMeta(info) {
  // Keep what the user is typing unless the session changed under the form.
  const form = $("meta-form");
  const focused = form.contains(document.activeElement);
  if (!focused || metaShownFor !== info.id) {
    $("meta-title").value = info.title ?? "";
    $("meta-json").value = JSON.stringify(info.metadata, null, 2);
    if (metaShownFor !== info.id) $("meta-status").textContent = "";
    metaShownFor = info.id;
  }
  const facts = $("session-facts");
  const row = (k, v) => [el("dt", null, k), el("dd", null, v)];
  facts.replaceChildren(
    ...row("Created", new Date(info.createdAt).toLocaleString()),
    ...row("Updated", new Date(info.updatedAt).toLocaleString()),
    ...row("Messages", String(info.messageCount)),
  );
}

function drawContext(preview) {
  if (preview.error) {
    $("context-summary").textContent = `Preview unavailable: ${explain(preview.error)}`;
    $("context-list").replaceChildren();
    return;
  }
  const { messages, tokens, budget, dropped, summarize } = preview;
  let text = `Strategy ${preview.strategy}: ${messages.length} message${messages.length === 1 ? "" : "s"}`;
  text += `, about ${tokens} tokens`;
  if (budget != null) text += ` of a ${budget} budget`;
  const left = dropped.length;
  if (left) text += `; ${left} older message${left === 1 ? "" : "s"} left out`;
  if (preview.omittedBeforeSeq != null) text += "; older ones not read";
  if (summarize) text += "; the next call summarises the oldest part first";
  $("context-summary").textContent = text + ".";
  const rows = preview.system ? [{ role: "system", content: preview.system }, ...messages] : messages;
  $("context-list").replaceChildren(...rows.map((m) => {
    const li = el("li");
    li.append(el("span", "role", m.role), el("span", null, clip(String(m.content ?? ""), 90)));
    return li;
  }));
}

function clip(text, n) {
  return text.length > n ? text.slice(0, n - 1) + "…" : text;
}

let rendering = Promise.resolve();
/** Reads the store, then draws in one go. Renders run one at a time, so the last drawn is the
 * newest read, and every part of the page shows the same moment. */
function render() {
  const next = rendering.then(async () => {
    const { sessions } = await store.querySessions({ limit: 200, order: "updatedAt" });
    const detail = await loadDetail();
    drawSessions(sessions);
    drawDetail(detail, sessions);
  });
  rendering = next.catch(() => {});
  return next;
}

/** Runs an async action, showing its error instead of losing it. */
async function run(action) {
  try {
    await action();
  } catch (e) {
    showError(e);
  }
}

async function select(id) {
  current = id;
  showError(null);
  setSidebar(false);
  await render();
  $("message-input").focus();
}

// ---- actions --------------------------------------------------------------------------------

$("create-form").onsubmit = (ev) => {
  ev.preventDefault();
  run(async () => {
    const id = $("new-id").value.trim();
    const s = await store.create(id || undefined);
    $("new-id").value = "";
    showError(null);
    await select(s.id);
  });
};

async function send(text) {
  if (running || !text.trim() || !current) return;
  const sessionId = current;
  const session = await store.get(sessionId);
  if (!session) return;
  if (!session.title) {
    // A first message names an untitled chat, as chat apps do.
    await session.update({ title: clip(text.trim().replace(/\s+/g, " "), 48) });
  }
  $("message-input").value = "";
  autosize();
  await follow(sessionId, "", null, (signal) => agent.stream(text, { sessionId, signal }));
}

/** An edited question: a new alternative (the original stays on its branch), answered at once. */
async function editAndAnswer(m, text) {
  if (running || !current || !text.trim()) return;
  const sessionId = current;
  const session = await store.get(sessionId);
  const edited = await session.editMessage(m.id, { content: text });
  await follow(sessionId, "", null, (signal) => agent.regenerate(edited.id, { sessionId, signal }));
}

/** A new answer to the question `messageId` answers; the old one stays as an alternative. */
async function regenerate(messageId) {
  if (running || !current) return;
  const sessionId = current;
  await follow(sessionId, "", null, (signal) => agent.regenerate(messageId, { sessionId, signal }));
}

async function switchTo(messageId) {
  const session = await store.get(current);
  if (session) await session.switchBranch(messageId);
  await render();
}

/** Continues the interrupted reply `m` of the open session: the same message grows. */
async function resume(m) {
  if (running || !current) return;
  const sessionId = current;
  // The bubble grows from the text the engine continues from: Anthropic's prefill is sent (and the
  // reply completed) without trailing whitespace, the continuation bringing its own.
  const base = settings.provider === "anthropic" ? m.content.trimEnd() : m.content;
  await follow(sessionId, base, m.id, (signal) => agent.continueStream({ sessionId, signal }));
}

/** Shows a stream in a live bubble. `base` is the text it grows from (a continued reply), whose
 * stored message `messageId` the bubble stands in for meanwhile. */
async function follow(sessionId, base, messageId, open) {
  running = { sessionId, controller: new AbortController(), runId: null, text: base, bubble: null, messageId };
  setBusy(true);
  showError(null);
  let paint = 0;
  const repaint = () => {
    paint ||= requestAnimationFrame(() => {
      paint = 0;
      if (!running?.bubble) return;
      fillContent(running.bubble.querySelector(".content"), "assistant", running.text);
      if (current === sessionId) $("history").scrollTop = $("history").scrollHeight;
    });
  };
  try {
    for await (const event of open(running.controller.signal)) {
      if (event.type === "start") {
        running.runId = event.runId;
        running.bubble = liveBubble();
        await render();
        repaint();
      } else if (event.type === "delta") {
        running.text += event.text;
        repaint();
      } else if (event.type === "restart") {
        // retry.midStream: the attempt shown so far failed; the new one starts over.
        running.text = base;
        setStatus(`the reply was cut off (${event.reason}); starting it over`, "warn");
        repaint();
      }
    }
  } catch (e) {
    if (e.code !== "ABORTED") showError(e);
  } finally {
    if (paint) cancelAnimationFrame(paint);
    running = null;
    // Not busy only once the page shows the finished run: a render started by the store's own
    // events may have drawn the reply before its run was marked completed.
    try {
      await render();
    } finally {
      // Another answer may have started meanwhile (its own follow() is now the busy one).
      if (!running) setBusy(false);
    }
  }
}

function setBusy(busy) {
  $("send").disabled = busy;
  $("stop").disabled = !busy;
  document.body.dataset.busy = String(busy);
}

$("message-form").onsubmit = (ev) => {
  ev.preventDefault();
  run(() => send($("message-input").value));
};

$("message-input").addEventListener("keydown", (e) => {
  if (e.key === "Escape" && running) running.controller.abort();
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    run(() => send($("message-input").value));
  }
});

function autosize() {
  const t = $("message-input");
  t.style.height = "auto";
  t.style.height = `${Math.min(t.scrollHeight, 200)}px`;
}
$("message-input").addEventListener("input", autosize);

$("stop").onclick = () => running?.controller.abort();

for (const chip of $("suggestions").querySelectorAll(".chip")) {
  chip.onclick = () => run(() => send(chip.textContent));
}

$("reset").onclick = () => confirmThen($("reset"), "Confirm reset", async () => {
  await agent.resetConversation(current);
  await render();
});

$("meta-form").onsubmit = (ev) => {
  ev.preventDefault();
  const status = $("meta-status");
  let metadata;
  try {
    metadata = JSON.parse($("meta-json").value || "{}");
  } catch (e) {
    status.textContent = `Not valid JSON: ${e.message}`;
    status.className = "small error";
    return;
  }
  run(async () => {
    try {
      const s = await store.get(current);
      await s.update({ title: $("meta-title").value.trim() || null, metadata });
      status.textContent = "Saved.";
      status.className = "small ok";
      document.activeElement?.blur();
      await render();
    } catch (e) {
      status.textContent = explain(e);
      status.className = "small error";
    }
  });
};

$("fork").onclick = () => run(async () => {
  const session = current ? await store.get(current) : null;
  if (!session) return;
  const copy = await session.fork();
  await select(copy.id);
});

$("export").onclick = () => run(async () => {
  const s = await store.get(current);
  const bundle = await s.export();
  const blob = new Blob([JSON.stringify(bundle, null, 2)], { type: "application/json" });
  const a = el("a");
  a.href = URL.createObjectURL(blob);
  a.download = `${(s.title || s.id).replace(/[^\w.-]+/g, "-").slice(0, 60)}.session.json`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
});

$("import-file").onchange = (ev) => run(async () => {
  const file = ev.target.files[0];
  ev.target.value = "";
  if (!file) return;
  let bundle;
  try {
    bundle = JSON.parse(await file.text());
  } catch (e) {
    throw new Error(`${file.name} is not JSON: ${e.message}`);
  }
  let imported;
  let note = "";
  try {
    imported = await store.importSession(bundle);
  } catch (e) {
    if (e.code !== "SESSION_EXISTS") throw e;
    // Never overwrite a chat silently: keep both, the import under a fresh id.
    const id = `${String(bundle.session.id).slice(0, 100)}-copy-${Date.now().toString(36)}`;
    imported = await store.importSession(bundle, { id });
    note = `A session with id ${bundle.session.id} exists; imported as a copy: ${id}`;
  }
  await select(imported.id);
  $("error").textContent = note;
});

// ---- sidebar on small screens -----------------------------------------------------------------

function setSidebar(open) {
  sidebarOpen = open;
  document.body.classList.toggle("sidebar-open", open);
  $("toggle-sidebar").setAttribute("aria-expanded", String(open));
}
$("toggle-sidebar").onclick = () => setSidebar(!sidebarOpen);

// ---- settings dialog ------------------------------------------------------------------------

const form = {
  provider: $("set-provider"), baseUrl: $("set-base-url"), model: $("set-model"), apiKey: $("set-api-key"),
  rememberKey: $("set-remember-key"), instructions: $("set-instructions"), storage: $("set-storage"),
  strategy: $("set-strategy"), budget: $("set-budget"), windowSize: $("set-window"), markdown: $("set-markdown"),
};

function fillSettingsForm(s) {
  for (const [k, input] of Object.entries(form)) {
    if (input.type === "checkbox") input.checked = !!s[k];
    else input.value = s[k] ?? "";
  }
  syncSettingsForm();
}

function syncSettingsForm() {
  const p = PROVIDERS[form.provider.value];
  const mock = form.provider.value === "mock";
  form.model.placeholder = p.model;
  form.baseUrl.placeholder = mock ? "not used: the mock runs in the page" : p.baseUrl;
  for (const k of ["baseUrl", "apiKey", "rememberKey"]) form[k].disabled = mock;
  $("key-warning").classList.toggle("strong", form.rememberKey.checked);
  for (const label of $("settings-form").querySelectorAll("label[data-for]")) {
    label.hidden = !label.dataset.for.split(" ").includes(form.strategy.value);
  }
}
for (const input of Object.values(form)) input.addEventListener("change", syncSettingsForm);

$("open-settings").onclick = () => {
  fillSettingsForm(settings);
  $("settings-error").textContent = "";
  $("settings").showModal();
};
$("settings-cancel").onclick = () => $("settings").close();

$("settings-form").onsubmit = (ev) => {
  ev.preventDefault();
  const next = { ...settings };
  for (const [k, input] of Object.entries(form)) {
    next[k] = input.type === "checkbox" ? input.checked : input.type === "number" ? Number(input.value) : input.value.trim();
  }
  if (next.provider !== settings.provider && form.model.value.trim() === settings.model) next.model = "";
  run(async () => {
    try {
      await applySettings(next);
    } catch (e) {
      $("settings-error").textContent = explain(e);
      return;
    }
    saveSettings(settings);
    $("settings").close();
    await render();
  });
};

// ---- start ----------------------------------------------------------------------------------

try {
  await applySettings(settings);
} catch (e) {
  // Saved settings the package refuses (e.g. a strategy this build lacks): start from defaults.
  console.warn("saved settings refused, using defaults:", e);
  await applySettings({ ...DEFAULTS, apiKey: "" });
  saveSettings(settings);
}
const first = await store.querySessions({ limit: 1, order: "updatedAt" });
current = first.sessions[0]?.id ?? null;
await render();
document.body.dataset.ready = "true";
