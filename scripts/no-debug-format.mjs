// No `{:?}` outside tests: the wasm modules are built with `-Zfmt-debug=none` (scripts/build),
// which compiles Debug formatting out, so a Debug-formatted value in a message would print as
// nothing there while every native test still sees it. Messages quote through
// `core::json::quote`. (clippy's `use_debug` only sees `write!` and `print!`, not `format!`.)
// Test code is skipped: files named *tests.rs or under a tests/ folder, and every item marked
// `#[cfg(test)]` (a whole `mod tests { … }`, a function, a `mod x;` line).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

function* rustFiles(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "tests") yield* rustFiles(p);
    } else if (e.name.endsWith(".rs") && !e.name.endsWith("tests.rs")) yield p;
  }
}

/** `text` with comments blanked and every `#[cfg(test)]` item removed; line breaks kept. */
function nonTest(text) {
  let out = "";
  let i = 0;
  let skipFrom = -1; // depth at which a skipped item started, or -1
  let depth = 0;
  let pending = false; // a #[cfg(test)] was seen; the next item is skipped
  const emit = (s) => { out += skipFrom >= 0 || pending ? s.replace(/[^\n]/g, " ") : s; };
  while (i < text.length) {
    if (text.startsWith("//", i)) {
      const end = text.indexOf("\n", i);
      i = end < 0 ? text.length : end;
      continue;
    }
    if (text.startsWith("#[cfg(test)]", i)) {
      if (skipFrom < 0) pending = true;
      emit("#[cfg(test)]");
      i += "#[cfg(test)]".length;
      continue;
    }
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      emit(text.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if (c === "'" && /^'(\\.|[^\\'])'/.test(text.slice(i, i + 4))) {
      const m = text.slice(i).match(/^'(\\.|[^\\'])'/);
      emit(m[0]);
      i += m[0].length;
      continue;
    }
    if (pending && c === "{") {
      pending = false;
      skipFrom = depth;
    } else if (pending && c === ";") {
      emit(c);
      pending = false;
      i++;
      continue;
    }
    if (c === "{") depth++;
    if (c === "}") {
      depth--;
      if (skipFrom >= 0 && depth === skipFrom) {
        emit(c);
        skipFrom = -1;
        i++;
        continue;
      }
    }
    emit(c);
    i++;
  }
  return out;
}

const found = [];
for (const file of rustFiles("src")) {
  const lines = nonTest(readFileSync(file, "utf8")).split("\n");
  lines.forEach((line, n) => {
    if (/:#?\?\}/.test(line)) found.push(`${file}:${n + 1}: ${line.trim()}`);
  });
}
if (found.length) {
  console.error("Debug formatting ({:?}) outside tests prints nothing in the wasm modules (-Zfmt-debug=none); quote with core::json::quote:");
  for (const f of found) console.error("  " + f);
  process.exit(1);
}
console.log("no {:?} outside tests");
