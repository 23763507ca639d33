// Static check that a JavaScript text will run on Espruino 2v29 (ESP32 build).
//
// Every rule here comes from docs/ESPRUINO.md (§10 lists the problem codes), where each trap
// was tested on the real interpreter: Espruino parses only ES5-ish syntax, has no hoisting, lacks some built-ins and
// members, and mis-parses array holes in skipped code. The Rollup build runs this on every
// bundle and fails on any problem; the host simulator imports it to refuse what the device
// would refuse. Keep the exported name and the result shape stable: both depend on them.
//
// CLI: node scripts/espruino-check.mjs [--module] FILE...   (exit 1 on problems)

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as acorn from "acorn";

/**
 * @typedef {{ code: ProblemCode, message: string, line: number, column: number }} Problem
 *   column: 0-based, as in source maps (a minified bundle is one long line).
 * @typedef {"not-es5" | "unknown-global" | "ts-helper" | "use-before-declaration" |
 *   "missing-member" | "array-hole" | "label" | "clear-all-timers" | "math-random"} ProblemCode
 * @typedef {{
 *   module?: boolean,
 *   globals?: string[],
 *   allowMathRandom?: boolean,
 * }} CheckOptions
 *   module: the text is a module body (Storage file or Modules.addCached), so `exports` and
 *     `module` exist; at top level they do not (ESPRUINO.md §1.4 step 4). Default false.
 *   globals: extra global names to accept (e.g. a simulator's test hooks).
 *   allowMathRandom: accept Math.random (firmware never may: it is a fixed-seed generator).
 */

const here = dirname(fileURLToPath(import.meta.url));
/**
 * The ESP32 globals, the modules require() answers natively, and names known to be absent: the
 * repository's one list (its `_about` says where the data came from), read by the checker here,
 * by the simulator (host-sim/espruino-globals.ts) and held to the device types by a test.
 */
export const GLOBALS_FILE = join(here, "espruino-globals.json");

/** TypeScript's emitted helpers: each breaks on Espruino (ESPRUINO.md §1.4). */
const TS_HELPERS = new Set([
  "__extends",
  "__awaiter",
  "__generator",
  "__spreadArray",
  "__spreadArrays",
  "__spread",
  "__values",
  "__read",
  "__rest",
  "__assign",
  "__makeTemplateObject",
  "__classPrivateFieldGet",
  "__classPrivateFieldSet",
  "__createBinding",
  "__importStar",
  "__importDefault",
  "__exportStar",
]);

const FACTS = JSON.parse(readFileSync(GLOBALS_FILE, "utf8"));
const TYPED_ARRAYS = ["Uint8Array", "Int8Array", "Uint16Array", "Int16Array", "Uint32Array", "Int32Array", "Float32Array", "Float64Array"];

/**
 * Static members Espruino lacks, by receiver: the file's absentMembers without the prototypes
 * (those are refused by name below, or through PROTOTYPE_LOOKUP_BROKEN); TypedArray stands for each typed array.
 * @type {Record<string, string[]>}
 */
export const MISSING_STATICS = {};
for (const [where, names] of Object.entries(/** @type {Record<string, string[]>} */ (FACTS.absentMembers))) {
  if (where.endsWith(".prototype")) continue;
  for (const receiver of where === "TypedArray" ? TYPED_ARRAYS : [where]) MISSING_STATICS[receiver] = names;
}

/**
 * Method names absent on every built-in receiver that has them elsewhere, and unlikely as our
 * own method names (terser keeps property names, so these survive minification): absentMethodNames.
 */
export const MISSING_METHODS = new Set(/** @type {string[]} */ (FACTS.absentMethodNames));

/** Built-in prototypes whose methods are undefined when read through the prototype (§2.1). */
const PROTOTYPE_LOOKUP_BROKEN = new Set(["Array", "String", "Function", "Number"]);

/** @type {{ globals: Set<string>, absent: Set<string> } | undefined} */
let cachedGlobals;
function loadGlobals() {
  if (!cachedGlobals) {
    const list = FACTS;
    const globals = new Set(list.esp32Globals);
    for (let pin = 0; pin <= 39; pin++) globals.add("D" + pin);
    cachedGlobals = { globals, absent: new Set(list.absent) };
  }
  return cachedGlobals;
}

