// Device XTEA cost proxy, for machines without an Espruino interpreter. CI has no Espruino, so instead of timing the interpreter we
// count what it would do per 8-byte block: the bundle's own cipher functions (taken from
// dist/lwstcp.js as built) and the straightforward baseline (bench/device/xtea-straightforward.js,
// as written and minified by terser) are run by a small counting evaluator over their acorn AST:
//   - nodes:  expression nodes evaluated (identifier reads, literals, operators, index reads,
//             assignments, updates, calls) — the interpreter's operations;
//   - tokens: tokens of each statement, loop test and loop update each time it runs — Espruino
//             re-lexes the source text on every execution (ESPRUINO.md §7);
//   - chars:  characters of the same pieces, the lexer's walk (why minifying gains ≈ 1.4×).
// The evaluator uses JS numbers, which agree with Espruino's for the integers involved (< 2^53,
// bitwise ops below 2^63: ESPRUINO.md §3), and its outputs are checked against the C++ vectors,
// so the counted run is also a correctness run of the exact bundled text.
import { readFileSync } from "node:fs";
import { parse, tokenizer } from "acorn";
import { ancestor, simple } from "acorn-walk";

const root = new URL("../", import.meta.url);

// ---- the counting evaluator (only what ES5 cipher code needs) ----

class Scope {
  constructor(parent) {
    this.parent = parent;
    this.vars = new Map();
  }
  find(name) {
    for (let s = this; s; s = s.parent) if (s.vars.has(name)) return s;
    return null;
  }
}

const BINARY = {
  "+": (a, b) => a + b,
  "-": (a, b) => a - b,
  "*": (a, b) => a * b,
  "/": (a, b) => a / b,
  "%": (a, b) => a % b,
  "<<": (a, b) => a << b,
  ">>": (a, b) => a >> b,
  ">>>": (a, b) => a >>> b,
  "&": (a, b) => a & b,
  "|": (a, b) => a | b,
  "^": (a, b) => a ^ b,
  "<": (a, b) => a < b,
  ">": (a, b) => a > b,
  "<=": (a, b) => a <= b,
  ">=": (a, b) => a >= b,
  // biome-ignore lint/suspicious/noDoubleEquals: the evaluator implements these operators
  "==": (a, b) => a == b,
  // biome-ignore lint/suspicious/noDoubleEquals: the evaluator implements these operators
  "!=": (a, b) => a != b,
  "===": (a, b) => a === b,
  "!==": (a, b) => a !== b,
};

export class CountingEvaluator {
  /** @param {string} source ES5 program text (a bundle or a plain script) */
  constructor(source, globals = {}) {
    this.source = source;
    this.ast = parse(source, { ecmaVersion: 5, allowReturnOutsideFunction: true, allowReserved: true });
    this.counts = { nodes: 0, tokens: 0, chars: 0 };
    this.tokenCache = new Map();
    this.global = new Scope(null);
    for (const [k, v] of Object.entries({ Math, Error, Uint8Array, Uint32Array, ...globals })) this.global.vars.set(k, v);
    /** every function declaration in the text with the body that declares it (bundles nest them and reuse short names) */
    this.declared = [];
    const declared = this.declared;
    ancestor(this.ast, {
      FunctionDeclaration(node, _state, ancestors) {
        declared.push({ node, parent: ancestors[ancestors.length - 2] });
      },
    });
    /** top-level functions by name (plain scripts) */
    this.functions = new Map(declared.filter((d) => d.parent === this.ast).map((d) => [d.node.id.name, d.node]));
    // top-level `var X = literal` (the baseline's DELTA)
    for (const stmt of this.ast.body) {
      if (stmt.type === "VariableDeclaration")
        for (const d of stmt.declarations) if (d.init && d.init.type === "Literal") this.global.vars.set(d.id.name, d.init.value);
    }
  }

  reset() {
    this.counts = { nodes: 0, tokens: 0, chars: 0 };
  }

  /** Charges the lexing of one piece of source text (a statement, a loop test or update). */
  lex(node) {
    let tokens = this.tokenCache.get(node);
    if (tokens === undefined) {
      tokens = [...tokenizer(this.source.slice(node.start, node.end), { ecmaVersion: 5 })].length;
      this.tokenCache.set(node, tokens);
    }
    this.counts.tokens += tokens;
    this.counts.chars += node.end - node.start;
  }

