// The Miniflare options every workerd suite shares: a module Worker under `modulesRoot` whose
// `.js` files are ES modules and whose `.wasm` imports are compiled modules (as wrangler does).
export function moduleWorkerOptions(modulesRoot) {
  return {
    modules: true,
    modulesRoot,
    modulesRules: [
      { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2025-01-01",
  };
}
