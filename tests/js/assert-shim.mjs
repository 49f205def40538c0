// A small stand-in for node:assert/strict in browsers: just what tests/js/agent.cases.mjs uses
// (ok, equal, notEqual, deepEqual, match, rejects, fail), with the same strict semantics.

export class AssertionError extends Error {
  constructor(message, { actual, expected, operator } = {}) {
    super(message);
    this.name = "AssertionError";
    this.actual = actual;
    this.expected = expected;
    this.operator = operator;
  }
}

function show(v) {
  if (typeof v === "string") return JSON.stringify(v);
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  try {
    const s = JSON.stringify(v, (_, x) => (typeof x === "bigint" ? `${x}n` : x instanceof RegExp ? String(x) : x));
    return s === undefined ? String(v) : s.length > 2000 ? s.slice(0, 2000) + "…" : s;
  } catch {
    return String(v);
  }
}

function failWith(message, fallback, details) {
  if (message instanceof Error) throw message;
  throw new AssertionError(message ?? fallback, details);
}

function isDeepStrictEqual(a, b) {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof RegExp) return String(a) === String(b);
  if (Array.isArray(a)) {
    if (a.length !== b.length) return false;
    return a.every((x, i) => isDeepStrictEqual(x, b[i]));
  }
  if (a instanceof Map || a instanceof Set) {
    return isDeepStrictEqual([...a], [...b]);
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && isDeepStrictEqual(a[k], b[k]));
}

export function ok(value, message) {
  if (!value) failWith(message, `Expected a truthy value, got ${show(value)}`, { actual: value, expected: true, operator: "==" });
}

export function equal(actual, expected, message) {
  if (!Object.is(actual, expected)) {
    failWith(message, `Expected values to be strictly equal:\n  actual:   ${show(actual)}\n  expected: ${show(expected)}`, { actual, expected, operator: "strictEqual" });
  }
}

export function notEqual(actual, expected, message) {
  if (Object.is(actual, expected)) {
    failWith(message, `Expected "actual" to be strictly unequal to: ${show(expected)}`, { actual, expected, operator: "notStrictEqual" });
  }
}

export function deepEqual(actual, expected, message) {
  if (!isDeepStrictEqual(actual, expected)) {
    failWith(message, `Expected values to be deeply equal:\n  actual:   ${show(actual)}\n  expected: ${show(expected)}`, { actual, expected, operator: "deepStrictEqual" });
  }
}

export function match(string, regexp, message) {
  if (typeof string !== "string" || !regexp.test(string)) {
    failWith(message, `The input did not match the regular expression ${regexp}. Input: ${show(string)}`, { actual: string, expected: regexp, operator: "match" });
  }
}

export function fail(message = "Failed") {
  failWith(message, message, { operator: "fail" });
}

/** Checks an error against node's `expected` forms: an object of properties (RegExp for strings), a class, or a function. */
function checkExpected(err, expected, message) {
  if (expected === undefined) return;
  if (typeof expected === "function") {
    if (expected.prototype !== undefined && err instanceof expected) return;
    if (Error.isPrototypeOf(expected) || expected === Error) {
      failWith(message, `The error is expected to be an instance of "${expected.name}". Received ${show(err)}`, { actual: err, expected });
    }
    if (expected.call({}, err) === true) return;
    failWith(message, `The validation function is expected to return "true". Received ${show(err)}`, { actual: err, expected });
  }
  if (expected instanceof RegExp) {
    match(String(err), expected, message);
    return;
  }
  for (const [key, want] of Object.entries(expected)) {
    const got = err?.[key];
    if (want instanceof RegExp && typeof got === "string") {
      if (!want.test(got)) failWith(message, `Expected error.${key} to match ${want}, got ${show(got)} (${show(err)})`, { actual: err, expected });
    } else if (!isDeepStrictEqual(got, want)) {
      failWith(message, `Expected error.${key} to be ${show(want)}, got ${show(got)} (${show(err)})`, { actual: err, expected });
    }
  }
}

export async function rejects(promiseOrFn, expected, message) {
  if (typeof expected === "string") [message, expected] = [expected, undefined];
  const promise = typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn;
  if (!promise || typeof promise.then !== "function") {
    failWith(message, "The promiseFn did not return a promise", { actual: promise, operator: "rejects" });
  }
  let settled;
  try {
    await promise;
    settled = { ok: true };
  } catch (err) {
    settled = { ok: false, err };
  }
  if (settled.ok) failWith(message, "Missing expected rejection.", { expected, operator: "rejects" });
  checkExpected(settled.err, expected, message);
}

export const assert = { ok, equal, notEqual, deepEqual, match, rejects, fail, AssertionError };
export default assert;