/**
 * Check a JavaScript text for what Espruino 2v29 on an ESP32 cannot run.
 * @param {string} source
 * @param {CheckOptions} [options]
 * @returns {{ ok: boolean, problems: Problem[] }}
 */
export function checkEspruinoSource(source, options = {}) {
  /** @type {Problem[]} */
  const problems = [];
  let ast;
  try {
    ast = acorn.parse(source, { ecmaVersion: 5, sourceType: "script", locations: true });
  } catch (err) {
    const e = /** @type {any} */ (err);
    return {
      ok: false,
      problems: [{ code: "not-es5", message: `not ES5: ${e.message}`, line: e.loc ? e.loc.line : 0, column: e.loc ? e.loc.column : 0 }],
    };
  }
  const { globals, absent } = loadGlobals();
  const known = new Set(globals);
  if (options.module) {
    known.add("exports");
    known.add("module");
  }
  for (const g of options.globals || []) known.add(g);

  /** @param {ProblemCode} code @param {string} message @param {any} node */
  const report = (code, message, node) =>
    problems.push({ code, message, line: node.loc ? node.loc.start.line : 0, column: node.loc ? node.loc.start.column : 0 });

  const root = buildScopes(ast);
  walkReferences(ast, root, (ref) => {
    const { node, scope, parents, isWrite, underTypeof } = ref;
    const name = node.name;
    if (TS_HELPERS.has(name)) {
      report("ts-helper", `TypeScript helper ${name} (breaks on Espruino; compile with noEmitHelpers and avoid the feature that needs it)`, node);
      return;
    }
    const found = resolve(scope, name);
    if (!found) {
      if (underTypeof) return; // feature detection is fine
      if (!known.has(name)) {
        const why = absent.has(name) ? "absent on Espruino" : "not an Espruino ESP32 global";
        report("unknown-global", isWrite ? `assignment to undeclared ${name} creates a global (${why})` : `${name} is ${why}`, node);
      }
      return;
    }
    const { binding, owner } = found;
    if (owner === scope.fn && !dominatedBy(binding, node, parents)) {
      report("use-before-declaration", `${name} is used before its declaration statement has run (Espruino has no hoisting)`, node);
    }
  });

  walkAll(ast, (node, parent) => {
    if (node.type === "ArrayExpression") {
      if (node.elements.some((/** @type {any} */ el) => el === null)) {
        report("array-hole", "array literal with a hole (throws when the parser skips it)", node);
      }
    } else if (node.type === "LabeledStatement") {
      report("label", `label ${node.label.name} (labelled statements do not work on Espruino)`, node);
    } else if (node.type === "MemberExpression" && !node.computed) {
      const prop = node.property.name;
      const obj = node.object;
      if (obj.type === "Identifier" && Object.hasOwn(MISSING_STATICS, obj.name) && MISSING_STATICS[obj.name].includes(prop)) {
        report("missing-member", `${obj.name}.${prop} does not exist on Espruino`, node);
      } else if (
        obj.type === "MemberExpression" &&
        !obj.computed &&
        obj.property.name === "prototype" &&
        obj.object.type === "Identifier" &&
        PROTOTYPE_LOOKUP_BROKEN.has(obj.object.name) &&
        !(parent && parent.type === "AssignmentExpression" && parent.left === node)
      ) {
        report("missing-member", `${obj.object.name}.prototype.${prop} is undefined on Espruino (built-ins are found by receiver type)`, node);
      } else if (MISSING_METHODS.has(prop)) {
        report("missing-member", `.${prop} does not exist on Espruino built-ins`, node);
      } else if (prop === "random" && obj.type === "Identifier" && obj.name === "Math" && !options.allowMathRandom) {
        report("math-random", "Math.random is a fixed-seed generator on Espruino; use the entropy pool", node);
      }
    } else if (
      node.type === "CallExpression" &&
      node.callee.type === "Identifier" &&
      (node.callee.name === "clearTimeout" || node.callee.name === "clearInterval") &&
      node.arguments.length === 0
    ) {
      report("clear-all-timers", `${node.callee.name}() without an id clears every timer on Espruino`, node);
    }
  });

  problems.sort((a, b) => a.line - b.line);
  return { ok: problems.length === 0, problems };
}

