// Seed 000 (Dexto tutorial "Working with Sessions"), every snippet as written, in order. Changed:
// the import line, and `baseUrl` in each `llm` (the provider settings: the local mock server).
// Lines marked `// test:` give the snippets the variables they take from their surroundings.
import { DextoAgent } from 'agent-sessions/dexto';

{
const agent = new DextoAgent({
  llm: { provider: 'openai', model: 'gpt-4o-mini', apiKey: process.env.OPENAI_API_KEY, baseUrl: process.env.OPENAI_BASE_URL }
});
await agent.start();

const session = await agent.createSession();

await agent.generate('My name is Sarah.', session.id);
const response = await agent.generate('What is my name?', session.id);

console.log(response.content);
// "Your name is Sarah."

const newSession = await agent.createSession();
{
const response = await agent.generate('What is my name?', newSession.id);

console.log(response.content);
// "I don't have that information."
}
}

{
const agent = new DextoAgent({
  llm: { provider: 'openai', model: 'gpt-4o-mini', apiKey: process.env.OPENAI_API_KEY, baseUrl: process.env.OPENAI_BASE_URL }
});
await agent.start();

// Auto-generated ID
const session1 = await agent.createSession();
console.log(session1.id); // "sess_abc123def456"

// Custom ID (useful for mapping to users)
const session2 = await agent.createSession('user-sarah-2024');
console.log(session2.id); // "user-sarah-2024"

{
const session = await agent.createSession('demo');

await agent.generate('I want to build a REST API in Node.js.', session.id);

await agent.generate('What framework should I use?', session.id);

const response = await agent.generate('Show me a simple example.', session.id);

console.log(response.content);
}

{
const history = await agent.getSessionHistory('demo');

for (const message of history) {
  console.log(`[${message.role}]: ${message.content.substring(0, 60)}...`);
}
}

{
const sessions = await agent.listSessions();
console.log(`Active sessions: ${sessions.length}`);
}

{
const session = await agent.getSession('user-sarah-2024');
if (session) {
  console.log('Session found');
} else {
  console.log('Session not found - creating new one');
  await agent.createSession('user-sarah-2024');
}
}

await agent.resetConversation('demo');
// Session 'demo' still exists, but all messages are gone
console.log(`test: demo after reset: ${(await agent.getSessionHistory('demo')).length} messages, exists: ${!!(await agent.getSession('demo'))}`);

await agent.deleteSession('demo');
// Session no longer exists
console.log(`test: demo after delete: ${await agent.getSession('demo')}`);

{
const userId = 'sarah', userMessage = 'My name is Sarah.'; // test:
// User logs in
const sessionId = `user-${userId}`;
const session = await agent.getSession(sessionId);

if (!session) {
  await agent.createSession(sessionId);
}

// Every message from this user uses the same session
await agent.generate(userMessage, sessionId);
console.log(`test: ${(await agent.generate('What is my name?', sessionId)).content}`);
}

{
const userId = 'sarah', chatId = 'c2', message = 'What did I just say?'; // test:
// User creates a new chat
const sessionId = `user-${userId}-chat-${chatId}`;
await agent.createSession(sessionId);
const currentChatId = sessionId; // test:

// User switches between chats
await agent.generate(message, currentChatId);
console.log(`test: ${(await agent.getSessionHistory(currentChatId)).map((m) => m.content).join(' | ')}`);
}

{
const ticketId = 't-1', message = 'My printer is on fire'; // test:
// User starts a support ticket
const sessionId = `ticket-${ticketId}`;
await agent.createSession(sessionId);

// All messages related to this ticket use this session
await agent.generate(message, sessionId);

// Ticket resolved? Delete the session
await agent.deleteSession(sessionId);
console.log(`test: sessions left: ${(await agent.listSessions()).sort().join(', ')}`);
}
}
