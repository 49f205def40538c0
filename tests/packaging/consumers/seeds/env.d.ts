// Node's `process.env`, which the snippets read (the consumer has no @types/node).
declare const process: { env: Record<string, string | undefined> };
