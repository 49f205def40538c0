// The hand-written typings (pkg/index.d.ts, copied from src/bindings/types.d.ts) against the built
// package, so that a field, member or event added on one side only fails here:
// - the exported classes and their members (prototype and static) vs the declared classes, read
//   with the TypeScript compiler API;
// - the event names the package emits vs the declared unions;
// - real values the package returns (session infos and handles, messages, runs, every event, a
//   generate() result, stream events, previewContext, an export bundle, errors) compiled as
//   `const x = <value> satisfies T;` under `tsc --strict`, so an undeclared field is an excess
//   property and a missing one is an error.
// Error codes and event names vs the Rust enums and the README: tests/contract.rs (cargo test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import * as lib from "agent-sessions";

const root = new URL("../../", import.meta.url);
const dtsPath = fileURLToPath(new URL("pkg/index.d.ts", root));
const readDts = (file) => ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
const dts = readDts(dtsPath);
const mainDts = dts;

const has = (node, kind) => node.modifiers?.some((m) => m.kind === kind) ?? false;

/** Every exported class of the declarations: its constructor and its members by kind. */
function declaredClasses(dts = mainDts) {
  const classes = new Map();
  for (const st of dts.statements) {
    if (!ts.isClassDeclaration(st) || !st.name || !has(st, ts.SyntaxKind.ExportKeyword)) continue;
    const c = { constructor: "none", instance: new Map(), static: new Map() };
    for (const m of st.members) {
      if (ts.isConstructorDeclaration(m)) {
        c.constructor = has(m, ts.SyntaxKind.PrivateKeyword) ? "private" : "public";
        continue;
      }
      if (has(m, ts.SyntaxKind.PrivateKeyword) || !m.name) continue;
      const side = has(m, ts.SyntaxKind.StaticKeyword) ? c.static : c.instance;
      const name = m.name.getText(dts);
      if (ts.isMethodDeclaration(m)) side.set(name, "method");
      else if (ts.isPropertyDeclaration(m)) side.set(name, has(m, ts.SyntaxKind.ReadonlyKeyword) ? "getter" : "accessor");
      else if (ts.isGetAccessorDeclaration(m)) side.set(name, side.has(name) ? "accessor" : "getter");
      else if (ts.isSetAccessorDeclaration(m)) side.set(name, "accessor");
      else throw new Error(`unexpected member ${name} of ${st.name.text}`);
    }
    classes.set(st.name.text, c);
  }
  return classes;
}

// wasm-bindgen's own plumbing (`__wrap`, `__destroy_into_raw`) and the library's internal
// `__agentSessionsStoreKey` are not part of the contract; everything else is.
const internal = (name) => name.startsWith("__");

function runtimeMembers(target, skip) {
  const members = new Map();
  for (const name of Object.getOwnPropertyNames(target)) {
    if (skip.includes(name) || internal(name)) continue;
    const d = Object.getOwnPropertyDescriptor(target, name);
    members.set(name, d.get || d.set ? (d.set ? "accessor" : "getter") : typeof d.value === "function" ? "method" : "value");
  }
  return members;
}

function diffMembers(where, declared, actual) {
  const problems = [];
  for (const [name, kind] of declared) {
    if (!actual.has(name)) problems.push(`${where}.${name} is declared (${kind}) but the package has none`);
    else if (actual.get(name) !== kind) problems.push(`${where}.${name} is declared a ${kind} but is a ${actual.get(name)}`);
  }
  for (const [name, kind] of actual) {
    if (!declared.has(name)) problems.push(`${where}.${name} (${kind}) is in the package but not declared`);
  }
  return problems;
}

