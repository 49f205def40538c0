// Seed 003 (AG-Kit "Session management"), every snippet as written, in order. Changed: the import
// lines, and the agent the second snippet calls (`agent.run`), which the seed leaves to the
// reader: AG-Kit-shaped, on the local mock server. Lines marked `// test:` are the test's.
import { InMemoryMemory } from 'agent-sessions/ag-kit';
import { Agent } from 'agent-sessions/ag-kit'; // test: the seed's `agent`

{
// Create memory instance
const memory = new InMemoryMemory ();
// Create session for user A
const sessionA = 'user-alice-session-1' ;
await memory . add (
{
message: {
id: 'msg-1' ,
role: 'user' ,
content: 'Hello, I \' m Alice' ,
timestamp: new Date ()
},
state: { userId: 'alice' }
},
{ sessionId: sessionA }
);
// Create session for user B
const sessionB = 'user-bob-session-1' ;
await memory . add (
{
message: {
id: 'msg-1' ,
role: 'user' ,
content: 'Hi, I \' m Bob' ,
timestamp: new Date ()
},
state: { userId: 'bob' }
},
{ sessionId: sessionB }
);
// Retrieve session-specific history
const aliceHistory = await memory . list ({ sessionId: sessionA });
const bobHistory = await memory . list ({ sessionId: sessionB });
console . log ( 'Alice:' , aliceHistory [ 0 ]. message . content ); // "Hello, I'm Alice"
console . log ( 'Bob:' , bobHistory [ 0 ]. message . content ); // "Hi, I'm Bob"
console.log(`test: ${aliceHistory.length} ${bobHistory.length} ${JSON.stringify(aliceHistory[0].state)} ${aliceHistory[0].message.timestamp instanceof Date}`);

const userId = '42', conversationId = '7', orgId = 'o', teamId = 't'; // test:
{
// User-based: one session per user
const sessionId = `user- ${ userId } ` ;
console.log(`test: ${JSON.stringify(sessionId)} ${(await memory.list({ sessionId })).length}`);
}
{
// Conversation-based: multiple sessions per user
const sessionId = `user- ${ userId } -conv- ${ conversationId } ` ;
await memory.add({ message: { role: 'user', content: 'conv' } }, { sessionId }); // test:
}
{
// Time-based: sessions with timestamps
const sessionId = `user- ${ userId } - ${ Date . now () } ` ;
await memory.add({ message: { role: 'user', content: 'time' } }, { sessionId }); // test:
}
{
// Hierarchical: complex organization structure
const sessionId = `org- ${ orgId } /team- ${ teamId } /user- ${ userId } ` ;
await memory.add({ message: { role: 'user', content: 'org' } }, { sessionId }); // test:
console.log(`test: ${(await memory.list({ sessionId })).map((e) => e.message.content)} ${(await memory.list({ sessionId: `org- ${ orgId } /team- ${ teamId } ` })).length}`);
}
}

{
const agent = new Agent({ llm: { provider: 'openai', model: 'gpt-4o-mini', apiKey: process.env.OPENAI_API_KEY, baseUrl: process.env.OPENAI_BASE_URL } }); // test:
const memory = new InMemoryMemory ();
// Agent handles request with session isolation
async function handleUserMessage ( userId : string , message : string ) {
const sessionId = `user- ${ userId } ` ;
// Add user message to session
await memory . add (
{
message: {
id: crypto . randomUUID (),
role: 'user' ,
content: message ,
timestamp: new Date ()
}
},
{ sessionId }
);
// Get session history for agent
const history = await memory . list ({ sessionId });
// Process with agent...
const response = await agent . run ({
messages: history . map ( m => m . message ),
sessionId
});
return response ;
}
console.log(`test: ${(await handleUserMessage('ada', 'My name is Ada.')).content}`);
console.log(`test: ${(await handleUserMessage('ada', 'What is my name?')).content}`);
console.log(`test: ${(await handleUserMessage('bob', 'What is my name?')).content}`);
}
