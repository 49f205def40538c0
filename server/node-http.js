// The handler over node:http: Node requests become fetch Requests, Responses are streamed back
// (SSE included, written as they come). A client that disconnects cancels its response body,
// which only stops that listener: the run goes on.
import http from "node:http";
import { once } from "node:events";
import { Readable } from "node:stream";

function toRequest(req, base) {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) v.forEach((x) => headers.append(k, x));
    else if (v !== undefined) headers.set(k, v);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  // The URL the client used (its Host header), so absolute URLs the handler builds from it (the A2A
  // card's) reach this server; the bound address when that header is missing or unusable.
  let url;
  try {
    url = new URL(req.url, req.headers.host ? `http://${req.headers.host}` : base);
  } catch {
    url = new URL(req.url, base);
  }
  return new Request(url, {
    method: req.method,
    headers,
    body: hasBody ? Readable.toWeb(req) : undefined,
    duplex: hasBody ? "half" : undefined,
  });
}

async function send(res, response) {
  const headers = {};
  response.headers.forEach((v, k) => (headers[k] = v));
  res.writeHead(response.status, headers);
  if (!response.body) return res.end();
  res.flushHeaders();
  const reader = response.body.getReader();
  let gone = false;
  res.on("close", () => {
    gone = true;
    reader.cancel().catch(() => {});
  });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done || gone) break;
      if (!res.write(value)) await Promise.race([once(res, "drain"), once(res, "close")]);
    }
  } finally {
    if (!gone) res.end();
  }
}

/**
 * serve(handler, { port = 8080, host = "127.0.0.1" }) → Promise<{ url, server, close() }>.
 * `close()` stops accepting connections, lets active runs finish (cancelling them after
 * `graceMs`, so their partial replies are stored `interrupted`), then closes the sockets.
 */
export async function serve(handler, { port = 8080, host = "127.0.0.1", log = () => {} } = {}) {
  let base = null; // once listening: the bound address
  const inFlight = new Set();
  const server = http.createServer(async (req, res) => {
    const t0 = performance.now();
    let finished;
    const p = new Promise((r) => (finished = r));
    inFlight.add(p);
    res.on("close", () => {
      inFlight.delete(p);
      finished();
    });
    try {
      await send(res, await handler(toRequest(req, base)));
    } catch (e) {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: "INTERNAL", message: "internal error", details: null } }));
      } else res.destroy();
      log(`error ${req.method} ${req.url?.split("?")[0]}: ${e?.message ?? e}`);
    }
    // Method, path and status only: never headers (tokens) or bodies.
    log(`${req.method} ${req.url?.split("?")[0]} ${res.statusCode} ${(performance.now() - t0).toFixed(1)}ms`);
  });
  server.on("connection", (s) => s.setNoDelay(true));
  // Longer than the idle timeouts of common proxies and clients, so they close first.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.listen(port, host);
  await once(server, "listening");
  const addr = server.address();
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${addr.port}`;
  base = url;
  let closed = null;
  const close = ({ graceMs = 10_000 } = {}) =>
    (closed ??= (async () => {
      const stopped = new Promise((r) => server.close(r));
      server.closeIdleConnections?.();
      await handler.close?.({ graceMs });
      // Runs have ended, so their streams are ending: let the last frames reach the clients.
      const flushed = Promise.all([...inFlight]);
      await Promise.race([flushed, new Promise((r) => setTimeout(r, 2000).unref())]);
      server.closeAllConnections?.();
      await stopped;
    })());
  return { url, port: addr.port, server, close };
}
