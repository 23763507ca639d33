// Hoisting pass for Espruino, which has no hoisting at all (docs/ESPRUINO.md §1.1): a
// function declaration or a `var` exists only once its statement has run, and a `var` in a
// branch that never ran does not exist. This pass makes ordinary JS behave the same there:
//   - every function declaration that is a statement of a function body (or of the file) moves
//     to the top of it; one inside a block or branch stays, as it exists only once it has run;
//   - each function (and the file) starts with `var a,b,c;` naming all its var-declared names
//     (and those block-level functions), so the later `var a = …` statements only assign
//     (re-declaring keeps the value, §1.1);
//   - array holes `[1,,2]` become `[1,void 0,2]` (a hole throws when the parser skips it).
// The first two keep standard-JS meaning exactly. The third makes a hole an undefined element,
// which differs only for `in`, hasOwnProperty and the iteration methods that skip holes; the
// code we compile never relies on holes (TypeScript emits them only for async/await). It runs on the minified chunk (a Rollup
// `renderChunk` step after terser), on the acorn AST, by text edits; no code generator, so the
// output keeps terser's formatting.

import * as acorn from "acorn";
import { eachChild } from "./espruino-check.mjs";

/**
 * @typedef {{ start: number, end: number, text: () => string, removes?: boolean }} Edit
 */

/**
 * Rewrite ES5 source so that it runs on an interpreter without hoisting.
 * @param {string} source ES5 script text
 * @returns {string}
 */
