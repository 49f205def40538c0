// The message tree through the public API, on any storage: edit, regenerate (the Agent's own
// stream), branches, switch, rewind, truncate, upsert by id, fork, `getHistory({ branch })`,
// export version 2 and import, `addMessages` (one write, after a truncation, with metadata), and a new store over the same storage that finds the same active
// branch. Self-contained (no assert module), so that Node, a browser page and a Worker all run
// the same function: `await treeCases({ SessionStore, Agent }, () => storageConfig, prefix)`,
// which throws on the first difference and resolves to the number of checks made.

export async function treeCases({ SessionStore, Agent }, storage, prefix = "tree") {
  let checks = 0;
  const same = (actual, expected, what) => {
    checks++;
    const a = JSON.stringify(actual);
    const e = JSON.stringify(expected);
    if (a !== e) throw new Error(`${what}: got ${a}, expected ${e}`);
  };
  const rejects = async (promise, code, what) => {
    checks++;
    try {
      await promise;
    } catch (e) {
      if (e.code !== code) throw new Error(`${what}: rejected with ${e.code} (${e.message}), expected ${code}`);
      return;
    }
    throw new Error(`${what}: resolved, expected ${code}`);
  };
  const texts = (messages) => messages.map((m) => m.content);
  const llm = { provider: "mock", model: "mock-1" };
  const id = `${prefix}-chat`;

  const store = await SessionStore.open({ storage: storage() });
  const agent = new Agent({ store, llm });
  await agent.createSession(id, { title: "Names" });
  await agent.generate("My name is Sarah.", id);
  const s = await store.get(id);
  const [q1, a1] = await s.getHistory();
  same([q1.role, a1.role], ["user", "assistant"], "a plain turn");
  same("parentSeq" in q1 || "parentSeq" in a1, false, "messages without edits carry no parent");

  // Edit the question: a new alternative, active, and the agent answers on that branch.
  const q1b = await s.editMessage(q1.id, { content: "My name is Tom." });
  same(q1b.parentSeq, null, "an edited first message starts the conversation");
  same(texts(await s.getHistory()), ["My name is Tom."], "the edit is the active history");
  let streamed = "";
  let done = null;
  for await (const e of agent.regenerate(null, id)) {
    if (e.type === "delta") streamed += e.text;
    if (e.type === "done") done = e.result;
  }
  const afterRegen = await s.getHistory();
  same(afterRegen.length, 2, "regenerate adds one answer");
  same([afterRegen[1].content, afterRegen[1].id], [streamed, done.messageId], "the streamed answer is stored");
  same(afterRegen[1].parentSeq ?? afterRegen[0].seq, afterRegen[0].seq, "the answer continues the edited question");
  await agent.generate("What is my name?", id);
  same((await s.getHistory()).at(-1).content, "Your name is Tom.", "the model sees the active branch only");
  same(texts(await s.getBranches(q1.id)), ["My name is Sarah.", "My name is Tom."], "the two alternatives");

  // A second answer to the last question: the old one stays a branch.
  const before = await s.getHistory();
  for await (const _ of agent.regenerate(before.at(-1).id, { sessionId: id })) void _;
  const regenerated = await s.getHistory();
  same(regenerated.length, before.length, "a regenerated answer replaces the last on the active path");
  same((await s.getBranches(regenerated.at(-1).id)).length, 2, "and the old answer is its sibling");

  // Switch back to the first branch: the model sees Sarah again.
  same(texts(await s.switchBranch(q1.id)), ["My name is Sarah.", a1.content], "switchBranch resolves to the history");
  same(s.messageCount, 2, "messageCount counts the active path");
  await agent.generate("What is my name?", id);
  same((await s.getHistory()).at(-1).content, "Your name is Sarah.", "back on the first branch");
  same(texts(await s.getHistory({ branch: q1b.id })).slice(0, 1), ["My name is Tom."], "another branch, read without switching");
  same(texts(await s.getHistory({ limit: 1 })), ["Your name is Sarah."], "limit on a branched history");

  // Rewind keeps what followed reachable; truncate deletes it.
  const sarah = await s.getHistory();
  same(texts(await s.rewind(sarah[1].id)), texts(sarah.slice(0, 2)), "rewind");
  same(texts(await s.switchBranch(sarah[2].id)), texts(sarah), "what followed a rewind is still there");
  same(await s.truncateAfter(sarah[1].id), 2, "truncateAfter counts what it deleted");
  same(texts(await s.getHistory()), texts(sarah.slice(0, 2)), "truncated");
  await rejects(s.switchBranch(sarah[3].id), "MESSAGE_NOT_FOUND", "a deleted message is gone");
  await rejects(s.editMessage("msg_nope", { content: "x" }), "MESSAGE_NOT_FOUND", "an unknown message");
  await rejects(s.editMessage(q1.id, { content: "" }), "INVALID_MESSAGE", "an empty user message");
  await rejects(s.getBranches(42), "INVALID_ARGUMENT", "a message id that is not a string");
  same(texts(await s.getHistory()), texts(sarah.slice(0, 2)), "refused calls changed nothing");

  // Upsert by the caller's id: appended, then replaced in place.
  const up = await s.upsertMessage({ id: "ui-1", role: "assistant", content: "partial" });
  const up2 = await s.upsertMessage({ id: "ui-1", role: "assistant", content: "partial, then whole" });
  same([up2.seq, up2.id], [up.seq, "ui-1"], "the same position");
  same(texts(await s.getHistory()).at(-1), "partial, then whole", "replaced in place");
  await rejects(s.upsertMessage({ role: "user", content: "no id" }), "INVALID_MESSAGE", "upsert needs an id");

  // Fork: a new, linear session sharing nothing.
  const f = await s.fork();
  same(f.title, "Fork: Names", "the default fork title");
  same(texts(await f.getHistory()), texts(await s.getHistory()), "the fork holds the active history");
  const g = await s.fork({ atMessageId: q1.id, id: `${prefix}-fork`, title: "From the start" });
  same([g.id, g.title, texts(await g.getHistory())], [`${prefix}-fork`, "From the start", ["My name is Sarah."]], "a fork at a message");
  await g.addMessage({ role: "user", content: "only in the fork" });
  same((await s.getHistory()).some((m) => m.content === "only in the fork"), false, "the source is untouched");
  await rejects(s.fork({ id: `${prefix}-fork` }), "SESSION_EXISTS", "a taken fork id");

  // Export carries the tree; the import has the same branches.
  const bundle = await s.export();
  same(bundle.version, 2, "bundle version");
  const copy = await store.importSession(JSON.stringify(bundle), { id: `${prefix}-copy` });
  same(texts(await copy.getHistory()), texts(await s.getHistory()), "the import's active history");
  same(texts(await copy.getBranches(q1.id)), ["My name is Sarah.", "My name is Tom."], "the import's branches");

  // A new store over the same storage: the same active branch, the same alternatives.
  const again = await SessionStore.open({ storage: storage() });
  const t = await again.get(id);
  same(texts(await t.getHistory()), texts(await s.getHistory()), "after a restart");
  same(t.messageCount, s.messageCount, "the count after a restart");
  same(texts(await t.getBranches(q1.id)), ["My name is Sarah.", "My name is Tom."], "branches after a restart");
  const agent2 = new Agent({ store: again, llm });
  await agent2.generate("What is my name?", id);
  same((await t.getHistory()).at(-1).content, "Your name is Sarah.", "the restarted agent answers on the active branch");

  // addMessages: one write of several messages, after a truncation, with new metadata.
  const base = await t.getHistory();
  const batch = await t.addMessages([{ role: "user", content: "b1" }, { role: "assistant", content: "b2" }], { truncateAfter: base[0].id, metadata: { op: "one" } });
  same(texts(batch), ["b1", "b2"], "addMessages resolves to the messages stored");
  same(batch[0].parentSeq, base[0].seq, "the batch continues after the truncation point");
  const batched = [base[0].content, "b1", "b2"];
  same(texts(await t.getHistory()), batched, "truncated, then appended");
  same(t.metadata, { op: "one" }, "the metadata, in the same write");
  await rejects(t.addMessages([{ role: "user", content: "ok" }, { role: "user", content: "" }], { truncateAfter: null, metadata: { op: "two" } }), "INVALID_MESSAGE", "a bad message in a batch");
  await rejects(t.addMessages([{ role: "user", content: "ok" }], { truncateAfter: "msg_nope" }), "MESSAGE_NOT_FOUND", "an unknown truncation point");
  await rejects(t.addMessages({ role: "user", content: "ok" }), "INVALID_ARGUMENT", "messages that are not an array");
  await rejects(t.addMessages([], { truncateAfter: 7 }), "INVALID_ARGUMENT", "a truncation point that is not a string");
  const reread = await (await SessionStore.open({ storage: storage() })).get(id);
  same([texts(await reread.getHistory()), reread.metadata], [batched, { op: "one" }], "refused batches changed nothing, after a restart too");
  await t.addMessages([{ role: "user", content: "c1" }, { role: "assistant", content: "c2" }], { truncateAfter: null });
  same(texts(await t.getHistory()), ["c1", "c2"], "truncateAfter: null replaces the whole history");
  await rejects(t.getBranches(q1.id), "MESSAGE_NOT_FOUND", "the old tree is gone");

  // Reset makes it a plain session again.
  await t.reset();
  await t.addMessage({ role: "user", content: "fresh" });
  same(texts(await t.getHistory()), ["fresh"], "reset");
  same((await t.export()).session.headSeq, undefined, "a reset session has no tree");
  for (const x of [id, `${prefix}-fork`, `${prefix}-copy`, f.id]) await again.delete(x);
  return checks;
}
