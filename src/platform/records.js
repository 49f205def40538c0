// Stored message records handed to JavaScript as they are, for `getHistory()` over SQL storage
// (`publicMessages`: rows of JSON text) and IndexedDB (`publicRecords`: the stored objects).
//
// Each row's `data` is the message record as JSON text. When every record is exactly its public
// form — what this version writes and `getHistory()` returns, unsealed — `JSON.parse` of it is
// the answer, and the record never needs to cross into Rust, be decoded, re-encoded and parsed
// once more (three passes over a history that is mostly message text). The check below is
// `Message`'s serde shape (src/core/model.rs): the fields, their types, no `null` for an optional
// field, no empty `toolCalls`, no field left to a default, nothing unknown. Any record that is
// not exactly that makes the whole answer `null`, and the store decodes the rows in Rust, which
// fills defaults, drops what it ignores and reports a damaged record as STORAGE_CORRUPT. So this
// only ever returns what the Rust path would have returned (tests/sql: the two agree on every
// shape of record, written by hand into the tables).

const ROLES = new Set(["system", "user", "assistant", "tool"]);
const STATUSES = new Set(["complete", "interrupted", "error"]);
const isText = (v) => typeof v === "string";
const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
const isWhole = (v, max) => Number.isInteger(v) && v >= 0 && v <= max;

function isToolCall(c) {
  return isObject(c) && isText(c.id) && isText(c.name) && isText(c.arguments) && Object.keys(c).length === 3;
}

function isPublicMessage(m, sessionId) {
  if (!isObject(m)) return false;
  if (!isText(m.id) || m.sessionId !== sessionId || !isWhole(m.seq, Number.MAX_SAFE_INTEGER)) return false;
  if (!ROLES.has(m.role) || !isText(m.content) || !STATUSES.has(m.status)) return false;
  if (!Number.isFinite(m.createdAt) || !isWhole(m.tokens, 0xffffffff)) return false;
  let fields = 8;
  if (m.name !== undefined) {
    if (!isText(m.name)) return false;
    fields++;
  }
  if (m.toolCalls !== undefined) {
    if (!Array.isArray(m.toolCalls) || m.toolCalls.length === 0 || !m.toolCalls.every(isToolCall)) return false;
    fields++;
  }
  if (m.toolCallId !== undefined) {
    if (!isText(m.toolCallId)) return false;
    fields++;
  }
  if (m.runId !== undefined) {
    if (!isText(m.runId)) return false;
    fields++;
  }
  if (m.metadata !== undefined) {
    if (!isObject(m.metadata)) return false;
    fields++;
  }
  if (m.payload !== undefined) {
    if (m.payload === null) return false;
    fields++;
  }
  return Object.keys(m).length === fields;
}

// rows: what the host's query gave (bare strings, one-column arrays, or `{ data }` objects);
// reverse: the rows came newest first. Returns the messages oldest first, or null.
export function publicMessages(rows, sessionId, reverse) {
  if (!Array.isArray(rows)) return null;
  const n = rows.length;
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    const text = isText(row) ? row : Array.isArray(row) ? row[0] : row?.data;
    if (!isText(text)) return null;
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return null;
    }
    if (!isPublicMessage(message, sessionId)) return null;
    out[reverse ? n - 1 - i : i] = message;
  }
  return out;
}

// A synchronous SQLite database's write transaction in one call from Rust (node:sqlite,
// better-sqlite3): BEGIN IMMEDIATE, each prepared statement with its parameters, COMMIT; on a
// failure after BEGIN, ROLLBACK (which fails too when SQLite already rolled back) and the
// statement's error thrown. Nothing else in this process runs between BEGIN and COMMIT.
export function syncTransaction(db, exec, begin, commit, statements, params) {
  begin.run();
  try {
    for (let i = 0; i < statements.length; i++) statements[i].run(...params[i]);
    commit.run();
  } catch (e) {
    try {
      exec.call(db, "ROLLBACK");
    } catch {
      // Already rolled back.
    }
    throw e;
  }
}

// records: the message objects IndexedDB read (structured clones: this call's own copies), oldest
// first. Returns the same array when every one is exactly its public form, or null.
export function publicRecords(records, sessionId) {
  if (!Array.isArray(records)) return null;
  for (let i = 0; i < records.length; i++) if (!isPublicMessage(records[i], sessionId)) return null;
  return records;
}
