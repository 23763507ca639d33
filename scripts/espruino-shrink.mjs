// Size pass for ES5 class output: TypeScript writes each method as `C.prototype.m = function…`
// and terser cannot shorten the repeated `C.prototype.` (about 70 times in dist/lwstcp.js).
// Where a constructor C is declared as a statement of a scope and that scope then uses
// `C.prototype` at least three times, this pass adds `var A=C.prototype;` right after the
// declaration and writes `A` for those uses. Only uses in the same scope and after the
// declaration are rewritten (so the alias exists when they run, hoisting or not), and only when
// no code that sees this C assigns to C or to `C.prototype`, and A is a name the file does not
// use anywhere. It runs on terser's output, before the hoisting pass.

import * as acorn from "acorn";
import { eachChild } from "./espruino-check.mjs";

/**
 * @param {string} source ES5 script text
 * @returns {string}
 */
export function aliasPrototypes(source) {
  const ast = /** @type {any} */ (acorn.parse(source, { ecmaVersion: 5, sourceType: "script" }));
  /** @type {Set<string>} */
  const used = new Set();
  walk(ast, (node) => {
    if (node.type === "Identifier") used.add(node.name);
  });

  let counter = 0;
  const freshName = () => {
    let name;
    do name = "P" + (counter++).toString(36);
    while (used.has(name));
    used.add(name);
    return name;
  };

  /** @type {{ at: number, end: number, text: string }[]} */
  const edits = [];
  /** @param {any} body Program or a function's BlockStatement */
  const scope = (body) => {
    const declared = new Map();
    for (const stmt of body.body) {
      if (stmt.type === "FunctionDeclaration") {
        // Declared twice in one scope: not a plain class constructor; leave it alone.
        declared.set(stmt.id.name, declared.has(stmt.id.name) ? null : stmt);
      }
    }
    for (const [name, decl] of declared) {
      if (!decl || assigns(body, name)) continue;
      /** @type {any[]} */
      const uses = [];
      forEachInScope(body, (node) => {
        if (isPrototypeAccess(node) && node.object.name === name && node.start > decl.end) uses.push(node);
      });
      if (uses.length < 3) continue;
      const alias = freshName();
      edits.push({ at: decl.end, end: decl.end, text: `var ${alias}=${name}.prototype;` });
      for (const use of uses) edits.push({ at: use.start, end: use.end, text: alias });
    }
  };
  walk(ast, (node) => {
    if (node.type === "Program") scope(node);
    else if (node.type === "FunctionDeclaration" || node.type === "FunctionExpression") scope(node.body);
  });

  edits.sort((a, b) => b.at - a.at);
  let out = source;
  for (const e of edits) out = out.slice(0, e.at) + e.text + out.slice(e.end);
  return out;
}

/**
 * Does anything that sees this scope's binding of `name` assign to it or to `name.prototype`?
 * Nested functions that declare their own `name` are skipped: they cannot touch this one.
 * @param {any} body @param {string} name
 */
function assigns(body, name) {
  let found = false;
  const visit = (/** @type {any} */ node) => {
    eachChild(node, (child) => {
      if (found) return;
      if (child.type === "FunctionDeclaration" || child.type === "FunctionExpression") {
        if (!declares(child, name)) visit(child.body);
        return;
      }
      if (child.type === "AssignmentExpression" || child.type === "UpdateExpression") {
        const target = child.type === "AssignmentExpression" ? child.left : child.argument;
        if ((target.type === "Identifier" && target.name === name) || (isPrototypeAccess(target) && target.object.name === name)) found = true;
      }
      visit(child);
    });
  };
  visit(body);
  return found;
}

/** Does this function declare `name` itself (own name, a parameter, a var or an inner function)? @param {any} fn @param {string} name */
function declares(fn, name) {
  if (fn.type === "FunctionExpression" && fn.id && fn.id.name === name) return true;
  if (fn.params.some((/** @type {any} */ p) => p.name === name)) return true;
  let found = false;
  forEachInScope(fn.body, (node) => {
    if (node.type === "VariableDeclarator" && node.id.name === name) found = true;
  });
  const inner = (/** @type {any} */ node) =>
    eachChild(node, (child) => {
      if (child.type === "FunctionDeclaration") {
        if (child.id.name === name) found = true;
        return;
      }
      if (child.type === "FunctionExpression") return;
      inner(child);
    });
  inner(fn.body);
  return found;
}

/** `X.prototype` with X an identifier. @param {any} node */
function isPrototypeAccess(node) {
  return node.type === "MemberExpression" && !node.computed && node.object.type === "Identifier" && node.property.name === "prototype";
}

/** Visits the nodes of one scope, not entering nested functions. @param {any} node @param {(n: any) => void} fn */
function forEachInScope(node, fn) {
  eachChild(node, (child) => {
    if (child.type === "FunctionDeclaration" || child.type === "FunctionExpression") return;
    fn(child);
    forEachInScope(child, fn);
  });
}

/** @param {any} node @param {(n: any) => void} fn */
function walk(node, fn) {
  fn(node);
  eachChild(node, (child) => walk(child, fn));
}

/**
 * Rollup plugin: the alias pass as a `renderChunk` step, after terser and before the hoisting pass.
 * @returns {import("rollup").Plugin}
 */
export function espruinoShrink() {
  return {
    name: "espruino-shrink",
    renderChunk(code) {
      return { code: aliasPrototypes(code), map: null };
    },
  };
}
