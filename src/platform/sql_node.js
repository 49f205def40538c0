// Node only: opens the databases of `{ type: "sqlite", path }` and `{ type: "postgres", url }`.
// Imported by the package's Node entry alone, so browser and workerd bundles never see
// `node:sqlite`, `better-sqlite3` or `pg` (both packages are optional peer dependencies: only
// the users who choose them install them).
const missing = (e) =>
  e && ["ERR_MODULE_NOT_FOUND", "MODULE_NOT_FOUND", "ERR_UNKNOWN_BUILTIN_MODULE"].includes(e.code);

function configError(message) {
  const e = new Error(message);
  e.code = "INVALID_CONFIG";
  return e;
}

async function load(specifier, failures) {
  try {
    return await import(specifier);
  } catch (e) {
    // Not installed, or installed but unloadable here (built for another Node's ABI).
    if (failures && !missing(e)) failures.push(`${specifier}: ${e.message}`);
    if (failures || missing(e)) return null;
    throw e;
  }
}

export const sqlOpeners = {
  // better-sqlite3 when it is installed and loads (the user chose it), else node:sqlite
  // (Node >= 22.5, nothing to install).
  async sqlite(path) {
    const failures = [];
    const better = await load("better-sqlite3", failures);
    let db;
    try {
      if (better) db = new better.default(path, { timeout: 5000 });
    } catch (e) {
      // Its native addon loads at first use: built for another Node, it cannot.
      if (e.code !== "ERR_DLOPEN_FAILED" && !/bindings file|NODE_MODULE_VERSION/.test(e.message)) throw e;
      failures.push(`better-sqlite3: ${e.message.split("\n")[0]}`);
    }
    if (!db) {
      const builtin = await load("node:sqlite", failures);
      if (!builtin) {
        throw configError(
          'storage type "sqlite" with a path needs node:sqlite (Node >= 22.5) or the ' +
            "better-sqlite3 package (npm install better-sqlite3)" +
            (failures.length ? ` (${failures.join("; ")})` : ""),
        );
      }
      db = new builtin.DatabaseSync(path);
    }
    // Writers in other processes wait for the lock up to 5 s before STORAGE_UNAVAILABLE.
    db.exec("PRAGMA busy_timeout = 5000");
    return db;
  },
  async postgres(url) {
    const pg = await load("pg");
    if (!pg) throw configError('storage type "postgres" needs the pg package (npm install pg)');
    const Pool = pg.Pool ?? pg.default.Pool;
    // allowExitOnIdle: an idle pool does not keep the process alive.
    const pool = new Pool({ connectionString: url, allowExitOnIdle: true });
    // An idle pooled connection that drops is replaced at its next use; without a listener
    // its error event would end the process.
    pool.on("error", () => {});
    return pool;
  },
};
