// The HTTP API's AI SDK mode: `POST /agents/{agent}/chat` takes what the AI SDK's
// DefaultChatTransport sends and answers with the UI message stream protocol (SSE, one
// UIMessageChunk per `data:` line, then `data: [DONE]`); `GET …/chat/{id}/stream` resumes it.
// The chat id is the session id. Messages are stored in chatStore's form (agent-sessions/ai-sdk:
// the UIMessage in `payload`), the reply as well, so `chatStore(store).loadChat(id)` is the chat.
import { isUIMessage, newRecord, uiMessageChunks } from "./ai-sdk.js";

/** The headers of a UI message stream response (the AI SDK checks none, but sends these). */
export const UI_STREAM_HEADERS = { "x-vercel-ai-ui-message-stream": "v1" };
/** The SSE event name of the frames: the default one, so an EventSource's `onmessage` sees them. */
export const UI_EVENT = "message";

const TRIGGERS = new Set(["submit-message", "regenerate-message"]);

/**
 * The request body of DefaultChatTransport (`{ id, messages, trigger, messageId, ...body }`) →
 * `{ ok: { id, trigger, message } }` (`message`: the last UIMessage, a user message: the new
 * question, or the one to answer again), or `{ error: [code, message, details] }`. Only that
 * message is read of `messages`: the history is the stored one.
 */
export function parseChatRequest(text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return { error: ["INVALID_JSON", "the body is not JSON: send DefaultChatTransport's { id, messages, trigger }"] };
  }
  if (body === null || typeof body !== "object" || Array.isArray(body))
    return { error: ["INVALID_ARGUMENT", "the body must be a JSON object { id, messages, trigger }"] };
  const { id, messages, trigger } = body;
  if (typeof id !== "string" || id === "") return { error: ["INVALID_ARGUMENT", "`id` (the chat id) must be a non-empty string"] };
  if (!TRIGGERS.has(trigger))
    return { error: ["INVALID_ARGUMENT", '`trigger` must be "submit-message" or "regenerate-message"', { trigger: trigger ?? null }] };
  if (!Array.isArray(messages) || messages.length === 0)
    return { error: ["INVALID_ARGUMENT", "`messages` must be a non-empty array of UIMessages"] };
  const message = messages[messages.length - 1];
  if (!isUIMessage(message))
    return { error: ["INVALID_ARGUMENT", "the last of `messages` must be a UIMessage ({ id, role, parts })"] };
  if (message.role !== "user")
    return { error: ["INVALID_ARGUMENT", `the last of \`messages\` must be a user message, not ${JSON.stringify(message.role)}`] };
  return { ok: { id, trigger, message } };
}

/**
 * A run's frames' data in this mode: the UIMessageChunks of `events` (the agent's stream events)
 * as JSON texts (a failure of the run is an `error` chunk). `onRunId` is told the agent's run id.
 */
export async function* uiChunkTexts(events, { store, session, sessionId, onRunId }) {
  const tapped = (async function* () {
    for await (const ev of events) {
      if (ev.type === "start") onRunId(ev.runId);
      yield ev;
    }
  })();
  const reader = uiMessageChunks(tapped, { store, session, sessionId }).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    yield JSON.stringify(value);
  }
}

/** The agent's stream events for a parsed request: the new question stored (chatStore's form)
 * then answered, or the stored question answered again (a new branch, the old answer kept). */
export function chatEvents(agent, session, { trigger, message }, signal, onStored = () => {}) {
  const options = { sessionId: session.id, signal };
  if (trigger === "regenerate-message") {
    onStored(null);
    return agent.regenerate(message.id, options);
  }
  return (async function* () {
    try {
      await session.addMessage(newRecord(message));
    } catch (e) {
      // `onStored(e)`: the route answers with this error (a typed 4xx) instead of the stream.
      onStored(e);
      throw e;
    }
    onStored(null);
    yield* agent.stream(null, options);
  })();
}
