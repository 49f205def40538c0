// Node, ESM: `import` resolves the package's `node` condition.
import * as lib from "agent-sessions";
import { runScenario } from "./scenario.js";

const result = await runScenario(lib);
result.resolved = import.meta.resolve("agent-sessions");
result.node = process.version;
console.log(JSON.stringify(result));
