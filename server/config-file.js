// Reads a server config file: YAML (`.yaml`/`.yml`, through the `yaml` package, loaded only
// here) or JSON. `${ENV}` substitution and every check happen in the wasm module.
import { readFileSync } from "node:fs";

export async function readConfigFile(path) {
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw Object.assign(new Error(`cannot read config ${path}: ${e.code ?? e.message}`), { code: "INVALID_CONFIG" });
  }
  if (/\.ya?ml$/i.test(path)) {
    const YAML = await import("yaml");
    const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length) {
      throw Object.assign(new Error(`${path}: ${doc.errors[0].message}`), { code: "INVALID_CONFIG" });
    }
    return doc.toJS({ maxAliasCount: 100 });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw Object.assign(new Error(`${path}: ${e.message}`), { code: "INVALID_CONFIG" });
  }
}