/** The members of `export type name = A | B | …`: string literals, or each object's `type`. */
function unionTags(name) {
  const alias = dts.statements.find((s) => ts.isTypeAliasDeclaration(s) && s.name.text === name);
  assert.ok(alias, `the declarations have no type ${name}`);
  const members = ts.isUnionTypeNode(alias.type) ? alias.type.types : [alias.type];
  return members.map((m) => {
    if (ts.isLiteralTypeNode(m)) return m.literal.text;
    const tag = m.members?.find((p) => p.name?.getText(dts) === "type");
    assert.ok(tag && ts.isLiteralTypeNode(tag.type), `a member of ${name} has no literal \`type\``);
    return tag.type.literal.text;
  }).sort();
}

function classProblems(lib, declared) {
  const exported = Object.keys(lib).filter((k) => typeof lib[k] === "function").sort();
  assert.deepEqual(exported, [...declared.keys()].sort(), "exported classes vs declared classes");
  const problems = [];
  for (const [name, c] of declared) {
    const cls = lib[name];
    problems.push(...diffMembers(`${name}.prototype`, c.instance, runtimeMembers(cls.prototype, ["constructor"])));
    problems.push(...diffMembers(name, c.static, runtimeMembers(cls, ["length", "name", "prototype"])));
  }
  return problems;
}

test("the package exports exactly the declared classes, each with exactly the declared members", () => {
  assert.deepEqual(classProblems(lib, declaredClasses()), []);
});

test("agent-sessions/store: the storage-only module exports exactly store.d.ts's classes and members (none of the LLM build's)", async () => {
  const glue = await import(new URL("pkg/agent_sessions_store.js", root));
  glue.initSync({ module: readFileSync(new URL("pkg/agent_sessions_store_bg.wasm", root)) });
  const store = { Run: glue.Run, Session: glue.Session, SessionStore: glue.SessionStore };
  const declared = declaredClasses(readDts(fileURLToPath(new URL("pkg/store.d.ts", root))));
  assert.deepEqual([...declared.keys()].sort(), ["Run", "Session", "SessionStore"]);
  assert.deepEqual(classProblems(store, declared), []);
  assert.equal(glue.Agent, undefined, "no Agent in the storage-only module");
  assert.ok(!("getMessagesForLLM" in glue.Session.prototype) && !("previewContext" in glue.Session.prototype));
  // It works: a session stored, read back, and bad input refused with a typed error.
  const s = await (await glue.SessionStore.open({ storage: { type: "memory" } })).create("x", { title: "t" });
  await s.addMessage({ role: "user", content: "hi" });
  assert.deepEqual((await s.getHistory()).map((m) => m.content), ["hi"]);
  await assert.rejects(s.addMessage({ role: "wizard", content: "x" }), (e) => e.code === "INVALID_MESSAGE");
});

test("a class declared with a private constructor refuses `new` with an AgentSessionsError", () => {
  for (const [name, c] of declaredClasses()) {
    if (c.constructor !== "private") continue;
    assert.throws(() => new lib[name](), (e) => {
      assert.equal(e.name, "AgentSessionsError", `new ${name}(): ${e}`);
      assert.equal(e.code, "ILLEGAL_CONSTRUCTOR");
      return true;
    });
  }
});

// ---- real values against the declared types ----------------------------------------------------

/** TypeScript source for a captured value (plain JSON, plus Dates). */
function toTs(v) {
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (Array.isArray(v)) return `[${v.map(toTs).join(", ")}]`;
  if (v && typeof v === "object") {
    const fields = Object.entries(v).filter(([, x]) => x !== undefined);
    return `{ ${fields.map(([k, x]) => `${JSON.stringify(k)}: ${toTs(x)}`).join(", ")} }`;
  }
  return v === undefined ? "undefined" : JSON.stringify(v);
}

/** The getters of a handle (`session.id`, `run.status`, …) as a plain object. */
function getters(handle) {
  const out = {};
  for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(Object.getPrototypeOf(handle)))) {
    if (d.get && !internal(name)) out[name] = handle[name];
  }
  return out;
}

/** An error's own fields (what `catch (e)` sees), `stack` aside and `cause` reduced to a marker. */
function errorFields(e) {
  const out = { name: e.name, message: e.message };
  for (const k of Object.getOwnPropertyNames(e)) if (k !== "stack") out[k] = e[k];
  if ("cause" in out) out.cause = "(cause)";
  return out;
}

