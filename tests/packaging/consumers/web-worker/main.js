// The page only starts a module worker (bundled by Vite) and waits for its report.
const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
worker.onmessage = (e) => (window.packagingResult = e.data);
worker.onerror = (e) => (window.packagingResult = { error: `worker error: ${e.message}` });