  call(name, args) {
    const fn = this.functions.get(name);
    if (!fn) throw new Error("no function " + name);
    return this.invoke(fn, args);
  }

  /** A function named `name` declared beside `fn` (same enclosing body), else a top-level one. */
  sibling(fn, name) {
    const home = this.declared.find((d) => d.node === fn);
    const hit = home && this.declared.find((d) => d.parent === home.parent && d.node.id.name === name);
    return hit ? hit.node : this.functions.get(name);
  }

  invoke(fn, args) {
    const scope = new Scope(this.global);
    scope.fn = fn;
    fn.params.forEach((p, i) => {
      scope.vars.set(p.name, args[i]);
    });
    simple(fn.body, {
      VariableDeclarator(d) {
        if (!scope.vars.has(d.id.name)) scope.vars.set(d.id.name, undefined);
      },
    });
    const result = this.block(fn.body.body, scope);
    return result && result.ret ? result.value : undefined;
  }

  block(statements, scope) {
    for (const s of statements) {
      const r = this.statement(s, scope);
      if (r) return r;
    }
    return null;
  }

  statement(s, scope) {
    switch (s.type) {
      case "ExpressionStatement":
        this.lex(s);
        this.expr(s.expression, scope);
        return null;
      case "VariableDeclaration":
        this.lex(s);
        for (const d of s.declarations) if (d.init) this.assignName(d.id.name, this.expr(d.init, scope), scope);
        return null;
      case "BlockStatement":
        return this.block(s.body, scope);
      case "EmptyStatement":
        return null;
      case "ReturnStatement":
        this.lex(s);
        return { ret: true, value: s.argument ? this.expr(s.argument, scope) : undefined };
      case "ThrowStatement":
        this.lex(s);
        throw this.expr(s.argument, scope);
      case "IfStatement":
        this.lex(s.test);
        if (this.expr(s.test, scope)) return this.statement(s.consequent, scope);
        return s.alternate ? this.statement(s.alternate, scope) : null;
      case "ForStatement": {
        if (s.init) {
          if (s.init.type === "VariableDeclaration") this.statement(s.init, scope);
          else {
            this.lex(s.init);
            this.expr(s.init, scope);
          }
        }
        for (;;) {
          if (s.test) {
            this.lex(s.test);
            if (!this.expr(s.test, scope)) break;
          }
          const r = this.statement(s.body, scope);
          if (r) return r;
          if (s.update) {
            this.lex(s.update);
            this.expr(s.update, scope);
          }
        }
        return null;
      }
      case "WhileStatement":
        for (;;) {
          this.lex(s.test);
          if (!this.expr(s.test, scope)) return null;
          const r = this.statement(s.body, scope);
          if (r) return r;
        }
      default:
        throw new Error("evaluator: statement " + s.type + " not supported");
    }
  }

  assignName(name, value, scope) {
    const s = scope.find(name) || this.global;
    s.vars.set(name, value);
    return value;
  }

  /** A reference: [object, key] for members, [null, name] for identifiers. */
  ref(target, scope) {
    if (target.type === "Identifier") return [null, target.name];
    this.counts.nodes++; // the member access
    const object = this.expr(target.object, scope);
    const key = target.computed ? this.expr(target.property, scope) : target.property.name;
    return [object, key];
  }

  read([object, key], scope) {
    if (object !== null) return object[key];
    const s = scope.find(key);
    if (!s) throw new Error("evaluator: unknown name " + key);
    return s.vars.get(key);
  }

  write([object, key], value, scope) {
    if (object !== null) object[key] = value;
    else this.assignName(key, value, scope);
  }

