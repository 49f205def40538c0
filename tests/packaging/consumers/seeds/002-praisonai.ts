// Seed 002 (PraisonAI "Session Management"), every snippet as written, in order, un-awaited
// calls included. Changed: the import lines, and the provider (PraisonAI's default, OpenAI from
// OPENAI_API_KEY, pointed at the local mock server by OPENAI_BASE_URL in the environment). The
// persistent snippet uses SQLite in place of Neon (createSQLiteSessionStorage), or PostgreSQL
// when DATABASE_URL is set. Lines marked `// test:` are the test's.
import { Agent, Session, SessionManager, createPostgresSessionStorage, createSQLiteSessionStorage } from 'agent-sessions/praisonai';

{
const session = new Session({ id: 'user-123' });

const agent = new Agent({
  name: 'Support Agent',
  instructions: 'You are a helpful support agent. Use conversation history for context.',
  session  // Agent uses this session for memory
});

// First interaction
await agent.chat('My name is John and I need help with billing');
// Agent remembers: user's name is John, topic is billing

// Later interaction (same session)
console.log(await agent.chat('What was my issue again?')); // test: console.log
console.log(`test: ${await agent.chat('What is my name?')} (${session.messages.length} messages)`);
}

{
const sessionManager = new SessionManager();

const agent = new Agent({
  name: 'Assistant',
  instructions: 'You are a helpful assistant.'
});

async function chat(userId: string, message: string) {
  // Get or create session for this user
  const session = sessionManager.getOrCreate(userId);
  
  // Add user message to session
  session.addMessage({ role: 'user', content: message });
  
  // Get full conversation history for context
  const history = session.getMessagesForLLM();
  
  // Agent responds with full context
  const response = await agent.chat(history);
  
  // Save agent response to session
  session.addMessage({ role: 'assistant', content: response });
  
  return response;
}

// User conversation
console.log(await chat('user-123', 'Hi, I want to learn TypeScript')); // test: console.log
console.log(await chat('user-123', 'What should I start with?'));  // Agent remembers the topic
console.log(await chat('user-123', 'Can you give me an example?')); // Agent knows context
const s = sessionManager.getOrCreate('user-123'); // test:
console.log(`test: ${s.messages.length} messages, last pending: ${'pending' in s.messages[5]}`);
await s.ready;
console.log(`test: stored ${(await s.getHistory()).map((m) => m.role[0]).join('')}, last pending: ${'pending' in s.messages[5]}`);
}

{
const sessionStorage = process.env.DATABASE_URL // test: PostgreSQL when DATABASE_URL is set
  ? createPostgresSessionStorage({ connectionString: process.env.DATABASE_URL })
  : createSQLiteSessionStorage('./data/praisonai.db');

const agent = new Agent({
  name: 'Persistent Agent',
  instructions: 'You remember all previous conversations.'
});

async function persistentChat(sessionId: string, message: string) {
  // Load session from database
  let sessionData = await sessionStorage.getSession(sessionId);
  const session = new Session({ id: sessionId });
  
  if (sessionData) {
    // Restore previous messages
    const messages = await sessionStorage.getMessages(sessionId);
    messages.forEach(m => session.addMessage(m));
  }
  
  // Add new message
  session.addMessage({ role: 'user', content: message });
  
  // Get Agent response
  const response = await agent.chat(session.getMessagesForLLM());
  session.addMessage({ role: 'assistant', content: response });
  
  // Persist to database
  await sessionStorage.createSession(sessionId, { updatedAt: new Date() });
  await sessionStorage.addMessage(sessionId, { role: 'user', content: message });
  await sessionStorage.addMessage(sessionId, { role: 'assistant', content: response });
  
  return response;
}
// test: the test runs this file twice (two processes): the second run remembers the first.
const known = await sessionStorage.getSession('persistent-1');
console.log(`test: ${await persistentChat('persistent-1', known ? 'What is my name?' : 'My name is Petra.')}`);
console.log(`test: stored ${(await sessionStorage.getMessages('persistent-1')).length} messages`);
}

