// Node, CommonJS: `require` of the package's ESM Node entry (require(esm): Node >= 20.19 / 22.12).
const lib = require("agent-sessions");
const { runScenario } = require("./scenario.cjs");

runScenario(lib).then((result) => {
  result.resolved = require.resolve("agent-sessions");
  result.node = process.version;
  console.log(JSON.stringify(result));
}, (e) => {
  console.error(e);
  process.exitCode = 1;
});
