// agent-sessions/dexto: Dexto's `DextoAgent` is the main entry's Agent (Dexto-shaped already:
// start, createSession, generate(text, sessionId | { sessionId }), getSessionHistory,
// listSessions, getSession, resetConversation, deleteSession, `storage: { database, cache }`).
export function dexto(lib) {
  return { DextoAgent: lib.Agent };
}
