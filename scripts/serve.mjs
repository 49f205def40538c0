// A small static server for the demo: www/ at /, the built package at /pkg/.
import { createServer } from "node:http";
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const types = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".json": "application/json", ".wasm": "application/wasm", ".png": "image/png",
  ".svg": "image/svg+xml", ".ts": "text/plain; charset=utf-8",
};

function resolve(urlPath) {
  const clean = path.posix.normalize(decodeURIComponent(urlPath));
  if (clean.includes("\0")) return null;
  const base = clean.startsWith("/pkg/") ? root : path.join(root, "www");
  const file = path.join(base, clean.endsWith("/") ? clean + "index.html" : clean);
  return file.startsWith(root) ? file : null;
}

export function startServer({ port = 8080, host = "127.0.0.1" } = {}) {
  const server = createServer(async (req, res) => {
    const file = resolve(new URL(req.url, "http://x").pathname);
    try {
      if (!file || !(await stat(file)).isFile()) throw new Error("not a file");
      const body = await readFile(file);
      res.writeHead(200, {
        "content-type": types[path.extname(file)] ?? "application/octet-stream",
        "cache-control": "no-store",
      });
      res.end(body);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
    }
  });
  return new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, host, () => ok(server));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const wanted = Number(process.env.PORT ?? 8080);
  let server;
  // A busy port (another demo, another tool) moves the demo to the next free one.
  for (let port = wanted; !server; port++) {
    try {
      server = await startServer({ port });
    } catch (e) {
      if (e.code !== "EADDRINUSE" || port >= wanted + 20) throw e;
    }
  }
  const { port: actual } = server.address();
  if (!existsSync(new URL("../pkg/browser.js", import.meta.url))) {
    console.warn("pkg/ is not built: run ./scripts/build (./scripts/demo does it for you)");
  }
  console.log(`agent-sessions demo: http://127.0.0.1:${actual}/`);
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, () => {
      server.close(() => process.exit(0));
      server.closeAllConnections();
    });
  }
}
