// addMessage's common case, read in one call: a plain `{ role, content }` object (its only own
// enumerable keys, in either order) with a known role and well-formed string content comes back
// as one string, the role's initial then the content; anything else is `undefined` and goes
// through the general path (JSON.stringify + serde), which reads the same object the same way.
const ROLES = { system: "s", user: "u", assistant: "a", tool: "t" };

export function plainMessage(m) {
  try {
    if (typeof m !== "object" || m === null || Object.getPrototypeOf(m) !== Object.prototype) return undefined;
    if (m.toJSON !== undefined) return undefined;
    const keys = Object.keys(m);
    if (keys.length !== 2) return undefined;
    const { role, content } = m;
    if (!Object.hasOwn(m, "role") || !Object.hasOwn(m, "content")) return undefined;
    if (typeof role !== "string" || typeof content !== "string" || !Object.hasOwn(ROLES, role)) return undefined;
    // A lone surrogate: JSON.stringify escapes it and serde refuses it; leave that to them.
    if (typeof content.isWellFormed !== "function" || !content.isWellFormed()) return undefined;
    return ROLES[role] + content;
  } catch {
    // A getter or Proxy trap threw: the general path reports it.
    return undefined;
  }
}
