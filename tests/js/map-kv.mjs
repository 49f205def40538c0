// A host key-value store over a Map (any object with async get/put/delete/list({ prefix }) is
// one), so a test can read and write exactly the records the library keeps.
export function mapKv() {
  const map = new Map();
  return {
    map,
    async get(k) { return map.get(k) ?? null; },
    async put(k, v) { map.set(k, v); },
    async delete(k) { map.delete(k); },
    async list({ prefix }) { return [...map.keys()].filter((k) => k.startsWith(prefix)).sort(); },
  };
}