  expr(e, scope) {
    this.counts.nodes++;
    switch (e.type) {
      case "Literal":
        return e.value;
      case "Identifier":
        return this.read([null, e.name], scope);
      case "MemberExpression": {
        this.counts.nodes--; // counted by ref()
        return this.read(this.ref(e, scope), scope);
      }
      case "BinaryExpression": {
        const a = this.expr(e.left, scope);
        const b = this.expr(e.right, scope);
        if (e.operator === "instanceof") return a instanceof b;
        if (e.operator === "in") return a in b;
        return BINARY[e.operator](a, b);
      }
      case "LogicalExpression": {
        const a = this.expr(e.left, scope);
        if (e.operator === "&&") return a ? this.expr(e.right, scope) : a;
        return a ? a : this.expr(e.right, scope);
      }
      case "UnaryExpression": {
        if (e.operator === "typeof") return typeof this.expr(e.argument, scope);
        const v = this.expr(e.argument, scope);
        switch (e.operator) {
          case "-":
            return -v;
          case "+":
            return +v;
          case "!":
            return !v;
          case "~":
            return ~v;
          case "void":
            return undefined;
        }
        throw new Error("evaluator: unary " + e.operator);
      }
      case "UpdateExpression": {
        const r = this.ref(e.argument, scope);
        if (e.argument.type === "Identifier") this.counts.nodes++; // the name
        const old = this.read(r, scope);
        const next = e.operator === "++" ? old + 1 : old - 1;
        this.write(r, next, scope);
        return e.prefix ? next : old;
      }
      case "AssignmentExpression": {
        const r = this.ref(e.left, scope);
        if (e.left.type === "Identifier") this.counts.nodes++; // the name
        let value = this.expr(e.right, scope);
        if (e.operator !== "=") value = BINARY[e.operator.slice(0, -1)](this.read(r, scope), value);
        this.write(r, value, scope);
        return value;
      }
      case "SequenceExpression": {
        let v;
        for (const x of e.expressions) v = this.expr(x, scope);
        return v;
      }
      case "ConditionalExpression":
        return this.expr(e.test, scope) ? this.expr(e.consequent, scope) : this.expr(e.alternate, scope);
      case "CallExpression": {
        const args = e.arguments.map((a) => this.expr(a, scope));
        if (e.callee.type === "Identifier" && !scope.find(e.callee.name)) {
          const target = this.sibling(scope.fn, e.callee.name);
          if (target) return this.invoke(target, args);
        }
        if (e.callee.type === "MemberExpression") {
          const [object, key] = this.ref(e.callee, scope);
          return object[key](...args);
        }
        return this.expr(e.callee, scope)(...args);
      }
      case "NewExpression": {
        const C = this.expr(e.callee, scope);
        return new C(...e.arguments.map((a) => this.expr(a, scope)));
      }
      default:
        throw new Error("evaluator: expression " + e.type + " not supported");
    }
  }
}

// ---- finding the cipher in the bundle ----

function hasShift4(node) {
  let found = false;
  simple(node, {
    BinaryExpression(b) {
      if (b.operator === "<<" && b.right.type === "Literal" && b.right.value === 4) found = true;
    },
  });
  return found;
}

/**
 * The bundle's encrypt and decrypt entry points (minified names). The cipher is recognised by
 * shape: a function with a `<< 4` round whose accumulating assignments are `+=` (encrypt) and
 * `-=` (decrypt). Either two functions of 4 parameters, one per direction, or one function
 * serving both (a 5th parameter: decrypt?) called, directly or through a dispatcher, by two
 * 4-parameter wrappers.
 */
export function findBundleCipher(evaluator) {
  const found = {};
  for (const { node: fn } of evaluator.declared) {
    if (!hasShift4(fn)) continue;
    const ops = new Set();
    simple(fn, {
      AssignmentExpression(a) {
        if ((a.operator === "+=" || a.operator === "-=") && a.right.type === "BinaryExpression" && a.right.operator === "^") ops.add(a.operator);
      },
    });
    if (ops.has("+=") && ops.has("-=") && fn.params.length === 5) found.core = fn;
    else if (ops.has("+=") && fn.params.length === 4) found.encrypt = fn;
    else if (ops.has("-=") && fn.params.length === 4) found.decrypt = fn;
  }
  if (found.core) {
    const core = found.core;
    // The core, or a 5-parameter dispatcher in front of it (lwstcp-xtea first, then the loop).
    const entries = new Set([core]);
    for (const { node: fn } of evaluator.declared) {
      if (fn.params.length !== 5 || fn === core) continue;
      simple(fn, {
        CallExpression(c) {
          if (c.callee.type === "Identifier" && evaluator.sibling(fn, c.callee.name) === core) entries.add(fn);
        },
      });
    }
    found.dispatchers = [...entries].filter((fn) => fn !== core);
    // The wrappers: 4 parameters, one statement calling an entry with a constant last argument.
    for (const { node: fn } of evaluator.declared) {
      const body = fn.body.body;
      if (fn.params.length !== 4 || body.length !== 1 || body[0].type !== "ExpressionStatement") continue;
      const call = body[0].expression;
      if (call.type !== "CallExpression" || call.callee.type !== "Identifier" || call.arguments.length !== 5) continue;
      if (!entries.has(evaluator.sibling(fn, call.callee.name))) continue;
      const flag = call.arguments[4];
      const decrypt = flag.type === "UnaryExpression" && flag.operator === "!" ? !flag.argument.value : Boolean(flag.value);
      found[decrypt ? "decrypt" : "encrypt"] = fn;
    }
  }
  if (!found.encrypt || !found.decrypt) throw new Error("the XTEA functions were not found in the bundle");
  return found;
}