// ---------------------------------------------------------------------------------------------
// Scopes. ES5 has function scopes (vars, function declarations, params, `arguments`) and the
// catch clause's parameter. Each binding keeps the declaring node and its ancestor path, which
// is what the dominance test needs.

/**
 * @typedef {{ node: any, path: any[] }} Declaration
 * @typedef {{ kind: "param" | "var" | "function" | "arguments" | "catch" | "self", decls: Declaration[] }} Binding
 * @typedef {{ fn: any, parent: Scope | undefined, names: Map<string, Binding> }} Scope
 */

/** @param {any} node @returns {node is any} */
const isFunction = (node) => node.type === "FunctionDeclaration" || node.type === "FunctionExpression";

/** @param {Scope} scope @param {string} name @param {Binding["kind"]} kind @param {any} node @param {any[]} path */
function declare(scope, name, kind, node, path) {
  let b = scope.names.get(name);
  if (!b) {
    b = { kind, decls: [] };
    scope.names.set(name, b);
  } else if (kind === "param" || kind === "function") b.kind = b.kind === "param" ? "param" : kind;
  b.decls.push({ node, path });
}

/**
 * Build a scope per function (and per catch clause) and attach it to the AST node.
 * @param {any} ast
 * @returns {Scope}
 */
function buildScopes(ast) {
  /** @type {Scope} */
  const root = { fn: ast, parent: undefined, names: new Map() };
  ast.__scope = root;
  /** @param {any} node @param {Scope} scope @param {any[]} path */
  const visit = (node, scope, path) => {
    if (isFunction(node)) {
      if (node.type === "FunctionDeclaration") declare(scope, node.id.name, "function", node, path);
      /** @type {Scope} */
      const inner = { fn: node, parent: scope, names: new Map() };
      node.__scope = inner;
      if (node.type === "FunctionExpression" && node.id) declare(inner, node.id.name, "self", node, []);
      declare(inner, "arguments", "arguments", node, []);
      for (const p of node.params) declare(inner, p.name, "param", p, []);
      visit(node.body, inner, [node.body]);
      return;
    }
    if (node.type === "VariableDeclarator") declare(scope, node.id.name, "var", node, path);
    if (node.type === "CatchClause") {
      /** @type {Scope} */
      const c = { fn: scope.fn, parent: scope, names: new Map() };
      node.__scope = c;
      declare(c, node.param.name, "catch", node.param, []);
      eachChild(node.body, (child) => visit(child, c, [...path, node.body, child]));
      return;
    }
    eachChild(node, (child) => visit(child, scope, [...path, child]));
  };
  eachChild(ast, (child) => visit(child, root, [child]));
  return root;
}

/** @param {Scope | undefined} scope @param {string} name */
function resolve(scope, name) {
  for (let s = scope; s; s = s.parent) {
    const binding = s.names.get(name);
    if (binding) return { binding, owner: s.fn };
  }
  return undefined;
}

/**
 * Does a declaration of this binding certainly run before `ref` is evaluated, in the same
 * function? Params, `arguments`, catch parameters and a function expression's own name always
 * exist. A var or function declaration exists once its statement has run (ESPRUINO.md §1.1),
 * so it must come first in the text and sit on a path that always executes: a declaration
 * inside an if-branch, a loop body, a switch case or a try block may never run.
 * @param {Binding} binding @param {any} ref @param {any[]} refPath ancestors of ref, outermost first
 */
function dominatedBy(binding, ref, refPath) {
  if (binding.kind !== "var" && binding.kind !== "function") return true;
  return binding.decls.some(({ node, path }) => {
    if (node.start > ref.start) return false;
    if (node.type === "VariableDeclarator" && ref.start >= node.start && ref.end <= node.end) return true;
    // Past the lowest common ancestor, every step down to the declaration must be unconditional.
    let i = 0;
    while (i < path.length && i < refPath.length && path[i] === refPath[i]) i++;
    // (path[0] is a statement of the function body itself, which always runs.)
    for (let j = Math.max(i, 1); j < path.length; j++) {
      if (isConditionalChild(path[j - 1], path[j])) return false;
    }
    return true;
  });
}

