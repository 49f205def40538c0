// node scripts/short-imports.mjs MODULE.wasm GLUE.js [OUT.js]
//
// Gives a module's imports short names, in the wasm's import section and in wasm-bindgen's glue
// alike (./scripts/build runs it after wasm-opt, before the glue is minified). The module is
// rewritten in place; the glue is written to OUT.js (in place without it). wasm-bindgen names
// each import after the JS it calls plus a 16-digit hash (`__wbg_getRandomValues_8b6f1f663e6f188d`)
// and repeats the module name (`./agent_sessions_bg.js`) in every entry; both appear in the wasm
// and the hashed names again in the glue's import object, and the hashes do not compress
// (bench/size.md, "Short import names"). Exports keep their names: the glue calls them by name,
// and the raw entry's typings list them.
//
// Every name is checked: each import's field name must be a key exactly once in the glue's
// import object (`name: function(`), and each module name exactly once (`"name": import0`);
// anything else fails the build rather than leaving the two out of step.
import { readFileSync, writeFileSync } from "node:fs";

const [wasmPath, gluePath, outPath = gluePath] = process.argv.slice(2);
if (!wasmPath || !gluePath) {
  console.error("usage: node scripts/short-imports.mjs MODULE.wasm GLUE.js [OUT.js]");
  process.exit(2);
}

const bytes = readFileSync(wasmPath);
const fail = (why) => {
  console.error(`[short-imports] ${wasmPath}: ${why}`);
  process.exit(1);
};

function readU32(buf, at) {
  let value = 0, shift = 0, b;
  do {
    b = buf[at++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  return [value, at];
}

function u32(value) {
  const out = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value) b |= 0x80;
    out.push(b);
  } while (value);
  return Buffer.from(out);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
function readName(buf, at) {
  const [len, start] = readU32(buf, at);
  return [utf8.decode(buf.subarray(start, start + len)), start + len];
}
const name = (text) => {
  const b = Buffer.from(text, "utf8");
  return Buffer.concat([u32(b.length), b]);
};

/** The byte length of an import's description (after its kind byte) at `at`. */
function descEnd(buf, kind, at) {
  const limits = (p) => {
    const flags = buf[p++];
    [, p] = readU32(buf, p);
    if (flags & 1) [, p] = readU32(buf, p);
    return p;
  };
  switch (kind) {
    case 0: return readU32(buf, at)[1]; // function: type index
    case 1: return limits(at + 1); // table: reference type, limits
    case 2: return limits(at); // memory: limits
    case 3: return at + 2; // global: value type, mutability
    case 4: return readU32(buf, at + 1)[1]; // tag: attribute, type index
    default: return fail(`unknown import kind ${kind}`);
  }
}

// Short names in order: a … z, A … Z, then two letters.
const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const short = (i) => (i < letters.length ? letters[i] : short(Math.floor(i / letters.length) - 1) + letters[i % letters.length]);

if (bytes.readUInt32LE(0) !== 0x6d736100) fail("not a wasm module");
let at = 8;
const parts = [bytes.subarray(0, 8)];
const modules = new Map();
const fields = new Map();
let done = false;
while (at < bytes.length) {
  const id = bytes[at];
  const [size, start] = readU32(bytes, at + 1);
  const end = start + size;
  if (id !== 2) {
    parts.push(bytes.subarray(at, end));
    at = end;
    continue;
  }
  if (done) fail("two import sections");
  done = true;
  let [count, p] = readU32(bytes, start);
  const entries = [u32(count)];
  for (let i = 0; i < count; i++) {
    let mod, field;
    [mod, p] = readName(bytes, p);
    [field, p] = readName(bytes, p);
    const kind = bytes[p];
    const descStart = p;
    p = descEnd(bytes, kind, p + 1);
    if (!modules.has(mod)) modules.set(mod, short(modules.size));
    const key = `${mod}\0${field}`;
    if (fields.has(key)) fail(`import ${field} twice`);
    fields.set(key, short(fields.size));
    entries.push(name(modules.get(mod)), name(fields.get(key)), bytes.subarray(descStart, p));
  }
  if (p !== end) fail("import section length does not add up");
  const payload = Buffer.concat(entries);
  parts.push(Buffer.from([2]), u32(payload.length), payload);
  at = end;
}
if (!done) fail("no import section");

let glue = readFileSync(gluePath, "utf8");
const once = (pattern, replacement, what) => {
  let n = 0;
  glue = glue.replace(pattern, (...m) => {
    n++;
    return typeof replacement === "function" ? replacement(...m) : replacement;
  });
  if (n !== 1) fail(`${what} found ${n} times in ${gluePath}, not once`);
};
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
for (const [key, to] of fields) {
  const field = key.split("\0")[1];
  once(new RegExp(`(^|[\\s,{])${escape(field)}(\\s*:\\s*function\\b)`, "gm"), (_, pre, post) => `${pre}${to}${post}`, `import ${field}`);
}
for (const [mod, to] of modules) {
  once(new RegExp(`${escape(JSON.stringify(mod))}(\\s*:)`, "g"), (_, post) => `${JSON.stringify(to)}${post}`, `import module ${mod}`);
}

writeFileSync(wasmPath, Buffer.concat(parts));
writeFileSync(outPath, glue);