{
const sharedSession = new Session({ id: 'support-case-456' });

// Agent 1: Gathers information
const intakeAgent = new Agent({
  name: 'Intake',
  instructions: 'Gather customer information and understand their issue.',
  session: sharedSession
});

// Agent 2: Provides solutions (sees intake conversation)
const solutionAgent = new Agent({
  name: 'Solution Expert',
  instructions: 'Review the conversation history and provide solutions.',
  session: sharedSession
});

// Agent 3: Follows up (sees entire history)
const followupAgent = new Agent({
  name: 'Follow-up',
  instructions: 'Check if the customer is satisfied based on the conversation.',
  session: sharedSession
});

// Intake gathers info
await intakeAgent.chat('I have a problem with my subscription');
await intakeAgent.chat('It keeps charging me twice');

// Solution agent sees the full context
const solution = await solutionAgent.chat('Please provide a solution for this customer');

// Follow-up agent sees everything
await followupAgent.chat('Check if the customer is satisfied');
console.log(`test: ${solution}`);
console.log(`test: ${sharedSession.messages.map((m) => m.role === 'assistant' ? m.name : m.role).join(', ')}`);
}

{
const session = new Session();

const agent = new Agent({
  name: 'Tracked Agent',
  instructions: 'You help with various tasks.'
});

async function trackedChat(message: string) {
  // Create a run for this interaction
  const run = session.createRun();
  run.start();
  
  try {
    session.addMessage({ role: 'user', content: message });
    
    const response = await agent.chat(session.getMessagesForLLM());
    
    session.addMessage({ role: 'assistant', content: response });
    
    run.complete({ tokensUsed: 150 });
    
    console.log(`Run ${run.id}: ${run.duration}ms`);
    return response;
  } catch (error) {
    run.fail(error);
    throw error;
  }
}

// Each chat creates a trackable run
await trackedChat('Hello');
await trackedChat('Help me with code');

// View all runs
console.log(`Total runs: ${session.runs.length}`);
console.log(`Total messages: ${session.messages.length}`);
await session.ready; // test:
console.log(`test: runs ${session.runs.map((r) => r.status).join(', ')}; stored ${(await session.getHistory()).length} messages`);
}

{
const session = new Session({ 
  id: 'long-conversation',
  maxMessages: 50  // Keep last 50 messages
});

const agent = new Agent({
  name: 'Context-Aware Agent',
  instructions: 'You maintain context across long conversations.'
});

async function chatWithContextManagement(message: string) {
  session.addMessage({ role: 'user', content: message });
  
  // Get messages optimized for context window
  const messages = session.getMessagesForLLM({
    maxTokens: 4000,  // Fit within context window
    strategy: 'recent'  // Prioritize recent messages
  });
  
  const response = await agent.chat(messages);
  session.addMessage({ role: 'assistant', content: response });
  
  return response;
}
let last = ''; // test: 30 turns (60 messages): the session keeps the last 50, the model sees at most 50
for (let i = 1; i <= 30; i++) last = await chatWithContextManagement(`Message number ${i}`);
console.log(`test: ${last}; ${session.messages.length} messages kept`);
}

{
const session = new Session({
  id: 'customer-session',
  metadata: {
    userId: 'user-789',
    customerTier: 'premium',
    language: 'en',
    timezone: 'America/New_York'
  }
});

const agent = new Agent({
  name: 'Personalized Agent',
  instructions: `You are a support agent. 
Check session metadata for customer context.
Premium customers get priority support.`
});

// Agent can access session metadata for personalization
const response = await agent.chat('I need help', { session });
console.log(`test: ${response}`);
}

{ // test: an un-awaited write that fails is the session's `error` event and the next awaited call's error
const session = new Session({ id: 'bad-write' });
session.on('error', (e) => console.log(`test: error event: ${e.operation} ${e.error.code}`));
session.addMessage({ role: 'narrator' as 'user', content: 'Once upon a time' });
session.addMessage({ role: 'user', content: 'skipped: after a failed write' });
try {
  await session.getMessagesForLLM();
} catch (e) {
  console.log(`test: next awaited call: ${(e as { code: string }).code}`);
}
session.addMessage({ role: 'user', content: 'Hello again' });
console.log(`test: then ${JSON.stringify(await session.getMessagesForLLM())}`);
}