export function hoistForEspruino(source) {
  const ast = /** @type {any} */ (acorn.parse(source, { ecmaVersion: 5, sourceType: "script" }));
  /** @type {Edit[]} */
  const edits = [];

  /**
   * Collect one scope's var names and function declarations, recursing into inner functions.
   * @param {any} fnBody Program or a function's BlockStatement
   * @param {string[]} params names that need no `var`
   */
  const scope = (fnBody, params) => {
    /** @type {Set<string>} */
    const vars = new Set();
    /** @type {any[]} */
    const functions = [];
    /** @type {Array<{ node: any, parent: any }>} */
    const declarations = [];
    /** @param {any} node @param {any} parent */
    const visit = (node, parent) => {
      switch (node.type) {
        case "VariableDeclaration":
          declarations.push({ node, parent });
          break;
        case "FunctionDeclaration":
          if (parent === fnBody) {
            functions.push(node);
            edits.push({ start: node.start, end: node.end, removes: true, text: () => "" });
          } else {
            // Inside a block or branch it is defined only if that code runs (on Espruino, and
            // in sloppy-mode JS alike); it stays put and its name is declared like a var.
            vars.add(node.id.name);
          }
          scope(
            node.body,
            node.params.map((/** @type {any} */ p) => p.name),
          );
          return;
        case "FunctionExpression":
          scope(
            node.body,
            node.params.map((/** @type {any} */ p) => p.name),
          );
          return;
        case "VariableDeclarator":
          vars.add(node.id.name);
          break;
        case "ArrayExpression":
          holes(node);
          break;
      }
      eachChild(node, (child) => visit(child, node));
    };
    eachChild(fnBody, (child) => visit(child, fnBody));

    for (const f of functions) vars.delete(f.id.name);
    for (const p of params) vars.delete(p);
    vars.delete("arguments");

    // After the directive prologue ("use strict"), which must stay first to mean anything.
    let at = fnBody.type === "Program" ? 0 : fnBody.start + 1;
    let first = 0;
    for (; first < fnBody.body.length; first++) {
      const stmt = fnBody.body[first];
      if (stmt.type === "ExpressionStatement" && typeof stmt.directive === "string") at = stmt.end;
      else break;
    }
    // Names of var statements that already open the scope run first anyway (terser often
    // writes one); naming them again would only cost bytes. Function declarations are moved
    // in front of them, which is fine: declaring a function runs nothing.
    for (let i = first; i < fnBody.body.length && fnBody.body[i].type === "VariableDeclaration"; i++) {
      for (const d of fnBody.body[i].declarations) vars.delete(d.id.name);
    }
    // A var whose first declaration is a statement of this body (so it always runs) and comes
    // before every mention of the name needs no hoisting either: it exists before any use.
    const firstAtTop = topLevelDeclarators(fnBody);
    for (const name of [...vars]) {
      const declarator = firstAtTop.get(name);
      if (declarator && !mentionedBefore(fnBody, name, declarator.end, declarator.id)) vars.delete(name);
    }
    if (vars.size === 0 && functions.length === 0) return;
    // Each `var` statement whose names are all declared at the top now only assigns: drop the
    // keyword (and the declarators without a value), which the bytes of the top list pay for.
    for (const { node, parent } of declarations) {
      if (!node.declarations.every((/** @type {any} */ d) => vars.has(d.id.name))) continue;
      edits.push({ start: node.start, end: node.end, text: () => assignments(node, parent) });
    }
    edits.push({
      start: at,
      end: at,
      text: () => (vars.size ? "var " + [...vars].join(",") + ";" : "") + functions.map((f) => render(f.start, f.end, f)).join(""),
    });
  };

  /**
   * A var statement rewritten as plain assignments: `var a=1,b,c=f()` → `a=1,c=f()`.
   * @param {any} node VariableDeclaration @param {any} parent
   */
  const assignments = (node, parent) => {
    const inForHead = (parent.type === "ForStatement" && parent.init === node) || (parent.type === "ForInStatement" && parent.left === node);
    if (parent.type === "ForInStatement" && parent.left === node) return node.declarations[0].id.name;
    const parts = node.declarations
      .filter((/** @type {any} */ d) => d.init)
      .map((/** @type {any} */ d) => {
        const value = render(d.init.start, d.init.end);
        // A comma expression is parenthesised in the source, outside the node's range.
        return d.id.name + "=" + (d.init.type === "SequenceExpression" ? "(" + value + ")" : value);
      });
    const hadSemicolon = source[node.end - 1] === ";";
    if (inForHead) return parts.join(",");
    if (parts.length === 0) {
      const inList = parent.type === "BlockStatement" || parent.type === "Program" || parent.type === "SwitchCase";
      return inList ? "" : ";";
    }
    return parts.join(",") + (hadSemicolon ? ";" : "");
  };

  /** Insert `void 0` into each hole of an array literal. @param {any} node */
  const holes = (node) => {
    let pos = node.start + 1; // just past "["
    node.elements.forEach((/** @type {any} */ el, /** @type {number} */ i) => {
      if (el === null) {
        edits.push({ start: pos, end: pos, text: () => "void 0" });
      } else {
        pos = el.end;
      }
      if (i < node.elements.length - 1 || el === null) pos = skipToAfterComma(source, pos);
    });
  };

  /**
   * The source text of [start, end) with every edit inside it applied; `self` is the function
   * being moved, whose own removal must not apply to its moved copy.
   * @param {number} start @param {number} end @param {any} [self]
   */
  const render = (start, end, self) => {
    let out = "";
    let pos = start;
    for (const e of edits) {
      if (e.start < pos || e.end > end) continue; // outside, or inside an edit already applied
      if (self && e.removes && e.start === self.start && e.end === self.end) continue;
      // A zero-width edit at the very edge of a moved function belongs to the enclosing scope
      // (its insertion point can be where the function starts); it must not go inside the copy.
      if (self && e.start === e.end && (e.start === start || e.start === end)) continue;
      out += source.slice(pos, e.start) + e.text();
      pos = e.end;
    }
    return out + source.slice(pos, end);
  };

  scope(ast, []);
  // Zero-width insertions sort before a removal starting at the same place.
  edits.sort((a, b) => a.start - b.start || a.end - b.end);
  return render(0, source.length);
}

/**
 * The first declarator of each name among the var statements that are direct statements of a
 * function body (including `for (var …;` and `for (var … in` heads there, which always run
 * when the loop statement is reached).
 * @param {any} fnBody @returns {Map<string, any>}
 */
