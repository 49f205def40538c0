// The demo page: an agent on the offline `mock` provider, with sessions kept by agent-sessions.
import { Agent, SessionStore } from "/pkg/browser.js";

const $ = (id) => document.getElementById(id);
const store = await SessionStore.open({ storage: { type: "memory" } });
const agent = new Agent({
  name: "assistant",
  instructions: "You are a helpful assistant.",
  llm: { provider: "mock", model: "mock-1", chunkDelayMs: 40 },
  store,
});
let current = null;
let running = null;

function showError(e) {
  $("error").textContent = e ? `${e.code ?? e.name}: ${e.message}` : "";
}

async function renderSessions() {
  const { sessions } = await store.querySessions({ limit: 100 });
  const list = $("session-list");
  list.replaceChildren(
    ...sessions.map((s) => {
      const li = document.createElement("li");
      li.className = "session" + (s.id === current ? " active" : "");
      li.dataset.id = s.id;
      const label = document.createElement("code");
      label.textContent = `${s.id} (${s.messageCount})`;
      const del = document.createElement("button");
      del.className = "danger";
      del.textContent = "Delete";
      del.setAttribute("aria-label", `Delete ${s.id}`);
      del.onclick = async (ev) => {
        ev.stopPropagation();
        await store.delete(s.id);
        if (current === s.id) current = null;
        await render();
      };
      li.onclick = async () => {
        current = s.id;
        await render();
      };
      li.append(label, del);
      return li;
    }),
  );
  $("empty").hidden = sessions.length > 0;
}

async function renderDetail() {
  const session = current ? await store.get(current) : null;
  $("detail-title").textContent = session ? session.id : "Select a session";
  $("detail-title").classList.toggle("muted", !session);
  $("message-form").hidden = !session;
  const history = session ? await session.getHistory() : [];
  $("history").replaceChildren(
    ...history.map((m) => {
      const li = document.createElement("li");
      const role = document.createElement("span");
      role.className = "role";
      role.textContent = m.role;
      li.className = `msg-${m.role} status-${m.status}`;
      li.append(role, document.createTextNode(m.content));
      if (m.status !== "complete") {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = m.status;
        li.append(badge);
      }
      return li;
    }),
  );
}

async function render() {
  await renderSessions();
  await renderDetail();
}

$("create-form").onsubmit = async (ev) => {
  ev.preventDefault();
  try {
    const id = $("new-id").value.trim();
    const s = await store.create(id || undefined);
    current = s.id;
    $("new-id").value = "";
    showError(null);
    await render();
  } catch (e) {
    showError(e);
  }
};

$("message-form").onsubmit = async (ev) => {
  ev.preventDefault();
  const text = $("message-input").value;
  if (running || !text.trim()) return;
  running = new AbortController();
  $("send").disabled = true;
  $("stop").disabled = false;
  $("message-input").value = "";
  showError(null);
  let live = null;
  try {
    for await (const event of agent.stream(text, { sessionId: current, signal: running.signal })) {
      if (event.type === "start") {
        await render();
        live = document.createElement("li");
        live.className = "msg-assistant streaming";
        const role = document.createElement("span");
        role.className = "role";
        role.textContent = "assistant";
        live.append(role, document.createTextNode(""));
        $("history").append(live);
      } else if (event.type === "delta") {
        live.lastChild.textContent += event.text;
      }
    }
  } catch (e) {
    if (e.code !== "ABORTED") showError(e);
  } finally {
    running = null;
    $("send").disabled = false;
    $("stop").disabled = true;
    await render();
  }
};

$("stop").onclick = () => running?.abort();

$("status").textContent = "module loaded · offline mock provider · memory storage";
document.body.dataset.ready = "true";
await render();