/** @param {any} parent @param {any} child */
function isConditionalChild(parent, child) {
  switch (parent.type) {
    case "IfStatement":
      return child !== parent.test;
    case "ForStatement":
      return child !== parent.init;
    case "ForInStatement":
      return child === parent.body;
    case "WhileStatement":
    case "DoWhileStatement":
      return child === parent.body;
    case "TryStatement":
    case "SwitchStatement":
    case "SwitchCase":
    case "CatchClause":
      return true;
    case "ConditionalExpression":
      return child !== parent.test;
    case "LogicalExpression":
      return child === parent.right;
    default:
      return false;
  }
}

/**
 * @typedef {{ node: any, scope: Scope, parents: any[], isWrite: boolean, underTypeof: boolean }} Reference
 * @param {any} ast @param {Scope} root @param {(ref: Reference) => void} onRef
 */
function walkReferences(ast, root, onRef) {
  /** @param {any} node @param {Scope} scope @param {any[]} path ancestors within the function, outermost first */
  const visit = (node, scope, path) => {
    switch (node.type) {
      case "Identifier": {
        const parent = path[path.length - 2];
        onRef({
          node,
          scope,
          parents: path,
          isWrite: parent && parent.type === "AssignmentExpression" && parent.left === node,
          underTypeof: parent && parent.type === "UnaryExpression" && parent.operator === "typeof",
        });
        return;
      }
      case "FunctionDeclaration":
      case "FunctionExpression": {
        const inner = node.__scope;
        if (node.id && node.id.name && TS_HELPERS.has(node.id.name)) onRef({ node: node.id, scope, parents: path, isWrite: true, underTypeof: true });
        visit(node.body, inner, [node.body]);
        return;
      }
      case "VariableDeclarator":
        if (TS_HELPERS.has(node.id.name)) onRef({ node: node.id, scope, parents: path, isWrite: true, underTypeof: true });
        if (node.init) visit(node.init, scope, [...path, node.init]);
        return;
      case "MemberExpression":
        visit(node.object, scope, [...path, node.object]);
        if (node.computed) visit(node.property, scope, [...path, node.property]);
        return;
      case "Property":
        if (node.computed) visit(node.key, scope, [...path, node.key]);
        visit(node.value, scope, [...path, node.value]);
        return;
      case "LabeledStatement":
        visit(node.body, scope, [...path, node.body]);
        return;
      case "BreakStatement":
      case "ContinueStatement":
        return;
      case "CatchClause":
        visit(node.body, node.__scope, [...path, node.body]);
        return;
      default:
        eachChild(node, (child) => visit(child, scope, [...path, child]));
    }
  };
  eachChild(ast, (child) => visit(child, root, [child]));
}

/** @param {any} node @param {(child: any) => void} fn */
export function eachChild(node, fn) {
  for (const key of Object.keys(node)) {
    if (key === "loc" || key === "__scope") continue;
    const value = node[key];
    if (Array.isArray(value)) {
      for (const v of value) if (v && typeof v.type === "string") fn(v);
    } else if (value && typeof value.type === "string") {
      fn(value);
    }
  }
}

/** @param {any} node @param {(node: any, parent: any) => void} fn @param {any} [parent] */
function walkAll(node, fn, parent) {
  fn(node, parent);
  eachChild(node, (child) => walkAll(child, fn, node));
}

// ---------------------------------------------------------------------------------------------

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const asModule = args.includes("--module");
  let failed = false;
  for (const file of args.filter((a) => !a.startsWith("--"))) {
    const { ok, problems } = checkEspruinoSource(readFileSync(file, "utf8"), { module: asModule });
    for (const p of problems) console.log(`${file}:${p.line}: ${p.code}: ${p.message}`);
    if (!ok) failed = true;
  }
  process.exit(failed ? 1 : 0);
}
