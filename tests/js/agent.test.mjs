// Acceptance tests for Agent.generate / stream / chat in Node: every case of ./agent.cases.mjs runs
// against the built package (its Node entry) and a real HTTP mock LLM server started in-process.
// Run: node --test tests/js/agent.test.mjs
// The same cases run in headless Chromium: tests/e2e/agent-chromium.test.mjs.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as lib from "agent-sessions";
import { startMockLlmServer } from "../support/mock-llm-server.mjs";
import { makeControl, runCase } from "./agent-harness.mjs";
import { cases } from "./agent.cases.mjs";

// Cases take a few seconds at most; the deadline only keeps a hanging case from holding the run,
// so it sits far above any normal duration (a case never passes or fails by the clock).
const CASE_TIMEOUT_MS = Number(process.env.AGENT_CASE_TIMEOUT_MS ?? 30_000);
// Cases use distinct model keys and sessions, so a few run at once to bound the worst-case run time.
const CONCURRENCY = Number(process.env.AGENT_CASE_CONCURRENCY ?? 5);

describe("Agent acceptance (Node)", { concurrency: CONCURRENCY }, () => {
  let llm;
  before(async () => {
    llm = await startMockLlmServer();
  });
  after(async () => {
    await llm?.close();
  });

  it("case names are unique", () => {
    assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
  });

  for (const c of cases) {
    it(c.name, { timeout: CASE_TIMEOUT_MS + 2000 }, async () => {
      const t = { lib, mockUrl: llm.url, assert, control: makeControl(llm.url) };
      await runCase(c, t, { timeoutMs: CASE_TIMEOUT_MS });
    });
  }
});