// ---- counting per block ----

const hex = (s) => Uint8Array.from(s.match(/../g).map((h) => parseInt(h, 16)));
const toHex = (b) => Buffer.from(b).toString("hex");

function keyWords(keyHex) {
  const bytes = hex(keyHex);
  return new Uint32Array(8).map((_, i) => (bytes[4 * i] | (bytes[4 * i + 1] << 8) | (bytes[4 * i + 2] << 16) | (bytes[4 * i + 3] << 24)) >>> 0);
}

/** The same schedule as firmware/core/xtea.ts createKeySchedule (kept out of the count: once per key). */
function schedule(key, rounds) {
  const words = new Uint32Array(rounds * 2);
  let sum = 0;
  for (let i = 0; i < words.length; i += 2) {
    words[i] = sum + key[sum & 7];
    sum = (sum + 0x9e3779b9) >>> 0;
    words[i + 1] = sum + key[(sum >>> 11) & 7];
  }
  return words;
}

/**
 * Per-block counts of one form: (count over 17 blocks − count over 1 block) / 16, so the
 * per-call work (argument checks, setup) is not charged to blocks. 32 rounds (the default).
 */
function perBlock(evaluator, run) {
  const one = new Uint8Array(8).fill(0x41);
  const many = new Uint8Array(8 * 17).fill(0x41);
  evaluator.reset();
  run(one);
  const a = { ...evaluator.counts };
  evaluator.reset();
  run(many);
  const b = evaluator.counts;
  return {
    nodes: (b.nodes - a.nodes) / 16,
    tokens: (b.tokens - a.tokens) / 16,
    chars: (b.chars - a.chars) / 16,
    perCallNodes: a.nodes - (b.nodes - a.nodes) / 16,
  };
}

/** Checks one form against every XTEA vector, encrypting and decrypting, in the evaluator. */
function checkVectors(vectors, encrypt, decrypt) {
  for (const v of vectors) {
    const buf = hex(v.plaintext);
    encrypt(keyWords(v.key), v.rounds, buf);
    if (toHex(buf) !== v.ciphertext) throw new Error(`vector mismatch (${v.rounds} rounds)`);
    decrypt(keyWords(v.key), v.rounds, buf);
    if (toHex(buf) !== v.plaintext) throw new Error(`decrypt mismatch (${v.rounds} rounds)`);
  }
  return vectors.length;
}

/** The (mangled) name of the schedule's words property: what the cipher reads from its first parameter. */
function scheduleProperty(functions) {
  let prop = null;
  for (const fn of functions) {
    if (!hasShift4(fn)) continue;
    simple(fn, {
      MemberExpression(m) {
        if (!m.computed && m.object.type === "Identifier" && m.object.name === fn.params[0].name) prop = m.property.name;
      },
    });
  }
  if (!prop) throw new Error("the schedule's words property was not found");
  return prop;
}

/**
 * The bundle's module variables the cipher functions read: the handle on the Storage module
 * lwstcp-xtea, which the counts and scripts here leave undefined, so what runs is the bundle's
 * own loop (bench/device-interpreter.mjs times lwstcp-xtea on its own).
 */
function moduleVariables(ast, functions) {
  const declared = new Set();
  simple(ast, {
    VariableDeclarator(d) {
      if (d.id.type === "Identifier") declared.add(d.id.name);
    },
  });
  const used = new Set();
  for (const fn of functions) {
    const local = new Set(fn.params.map((p) => p.name));
    simple(fn.body, {
      VariableDeclarator(d) {
        local.add(d.id.name);
      },
    });
    simple(fn.body, {
      Identifier(i) {
        if (declared.has(i.name) && !local.has(i.name)) used.add(i.name);
      },
    });
  }
  return [...used];
}

