// Workers must be bundled as ES modules: Vite's default worker format, "iife", has no top-level
// await, which the package's browser entry uses ("INVALID_TLA_FORMAT" at build time).
export default {
  logLevel: "warn",
  build: { target: "es2022", outDir: "dist", emptyOutDir: true },
  worker: { format: "es" },
};