const rejection = (p) => p.then(() => assert.fail("expected a rejection"), (e) => e);

/** A `fetch` for the openai provider that answers from a script: a status, or a reply text. */
function scriptedFetch(steps) {
  return async () => {
    const step = steps.shift() ?? "ok";
    if (typeof step === "object") {
      // A stream: its text deltas, then the finish marker, or a cut (`cut`) or an endless stall (`stall`).
      const enc = new TextEncoder();
      const chunk = (text) => enc.encode(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: text } }] })}\n\n`);
      // One piece per pull, so the deltas are read before a cut (an error discards what is queued).
      const pieces = step.sse.map(chunk);
      const body = new ReadableStream({
        pull(c) {
          if (pieces.length) return c.enqueue(pieces.shift());
          if (step.cut) return c.error(new TypeError("terminated"));
          if (step.stall) return new Promise(() => {});
          c.enqueue(enc.encode(`data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\ndata: [DONE]\n\n`));
          c.close();
        },
      });
      return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
    }
    if (typeof step === "number") {
      return new Response(JSON.stringify({ error: { message: `scripted ${step}` } }), { status: step, headers: { "content-type": "application/json" } });
    }
    return new Response(JSON.stringify({
      id: "chatcmpl-1", object: "chat.completion", created: 1, model: "gpt-test",
      choices: [{ index: 0, message: { role: "assistant", content: step }, finish_reason: "stop" }],
      usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
    }), { status: 200, headers: { "content-type": "application/json" } });
  };
}

async function captureValues() {
  const values = []; // [label, declared type, value]
  const keep = (label, type, value) => values.push([label, type, value]);
  const events = [];
  const storeEvents = unionTags("StoreEventName");
  const agentEvents = unionTags("AgentEvent");
  const listen = (target) => {
    const names = target instanceof lib.SessionStore ? storeEvents : [...storeEvents, ...agentEvents];
    for (const name of names) target.on(name, (e) => events.push(e));
  };

  // An agent on the mock provider, summarising early: store events, runs, streams, summaries.
  const agent = new lib.Agent({
    name: "contract-bot",
    instructions: "Be brief.",
    llm: { provider: "mock" },
    storage: { type: "memory" },
    context: { strategy: "summary_buffer", budget: 400, threshold: 0.8, target: 0.5 },
  });
  await agent.start();
  listen(agent);
  keep("agent handle", "Fields<Agent>", getters(agent));
  const s = await agent.createSession("contract-1", { title: "Contract", metadata: { tier: "premium", n: [1, null] } });
  keep("session.update()", "SessionInfo", await s.update({ title: "Contract 2" }));
  keep("session.addMessage()", "Message", await s.addMessage({ role: "user", content: "My name is Sarah.", metadata: { k: 1 } }));
  keep("agent.generate()", "GenerateResult", await agent.generate("What is my name?", s.id));
  for await (const ev of agent.stream("Tell me more", { sessionId: s.id })) keep(`stream ${ev.type}`, "StreamEvent", ev);
  // Enough history that the next call summarises (the mock's usage calibrates estimates down).
  let preview;
  for (let i = 0; !(preview = await s.previewContext({ input: "And now?" })).summarize && i < 200; i++) {
    await s.addMessage({ role: "user", content: `Question ${i} about the weather in Lisbon today?` });
    await s.addMessage({ role: "assistant", content: `Answer ${i}: it is sunny and warm in Lisbon today.` });
  }
  keep("session.previewContext() before a summary", "ContextPreview", preview);
  await agent.generate("And now?", s.id);
  keep("session.previewContext() with a summary", "ContextPreview", await s.previewContext());
  keep("session.getSummaries()", "Summary[]", await s.getSummaries());
  keep("session.getHistory()", "Message[]", await s.getHistory({ limit: 3 }));
  keep("session.getMessagesForLLM()", "LlmMessage[]", await s.getMessagesForLLM({ maxTokens: 4000, strategy: "recent" }));
  keep("session.getRuns()", "RunRecord[]", await s.getRuns());
  keep("session.export()", "SessionBundle", await s.export());
  keep("session handle", "Fields<Session>", getters(s));
  keep("session.toJSON()", "SessionInfo", s.toJSON());
  const run = s.createRun();
  keep("run handle before start", "Fields<Run>", getters(run));
  await run.start();
  await run.complete({ tokensUsed: 5 });
  keep("run handle after complete", "Fields<Run>", getters(run));
  keep("run.toJSON()", "RunRecord", run.toJSON());
  const store = await agent.store();
  keep("store.querySessions()", "SessionPage", await store.querySessions({ limit: 10 }));
  keep("store.listSessions()", "string[]", await store.listSessions());
  keep("store.add()", "StoredMemoryEntry", await store.add({ message: { role: "user", content: "Hello", timestamp: new Date(5) }, state: { userId: "alice" } }, { sessionId: "contract-mem" }));
  keep("store.list()", "StoredMemoryEntry[]", await store.list({ sessionId: "contract-mem" }));
  await agent.resetConversation("contract-mem");
  await agent.deleteSession("contract-mem");
  keep("an INVALID_ID error", "AgentSessionsError", errorFields(await rejection(store.create("   "))));

  // A custom model: tool calls in a stream, a failed run, a failed summarisation.
  const custom = new lib.Agent({
    storage: { type: "memory" },
    context: { strategy: "summary_buffer", budget: 300 },
    llm: {
      provider: "custom",
      handler: (req) => {
        const last = req.messages.at(-1)?.content ?? "";
        if (/^Summarize/.test(last)) throw new Error("no summaries today");
        if (last === "fail") throw new Error("scripted failure");
        if (last === "tool") return { toolCalls: [{ id: "call_1", name: "lookup", arguments: "{\"q\":1}" }], finishReason: "tool_calls" };
        return { content: "ok", usage: { inputTokens: 2, outputTokens: 1, totalTokens: 3 } };
      },
    },
  });
  await custom.start();
  listen(custom);
  const c = await custom.createSession("contract-2");
  for await (const ev of custom.stream("tool", c.id)) keep(`stream ${ev.type} (tools)`, "StreamEvent", ev);
  keep("an LLM_HTTP error from a handler", "AgentSessionsError", errorFields(await rejection(custom.generate("fail", c.id))));
  for (let i = 0; i < 20; i++) {
    await c.addMessage({ role: "user", content: `Question ${i} about the weather in Lisbon today?` });
    await c.addMessage({ role: "assistant", content: `Answer ${i}: it is sunny and warm in Lisbon today.` });
  }
  await custom.generate("Still there?", c.id);

  // The openai codec over a scripted fetch: a retry, then an HTTP error with a status.
  const http = new lib.Agent({
    storage: { type: "memory" },
    retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 1 },
    llm: { provider: "openai", model: "gpt-test", apiKey: "k", fetch: scriptedFetch([503, "fine", 400]) },
  });
  await http.start();
  listen(http);
  const h = await http.createSession();
  keep("agent.generate() over openai", "GenerateResult", await http.generate("hi", h.id));
  keep("an LLM_HTTP error with a status", "AgentSessionsError", errorFields(await rejection(http.generate("again", h.id))));

  // retry.midStream: a stream cut after a delta restarts; then continue() after an abort.
  const restarting = new lib.Agent({
    storage: { type: "memory" },
    retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 1, midStream: true },
    llm: {
      provider: "openai", model: "gpt-test", apiKey: "k",
      // continue() is not streamed: its reply is a JSON body (an SSE body there is a bad response).
      fetch: scriptedFetch([{ sse: ["Part"], cut: true }, { sse: ["Whole"] }, { sse: ["Half"], stall: true }, " and the rest"]),
    },
  });
  await restarting.start();
  const rs = await restarting.createSession();
  for await (const ev of restarting.stream("hi", rs.id)) keep(`stream ${ev.type} (midStream)`, "StreamEvent", ev);
  const stop = new AbortController();
  await rejection((async () => {
    for await (const ev of restarting.stream("more", { sessionId: rs.id, signal: stop.signal })) if (ev.type === "delta") stop.abort();
  })());
  const continued = await restarting.continue(rs.id);
  assert.equal(continued.content, "Half and the rest");
  keep("agent.continue()", "GenerateResult", continued);

  // Retention: session:expired.
  const shortLived = await lib.SessionStore.open({ storage: { type: "memory" }, retention: { expireAfter: 1 } });
  listen(shortLived);
  await shortLived.create("contract-expiring");
  await new Promise((r) => setTimeout(r, 20));
  await shortLived.sweep();

  // Two of each kind are enough (message:added fires a hundred times above).
  const kept = {};
  for (const e of events) {
    kept[e.type] = (kept[e.type] ?? 0) + 1;
    if (kept[e.type] <= 2) keep(`event ${e.type}`, storeEvents.includes(e.type) ? "StoreEvent" : "AgentEvent", e);
  }
  return { values, events };
}

function compile(values) {
  const dir = new URL("test-output/contract/", root);
  mkdirSync(dir, { recursive: true });
  const types = [...new Set(values.map(([, type]) => type.replace(/^Fields<(\w+)>$/, "$1").replace(/\[\]$/, "")))]
    .filter((t) => t !== "string").sort();
  const lines = [
    "// Generated by tests/js/contract.test.mjs from values the built package returned.",
    `import type { ${types.join(", ")} } from "agent-sessions";`,
    "/** A handle's data members (getters), without its methods. */",
    "type Fields<T> = { -readonly [K in keyof T as T[K] extends (...args: never[]) => unknown ? never : K]: T[K] };",
  ];
  const labelOfLine = new Map();
  values.forEach(([label, type, value], i) => {
    labelOfLine.set(lines.length, `${label} (${type})`);
    lines.push(`export const v${i} = ${toTs(value)} satisfies ${type};`);
  });
  const file = fileURLToPath(new URL("values.ts", dir));
  writeFileSync(file, lines.join("\n") + "\n");
  const cfgPath = fileURLToPath(new URL("tests/types/tsconfig.json", root));
  const cfg = ts.parseJsonConfigFileContent(ts.readConfigFile(cfgPath, ts.sys.readFile).config, ts.sys, fileURLToPath(new URL("tests/types/", root)));
  const program = ts.createProgram([file], cfg.options);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (!d.file) return text;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const where = d.file.fileName === file ? labelOfLine.get(line) ?? `values.ts:${line + 1}` : `${d.file.fileName}:${line + 1}`;
    return `${where}: ${text}`;
  });
}

test("real values from the package satisfy their declared types exactly (tsc --strict, excess properties)", async () => {
  const { values, events } = await captureValues();
  const emitted = (names) => [...new Set(events.map((e) => e.type).filter((t) => names.includes(t)))].sort();
  for (const name of ["StoreEventName", "AgentEvent"]) {
    const declared = unionTags(name);
    assert.deepEqual(emitted(declared), declared, `every ${name} type is emitted by the scenario, so its payload is checked`);
  }
  const allDeclared = [...unionTags("StoreEventName"), ...unionTags("AgentEvent")];
  assert.deepEqual(events.map((e) => e.type).filter((t) => !allDeclared.includes(t)), [], "events of undeclared types");
  const streamed = [...new Set(values.filter(([l]) => l.startsWith("stream ")).map(([, , v]) => v.type))].sort();
  assert.deepEqual(streamed, unionTags("StreamEvent"), "every declared stream event is produced");
  const problems = compile(values);
  const shown = problems.slice(0, 20).join("\n") + (problems.length > 20 ? `\n… and ${problems.length - 20} more` : "");
  assert.ok(problems.length === 0, `values vs declarations (see test-output/contract/values.ts):\n${shown}`);
});
