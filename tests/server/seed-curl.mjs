// Runs the seed's curl sequence, verbatim, against a server with no auth (as the seed's
// examples send no token): create, send, continue; the agent remembers.
import assert from "node:assert/strict";
import { SEED_CURLS, seedCopyMatches } from "./api.cases.mjs";
import { sh } from "./support.mjs";

export async function runSeedCurls(baseUrl) {
  const copy = await seedCopyMatches();
  if (copy !== null) assert.ok(copy, "the copied curl examples are the seed's");
  const host = (cmd) => cmd.replaceAll("http://localhost:8080", baseUrl);
  const created = JSON.parse(await sh(`${host(SEED_CURLS[0])} -sS --fail-with-body`));
  assert.deepEqual(Object.keys(created).includes("session_id"), true);
  assert.match(created.session_id, /^sess_[0-9a-f]{32}$/);
  const id = created.session_id;
  const run = async (cmd) => JSON.parse(await sh(`${host(cmd).replaceAll("sess_abc123", id)} -sS --fail-with-body`));
  const first = await run(SEED_CURLS[1]);
  assert.equal(first.session_id, id);
  assert.equal(first.message.role, "assistant");
  const second = await run(SEED_CURLS[2]);
  // "Agent remembers previous context!": the mock sees the earlier message of the session.
  assert.match(second.message.content, /message 2 of our conversation, and I can see your 1 earlier message/);
  return id;
}