function topLevelDeclarators(fnBody) {
  const found = new Map();
  for (const stmt of fnBody.body) {
    const decl =
      stmt.type === "VariableDeclaration"
        ? stmt
        : stmt.type === "ForStatement" && stmt.init && stmt.init.type === "VariableDeclaration"
          ? stmt.init
          : stmt.type === "ForInStatement" && stmt.left.type === "VariableDeclaration"
            ? stmt.left
            : null;
    if (!decl) continue;
    for (const d of decl.declarations) if (!found.has(d.id.name)) found.set(d.id.name, d);
  }
  return found;
}

/**
 * Whether `name` is mentioned as a variable anywhere in this scope (nested functions that do
 * not declare their own `name` included) before position `before`, other than by `self`.
 * Conservative on purpose: a mention inside a closure or inside the declarator's own initialiser
 * counts, so the name is then hoisted.
 * @param {any} fnBody @param {string} name @param {number} before @param {any} self
 */
function mentionedBefore(fnBody, name, before, self) {
  let found = false;
  /** @param {any} node @param {any} parent @param {boolean} [moved] */
  const visit = (node, parent, moved) => {
    // A function declaration of this body moves to its top, so it can run before any statement.
    if (node.type === "FunctionDeclaration" && parent === fnBody) moved = true;
    if (found || (!moved && node.start >= before)) return;
    if (node.type === "Identifier") {
      if (node.name === name && node !== self && isReference(node, parent) && (moved || node.start < before)) found = true;
      return;
    }
    if ((node.type === "FunctionDeclaration" || node.type === "FunctionExpression") && declaresOwn(node, name)) return;
    if (node.type === "CatchClause" && node.param.name === name) return;
    eachChild(node, (child) => visit(child, node, moved));
  };
  eachChild(fnBody, (child) => visit(child, fnBody, false));
  return found;
}

/** @param {any} node an Identifier @param {any} parent */
function isReference(node, parent) {
  if (!parent) return true;
  switch (parent.type) {
    case "MemberExpression":
      return parent.computed || parent.object === node;
    case "Property":
      return parent.computed || parent.value === node;
    case "FunctionDeclaration":
    case "FunctionExpression":
      return false; // its name or a param
    case "LabeledStatement":
    case "BreakStatement":
    case "ContinueStatement":
      return false;
    case "CatchClause":
      return false;
    default:
      return true;
  }
}

/** Whether a function binds `name` itself (name, param, var or inner function declaration). */
function declaresOwn(/** @type {any} */ fn, /** @type {string} */ name) {
  if (fn.id && fn.id.name === name && fn.type === "FunctionExpression") return true;
  if (fn.params.some((/** @type {any} */ p) => p.name === name)) return true;
  let own = false;
  /** @param {any} node */
  const visit = (node) => {
    if (own) return;
    if (node.type === "VariableDeclarator" && node.id.name === name) own = true;
    else if (node.type === "FunctionDeclaration") {
      if (node.id.name === name) own = true;
      return;
    } else if (node.type === "FunctionExpression") return;
    eachChild(node, visit);
  };
  eachChild(fn.body, visit);
  return own;
}

/**
 * Position just after the next comma at or after `pos`, skipping whitespace and comments.
 * @param {string} s @param {number} pos
 */
function skipToAfterComma(s, pos) {
  while (pos < s.length) {
    const c = s[pos];
    if (c === ",") return pos + 1;
    if (c === "/" && s[pos + 1] === "*") pos = s.indexOf("*/", pos + 2) + 2;
    else if (c === "/" && s[pos + 1] === "/") pos = s.indexOf("\n", pos);
    else pos++;
  }
  return pos;
}

/**
 * Rollup plugin: the hoisting pass as a `renderChunk` step. Put it after terser.
 * @returns {import("rollup").Plugin}
 */
export function espruinoHoist() {
  return {
    name: "espruino-hoist",
    renderChunk(code) {
      return { code: hoistForEspruino(code), map: null };
    },
  };
}