/**
 * The bundle's cipher as a self-contained script for a device or a vm: it defines
 * `xteaEncrypt(words, buf, offset, length)` and `xteaDecrypt(...)` from the exact bundled text
 * of both functions and of the helpers they call.
 */
export function bundleCipherScript(bundle) {
  const ev = new CountingEvaluator(bundle);
  const { encrypt, decrypt, core } = findBundleCipher(ev);
  const parts = new Set([encrypt, decrypt]);
  const pending = [encrypt, decrypt];
  while (pending.length) {
    const fn = pending.pop();
    simple(fn, {
      CallExpression(c) {
        if (c.callee.type === "Identifier") {
          const helper = ev.sibling(fn, c.callee.name);
          if (helper && !parts.has(helper)) {
            parts.add(helper);
            pending.push(helper);
          }
        }
      },
    });
  }
  const wordsProp = scheduleProperty([core || encrypt]);
  const unset = moduleVariables(ev.ast, [...parts]);
  const body = (unset.length ? `var ${unset.join(",")};\n` : "") + [...parts].map((f) => bundle.slice(f.start, f.end)).join("\n");
  const wrap = (fn) => `function($w,$b,$o,$l){${fn.id.name}({${wordsProp}:$w},$b,$o,$l)}`;
  return (
    `var xteaCipher=(function(){${body}\nreturn{e:${wrap(encrypt)},d:${wrap(decrypt)}};})();\n` + "var xteaEncrypt=xteaCipher.e,xteaDecrypt=xteaCipher.d;\n"
  );
}

export { keyWords, schedule };

export async function measureDeviceOps({ bundlePath = new URL("dist/lwstcp.js", root), vectorsPath = new URL("test/vectors/lwstcp-v1.json", root) } = {}) {
  const { minify } = await import("terser");
  const vectors = JSON.parse(readFileSync(vectorsPath, "utf8")).xtea256;
  const straightSource = readFileSync(new URL("bench/device/xtea-straightforward.js", root), "utf8");
  const minified = (await minify(straightSource, { ecma: 5, toplevel: false, compress: { passes: 2 }, mangle: true, format: { comments: false } })).code;
  const rounds = 32;
  const key = keyWords(vectors[0].key);
  const forms = [];
  for (const [name, source] of [
    ["straightforward (as written)", straightSource],
    ["straightforward, minified by terser", minified],
  ]) {
    const ev = new CountingEvaluator(source);
    const enc = (k, r, buf) => ev.call("encryptBlocks", [k, r, buf, 0, buf.length]);
    const dec = (k, r, buf) => ev.call("decryptBlocks", [k, r, buf, 0, buf.length]);
    const checked = checkVectors(vectors, enc, dec);
    forms.push({ name, checked, ...perBlock(ev, (buf) => enc(key, rounds, buf)) });
  }
  const bundle = readFileSync(bundlePath, "latin1");
  const ev = new CountingEvaluator(bundle);
  const names = findBundleCipher(ev);
  for (const name of moduleVariables(ev.ast, [names.encrypt, names.decrypt, names.core, ...(names.dispatchers || [])].filter(Boolean)))
    ev.global.vars.set(name, undefined);
  // The bundle's functions take a schedule object; find its (mangled) property by trying each
  // name the function reads from its first parameter.
  const wordsProp = scheduleProperty([names.core || names.encrypt]);
  const sched = (k, r) => ({ [wordsProp]: schedule(k, r) });
  const enc = (k, r, buf) => ev.invoke(names.encrypt, [sched(k, r), buf, 0, buf.length]);
  const dec = (k, r, buf) => ev.invoke(names.decrypt, [sched(k, r), buf, 0, buf.length]);
  const checked = checkVectors(vectors, enc, dec);
  const s = sched(key, rounds);
  forms.push({ name: "bundle (dist/lwstcp.js)", checked, ...perBlock(ev, (buf) => ev.invoke(names.encrypt, [s, buf, 0, buf.length])) });
  const base = forms[0];
  for (const f of forms) {
    f.nodesRatio = +(base.nodes / f.nodes).toFixed(2);
    f.tokensRatio = +(base.tokens / f.tokens).toFixed(2);
    f.charsRatio = +(base.chars / f.chars).toFixed(2);
  }
  return { rounds, forms };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { forms } = await measureDeviceOps();
  console.table(forms);
}
