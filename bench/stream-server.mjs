// The local OpenAI-compatible SSE server both sides of the stream benchmark read from: every
// POST to /v1/chat/completions (or /chat/completions) answers with the same streamed reply of
// CHUNKS chat.completion.chunk events (one short word each), a finish chunk, a usage chunk and
// `data: [DONE]`, exactly as api.openai.com frames them. The body is built once and written in
// 16 KB writes, so what is measured is the consumer, not this server.
//
//   node bench/stream-server.mjs [chunks]   prints `{"port":…,"chunks":…,"chars":…}` on one line
//   import { streamBody, startStreamServer } from "./stream-server.mjs"
//
// The benchmarks run it in a child process, so its CPU time is not counted as the consumer's.
import http from "node:http";
import { fileURLToPath } from "node:url";

const WORDS = ["Hello", " there", ",", " how", " can", " I", " help", " you", " today", "?", " é", " 🙂"];

/** The SSE body of a reply of `chunks` deltas, and the text it carries. */
export function streamBody(chunks) {
  const head = `{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1764633600,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_bench","choices":[`;
  const parts = [];
  let text = "";
  parts.push(`data: ${head}{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]}\n\n`);
  for (let i = 0; i < chunks; i++) {
    const w = WORDS[i % WORDS.length];
    text += w;
    parts.push(`data: ${head}{"index":0,"delta":{"content":${JSON.stringify(w)}},"logprobs":null,"finish_reason":null}]}\n\n`);
  }
  parts.push(`data: ${head}{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}\n\n`);
  parts.push(`data: ${head}],"usage":{"prompt_tokens":12,"completion_tokens":${chunks},"total_tokens":${chunks + 12}}}\n\n`);
  parts.push("data: [DONE]\n\n");
  return { body: Buffer.from(parts.join("")), text };
}

/** Serves the reply on 127.0.0.1 (an ephemeral port unless given); resolves to `{ port, close }`. */
export function startStreamServer({ chunks = 20_000, port = 0 } = {}) {
  const { body, text } = streamBody(chunks);
  const server = http.createServer((req, res) => {
    // The request body is read (and dropped) before answering, as a real server does.
    req.resume();
    req.on("end", () => {
      if (req.method !== "POST" || !/\/chat\/completions$/.test(req.url ?? "")) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "not found", type: "invalid_request_error" } }));
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", "x-request-id": "req_bench" });
      let offset = 0;
      const write = () => {
        while (offset < body.length) {
          const piece = body.subarray(offset, offset + 16 * 1024);
          offset += piece.length;
          if (!res.write(piece)) return void res.once("drain", write);
        }
        res.end();
      };
      write();
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      resolve({
        port: server.address().port,
        chunks,
        chars: text.length,
        text,
        close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
      });
    });
  });
}

/** Starts the server in a child process (its CPU is not the consumer's); resolves to
 * `{ port, chunks, chars, close }`. */
export async function spawnStreamServer(chunks = 20_000) {
  const { spawn } = await import("node:child_process");
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), String(chunks)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d) => {
      out += d;
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once("exit", (code) => reject(new Error(`stream server exited (${code}) before listening`)));
    child.once("error", reject);
  });
  const info = JSON.parse(line);
  return {
    ...info,
    close: () => new Promise((r) => {
      if (child.exitCode !== null) return r();
      child.once("exit", () => r());
      child.kill("SIGTERM");
    }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const s = await startStreamServer({ chunks: Number(process.argv[2] ?? 20_000) });
  process.stdout.write(JSON.stringify({ port: s.port, chunks: s.chunks, chars: s.chars }) + "\n");
  process.on("SIGTERM", () => s.close().then(() => process.exit(0)));
}
