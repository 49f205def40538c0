// agent-sessions/server: the API's Agent2Agent face (A2A 1.0, JSON-RPC binding): the agent card
// and `SendMessage`, `SendStreamingMessage`, `GetTask`, `CancelTask` over the same sessions and
// runs as the REST API. contextId = the session id; a task is one run, its id
// `{run_id}:{session_id}` (a run id is unique only within its session, and the pair lets
// GetTask find the run in the tenant's store without an index kept here). A message without a
// contextId starts a new session; one with an unknown contextId creates the session by that id.

/** JSON-RPC error codes (JSON-RPC 2.0 and A2A 1.0 §5.4). */
export const RPC = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  TASK_NOT_FOUND: -32001,
  TASK_NOT_CANCELABLE: -32002,
  CONTENT_TYPE_NOT_SUPPORTED: -32005,
};

/** The library's run status → A2A's task state. */
const STATE = {
  pending: "TASK_STATE_SUBMITTED",
  running: "TASK_STATE_WORKING",
  completed: "TASK_STATE_COMPLETED",
  failed: "TASK_STATE_FAILED",
  aborted: "TASK_STATE_CANCELED",
};
const ARTIFACT = "answer";

class RpcError extends Error {
  constructor(code, message, data) {
    super(message);
    this.rpcCode = code;
    this.data = data;
  }
}

