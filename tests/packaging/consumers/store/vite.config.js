// No import of "vite" here: the tool is run from tests/packaging/node_modules, the app only has
// the packed package installed. Top-level await in the package's browser entry needs es2022.
export default {
  logLevel: "warn",
  build: { target: "es2022", outDir: "dist", emptyOutDir: true },
};
