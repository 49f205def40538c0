// Seed 001 (Dexto SDK guide "Sessions"), every snippet but the Express server (run as a server
// test: examples/dexto-chat.mjs), as written, in order. Changed: the import line, `baseUrl` in
// each `llm`, and the persistent storage (SQLite in place of PostgreSQL; Dexto's Redis cache is
// the in-memory one here). Lines marked `// test:` are the test's.
import { DextoAgent } from 'agent-sessions/dexto';

{
const agent = new DextoAgent({
  llm: { provider: 'openai', model: 'gpt-5-mini', apiKey: process.env.OPENAI_API_KEY, baseUrl: process.env.OPENAI_BASE_URL }
});
await agent.start();

// Create a session with auto-generated ID
const session = await agent.createSession();
console.log(session.id); // e.g., "sess_abc123"

// Create a session with custom ID
const userSession = await agent.createSession('user-123');
console.log(userSession.id); // "user-123"

const response = await agent.generate('What is React?', {
  sessionId: session.id
});

// The agent remembers this conversation
const followUp = await agent.generate('How does it differ from Vue?', {
  sessionId: session.id
});
console.log(`test: ${response.content} / ${followUp.content}`);

{
const sessions = await agent.listSessions();
console.log(`Active sessions: ${sessions.length}`);
}

{
const session = await agent.getSession('user-123');
if (session) {
  console.log(`Session ${session.id} exists`);
} else {
  console.log('Session not found');
}
}

await agent.generate('What is TypeScript?', 'user-123'); // test:
{
const history = await agent.getSessionHistory('user-123');
for (const message of history) {
  console.log(`${message.role}: ${message.content}`);
}
}

await agent.resetConversation('user-123');
// Session still exists but history is cleared
console.log(`test: ${(await agent.getSessionHistory('user-123')).length} messages`);

await agent.deleteSession('user-123');
// Session no longer exists
console.log(`test: ${await agent.getSession('user-123')}`);
}

class ChatBot {
  private agent: DextoAgent;
  private sessions = new Map<string, string>();

  async initialize() {
    this.agent = new DextoAgent({
      llm: { provider: 'openai', model: 'gpt-5-mini', apiKey: process.env.OPENAI_API_KEY, baseUrl: process.env.OPENAI_BASE_URL }
    });
    await this.agent.start();
  }

  async handleMessage(userId: string, message: string): Promise<string> {
    // Get existing session or create new one
    let sessionId = this.sessions.get(userId);
    if (!sessionId) {
      const session = await this.agent.createSession(`user-${userId}`);
      sessionId = session.id;
      this.sessions.set(userId, sessionId);
    }

    // Generate response
    const response = await this.agent.generate(message, { sessionId });
    return response.content;
  }

  async resetUser(userId: string): Promise<void> {
    const sessionId = this.sessions.get(userId);
    if (sessionId) {
      await this.agent.resetConversation(sessionId);
    }
  }
}

{
// Usage
const bot = new ChatBot();
await bot.initialize();

const response1 = await bot.handleMessage('alice', 'Hi!');
const response2 = await bot.handleMessage('bob', 'Hello!');
const response3 = await bot.handleMessage('alice', 'What did I just say?');
// alice's session remembers "Hi!", bob's is separate
console.log(`test: ${response1} / ${response2} / ${response3}`);
await bot.resetUser('alice');
console.log(`test: ${await bot.handleMessage('alice', 'What did I just say?')}`);
}

{
const agent = new DextoAgent({
  llm: { provider: 'openai', model: 'gpt-5-mini', apiKey: process.env.OPENAI_API_KEY, baseUrl: process.env.OPENAI_BASE_URL },
  sessions: {
    maxSessions: 1000,
    sessionTTL: 24 * 60 * 60 * 1000 // 24 hours in milliseconds
  }
});

async function resumeOrCreate(agent: DextoAgent, userId: string) {
  const sessionId = `user-${userId}`;

  // Check if session exists
  const sessions = await agent.listSessions();
  if (sessions.includes(sessionId)) {
    // Load existing history
    const history = await agent.getSessionHistory(sessionId);
    return { sessionId, history };
  } else {
    // Create new session
    const session = await agent.createSession(sessionId);
    return { sessionId: session.id, history: [] };
  }
}

for (let visit = 0; visit < 2; visit++) { // test: twice, the second time it resumes
// Usage
const { sessionId, history } = await resumeOrCreate(agent, '123');
if (history.length > 0) {
  console.log('Resuming conversation...');
  // Display previous messages to user
} else {
  console.log('Starting new conversation...');
}
await agent.generate('My name is Sam.', sessionId); // test:
}
}

// Persistent storage: run twice by the test (two processes); the second remembers the first.
{
const agent = new DextoAgent({
  llm: { provider: 'openai', model: 'gpt-5-mini', apiKey: process.env.OPENAI_API_KEY, baseUrl: process.env.OPENAI_BASE_URL },
  storage: {
    cache: { type: 'in-memory' },
    database: { type: 'sqlite', path: './data/dexto.db' }
  }
});
await agent.start(); // test: from here on

{
// Good - clear what this session represents
if (!(await agent.getSession('user-alice-support'))) await agent.createSession('user-alice-support');
}

async function chat(message: string, sessionId: string) {
  let session = await agent.getSession(sessionId);
  if (!session) {
    // Session expired or deleted - create new one
    session = await agent.createSession(sessionId);
    console.log('Session expired, created new one');
  }

  return await agent.generate(message, { sessionId: session.id });
}
const first = (await agent.getSessionHistory('user-alice-support')).length === 0; // test:
console.log(`test: ${(await chat(first ? 'My name is Alice.' : 'What is my name?', 'user-alice-support')).content}`);
console.log(`test: ${(await chat('Hello', 'team-dev-standup')).content}`);
}