/** The card of agent `name` (public: it holds config only). `url`: the request's URL. */
export function agentCard({ name, options, description, url, secured }) {
  const rpcUrl = new URL(url);
  rpcUrl.pathname = rpcUrl.pathname.replace(/\/\.well-known\/agent-card\.json$/, "/a2a");
  rpcUrl.search = "";
  const card = {
    name: options.name ?? name,
    description: description ?? `${options.name ?? name}: a conversational agent that keeps its sessions`,
    version: "1.0.0",
    supportedInterfaces: [{ url: rpcUrl.toString(), protocolBinding: "JSONRPC", protocolVersion: "1.0" }],
    capabilities: { streaming: true, pushNotifications: false },
    defaultInputModes: ["text/plain"],
    defaultOutputModes: ["text/plain"],
    skills: [{ id: "chat", name: "chat", description: "Answers in a conversation that remembers its context", tags: ["chat"] }],
  };
  if (secured) {
    card.securitySchemes = { bearer: { httpAuthSecurityScheme: { scheme: "Bearer", description: "a tenant's token" } } };
    card.securityRequirements = [{ schemes: { bearer: { list: [] } } }];
  }
  return card;
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const reply = (id, result) => ({ jsonrpc: "2.0", id, result });
const errorReply = (id, e) => ({ jsonrpc: "2.0", id, error: { code: e.rpcCode, message: e.message, ...(e.data ? { data: e.data } : {}) } });
const frame = (id, result) => `data: ${JSON.stringify(reply(id, result))}\n\n`;
const iso = (ms) => new Date(typeof ms === "number" && Number.isFinite(ms) ? ms : Date.now()).toISOString();

/** The request's envelope: `{ id, method, params }`, or an RpcError (with the id when known). */
function envelope(text) {
  let req;
  try {
    req = JSON.parse(text);
  } catch {
    throw Object.assign(new RpcError(RPC.PARSE_ERROR, "the body is not JSON"), { id: null });
  }
  const id = isObject(req) && (typeof req.id === "string" || typeof req.id === "number") ? req.id : null;
  if (!isObject(req) || req.jsonrpc !== "2.0" || typeof req.method !== "string")
    throw Object.assign(new RpcError(RPC.INVALID_REQUEST, 'a JSON-RPC 2.0 request object is expected: { "jsonrpc": "2.0", "id", "method", "params" }'), { id });
  if (req.params !== undefined && !isObject(req.params))
    throw Object.assign(new RpcError(RPC.INVALID_PARAMS, "params must be an object"), { id });
  return { id, method: req.method, params: req.params ?? {} };
}

/** The user's text and contextId from SendMessage params. */
function userMessage(params) {
  const m = params.message;
  if (!isObject(m) || !Array.isArray(m.parts) || m.parts.length === 0)
    throw new RpcError(RPC.INVALID_PARAMS, "params.message with a non-empty parts array is required");
  if (m.role !== undefined && m.role !== "ROLE_USER")
    throw new RpcError(RPC.INVALID_PARAMS, `params.message.role must be "ROLE_USER", not ${JSON.stringify(m.role)}`);
  if (m.contextId !== undefined && (typeof m.contextId !== "string" || m.contextId === ""))
    throw new RpcError(RPC.INVALID_PARAMS, "params.message.contextId must be a non-empty string");
  const texts = m.parts.filter((p) => isObject(p) && typeof p.text === "string").map((p) => p.text);
  if (texts.length !== m.parts.length)
    throw new RpcError(RPC.CONTENT_TYPE_NOT_SUPPORTED, "only text parts are supported");
  return { text: texts.join("\n"), contextId: m.contextId ?? null };
}

function historyLength(v, key) {
  if (v === undefined) return null;
  if (!Number.isInteger(v) || v < 0) throw new RpcError(RPC.INVALID_PARAMS, `${key} must be a whole number ≥ 0`);
  return v;
}

const taskIdOf = (runId, sessionId) => `${runId}:${sessionId}`;

function parseTaskId(params) {
  const id = params.id;
  if (typeof id !== "string" || id === "") throw new RpcError(RPC.INVALID_PARAMS, "params.id (the task id) is required");
  const at = id.indexOf(":");
  if (at <= 0 || at === id.length - 1) throw new RpcError(RPC.TASK_NOT_FOUND, `no task ${JSON.stringify(id)}`);
  return { id, runId: id.slice(0, at), sessionId: id.slice(at + 1) };
}

function messageOut(m, contextId) {
  const out = { messageId: m.id, contextId, role: m.role === "user" ? "ROLE_USER" : "ROLE_AGENT", parts: [{ text: m.content }] };
  if (m.runId) out.taskId = taskIdOf(m.runId, contextId);
  return out;
}

/**
 * Serves one A2A JSON-RPC request. `host` is the handler's side: `{ agent, runKey(sessionId),
 * activeRun(key), startRun(key, sessionId, events), sse(run, frames, headers, translate),
 * closing(), json(status, body), onError(e) }`.
 */
export async function a2aRpc(host, bodyText) {
  let id = null;
  try {
    const req = envelope(bodyText);
    id = req.id;
    switch (req.method) {
      case "SendMessage":
        return host.json(200, reply(id, { task: await send(host, req.params, null) }));
      case "SendStreamingMessage":
        return await send(host, req.params, id);
      case "GetTask": {
        const t = parseTaskId(req.params);
        return host.json(200, reply(id, await taskOut(host, t, historyLength(req.params.historyLength, "params.historyLength"))));
      }
      case "CancelTask":
        return host.json(200, reply(id, await cancel(host, parseTaskId(req.params))));
    }
    throw new RpcError(RPC.METHOD_NOT_FOUND, `no method ${JSON.stringify(req.method)} (SendMessage, SendStreamingMessage, GetTask, CancelTask)`);
  } catch (e) {
    return host.json(200, errorReply(e.id !== undefined ? e.id : id, rpcError(host, e)));
  }
}

/** Any error as an RpcError: the library's coded errors keep their code in `data.code`. */
function rpcError(host, e) {
  if (e instanceof RpcError) return e;
  if (typeof e?.code !== "string") {
    host.onError(e);
    return new RpcError(RPC.INTERNAL_ERROR, "internal error", { code: "INTERNAL" });
  }
  // The caller's input refused (a bad id, message or metadata): invalid params; else the server's.
  const code = /^INVALID_(ARGUMENT|ID|MESSAGE|METADATA)$/.test(e.code) ? RPC.INVALID_PARAMS : RPC.INTERNAL_ERROR;
  return new RpcError(code, String(e.message), { code: e.code });
}

/** SendMessage (`rpcId` null: answers the finished Task) or SendStreamingMessage (an SSE stream). */
async function send(host, params, rpcId) {
  const { agent } = host;
  const { text, contextId } = userMessage(params);
  const hl = historyLength(params.configuration?.historyLength, "params.configuration.historyLength");
  const s = (contextId && (await agent.getSession(contextId))) || (await agent.createSession(contextId, {}));
  const key = host.runKey(s.id);
  const current = host.activeRun(key);
  if (current && !current.ended)
    throw new RpcError(RPC.INTERNAL_ERROR, "a run is active on this context: wait for it or cancel its task", {
      code: "SESSION_BUSY",
      taskId: current.runId ? taskIdOf(current.runId, s.id) : null,
    });
  if (host.closing()) throw new RpcError(RPC.INTERNAL_ERROR, "the server is shutting down", { code: "STORAGE_UNAVAILABLE" });
  const run = host.startRun(key, s.id, (signal) => agent.stream(text, { sessionId: s.id, signal }));
  if (rpcId === null) {
    await run.done;
    if (!run.runId) throw run.error;
    return taskOut(host, { id: taskIdOf(run.runId, s.id), runId: run.runId, sessionId: s.id }, hl);
  }
  return host.sse(run, [], {}, streamTranslator(rpcId, s.id, text));
}

/** The run's events (as `startRun` emits them) → A2A StreamResponse frames. */
function streamTranslator(rpcId, contextId, text) {
  let taskId = null;
  let fresh = true; // the next text starts the artifact (at first, and after a restart)
  const status = (state, message) => ({
    statusUpdate: { taskId, contextId, status: { state, timestamp: iso(), ...(message ? { message } : {}) } },
  });
  const agentText = (messageId, t) => ({ messageId, contextId, taskId, role: "ROLE_AGENT", parts: [{ text: t }] });
  return (event, data) => {
    switch (event) {
      case "start":
        taskId = taskIdOf(data.run_id, contextId);
        return (
          frame(rpcId, {
            task: {
              id: taskId, contextId, status: { state: "TASK_STATE_SUBMITTED", timestamp: iso() },
              history: [{ messageId: `${data.run_id}-in`, contextId, taskId, role: "ROLE_USER", parts: [{ text }] }],
            },
          }) + frame(rpcId, status("TASK_STATE_WORKING"))
        );
      case "delta": {
        const append = !fresh;
        fresh = false;
        return frame(rpcId, { artifactUpdate: { taskId, contextId, artifact: { artifactId: ARTIFACT, name: ARTIFACT, parts: [{ text: data.text }] }, append } });
      }
      case "restart":
        fresh = true; // the text so far is void: the next delta replaces the artifact
        return null;
      case "message":
        return frame(rpcId, status("TASK_STATE_COMPLETED", agentText(data.message.id, data.message.content)));
      case "error":
        if (!taskId)
          return `data: ${JSON.stringify(errorReply(rpcId, new RpcError(RPC.INTERNAL_ERROR, data.message, { code: data.code })))}\n\n`;
        return frame(rpcId, status(data.code === "ABORTED" ? "TASK_STATE_CANCELED" : "TASK_STATE_FAILED", agentText(`${taskId}-error`, data.message)));
    }
    return null;
  };
}

/** The task (run) as stored, with the newest `hl` messages of its context (all when null). */
async function taskOut(host, { id, runId, sessionId }, hl) {
  const s = await host.agent.getSession(sessionId);
  const rec = s && (await s.getRuns()).find((r) => r.id === runId);
  if (!rec) throw new RpcError(RPC.TASK_NOT_FOUND, `no task ${JSON.stringify(id)}`);
  const all = await s.getHistory();
  const answer = all.findLast((m) => m.runId === runId && m.role === "assistant");
  const status = { state: STATE[rec.status] ?? "TASK_STATE_UNSPECIFIED", timestamp: iso(rec.endedAt ?? rec.startedAt ?? rec.createdAt) };
  if (answer) status.message = messageOut(answer, sessionId);
  else if (rec.errorMessage) status.message = { messageId: `${id}-error`, contextId: sessionId, taskId: id, role: "ROLE_AGENT", parts: [{ text: rec.errorMessage }] };
  const visible = all.filter((m) => m.role === "user" || m.role === "assistant");
  return {
    id,
    contextId: sessionId,
    status,
    artifacts: answer ? [{ artifactId: ARTIFACT, name: ARTIFACT, parts: [{ text: answer.content }] }] : [],
    history: (hl === null ? visible : hl === 0 ? [] : visible.slice(-hl)).map((m) => messageOut(m, sessionId)),
  };
}

/** CancelTask: stops the run when it is the context's active one; a finished task is not cancelable. */
async function cancel(host, t) {
  const task = await taskOut(host, t, 0);
  const run = host.activeRun(host.runKey(t.sessionId));
  if (!run || run.ended || run.runId !== t.runId)
    throw new RpcError(RPC.TASK_NOT_CANCELABLE, `task ${JSON.stringify(t.id)} is ${task.status.state}: only a working task is canceled`);
  run.abort.abort();
  await run.done;
  return taskOut(host, t, null);
}
