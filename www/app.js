// The demo page: sessions kept by agent-sessions in this tab.
import { SessionStore } from "/pkg/browser.js";

const $ = (id) => document.getElementById(id);
const store = await SessionStore.open({ storage: { type: "memory" } });
let current = null;

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
      li.append(role, document.createTextNode(m.content));
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
  try {
    const s = await store.get(current);
    await s.addMessage({ role: "user", content: $("message-input").value });
    $("message-input").value = "";
    showError(null);
    await render();
  } catch (e) {
    showError(e);
  }
};

$("status").textContent = "module loaded · memory storage";
document.body.dataset.ready = "true";
await render();
