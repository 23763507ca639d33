// The build's passes on minified ES5: the hoisting pass (scripts/espruino-hoist.mjs) and the
// prototype-alias pass (scripts/espruino-shrink.mjs). Each output must behave exactly like its
// input under standard JS (run here in node:vm), and the hoisted output must need no hoisting
// (the static checker finds no use before declaration).
import assert from "node:assert/strict";
import vm from "node:vm";
// @ts-expect-error: plain ESM JavaScript with JSDoc types
import { checkEspruinoSource } from "../../scripts/espruino-check.mjs";
// @ts-expect-error: plain ESM JavaScript with JSDoc types
import { hoistForEspruino } from "../../scripts/espruino-hoist.mjs";
// @ts-expect-error: plain ESM JavaScript with JSDoc types
import { aliasPrototypes } from "../../scripts/espruino-shrink.mjs";

/** Runs a script in a fresh context and returns what it printed. */
function run(source: string): string[] {
  const out: string[] = [];
  vm.runInNewContext(source, { print: (...a: unknown[]) => out.push(a.map(String).join(" ")) });
  return out;
}

const hoistCodes = (source: string): string[] =>
  checkEspruinoSource(source)
    .problems.map((p: { code: string }) => p.code)
    .filter((c: string) => c === "use-before-declaration" || c === "array-hole");

const PROGRAMS: Array<[string, string]> = [
  ["a call before the function's statement", "print(twice(3));\nfunction twice(x) { return helper(x) * 2; }\nfunction helper(x) { return x + 1; }"],
  ["a var read before its statement", "print(typeof later, later);\nvar later = 5;\nprint(later);"],
  [
    "a var declared in an untaken branch",
    "if (false) { var ghost = 1; }\nprint(typeof ghost);\nif (true) for (var i = 0, ar; i < 2; i++) ar = i;\nprint(ar, i);",
  ],
  [
    "nested functions with their own hoisting",
    "function outer(n) { return inner(n) + v; function inner(m) { var q = [m, , m]; return q.length + w; var w = 1; } var v = 10; }\nprint(outer(1), outer(2));",
  ],
  [
    "array holes in taken and skipped code",
    "var a = [1, , 3], b = [, 2], c = [4, , ];\nprint(a.length, b.length, c.length, a[1]);\nif (0) { var d = [ , , ]; }",
  ],
  [
    "a function declared in an untaken branch",
    "if (0) { function never() {} }\nprint(typeof never);\nif (1) { function ran() { return 'ran'; } }\nprint(ran());",
  ],
  [
    "a TS-style ES5 class with a getter",
    "var C = (function () { function C(x) { this.x = x; } C.prototype.get = function () { return this.x; }; C.prototype.add = function (n) { this.x += n; return this; }; Object.defineProperty(C.prototype, 'twice', { get: function () { return this.x * 2; } }); return C; })();\nvar c = new C(2); print(c.add(3).get(), c.twice, c instanceof C);",
  ],
  ["a closure made before the var it reads", "var read = function () { return late; };\nprint(typeof read);\nvar late = 3;\nprint(read());"],
  ["a var mentioned in its own initialiser", "function f(){ var n = n || 4; return n; }\nprint(f());"],
  [
    "vars declared in branches and loop heads, rewritten as assignments",
    "function f(n){ if (n) { var a = (n, n + 1), b, c = function () { var d = [1, , 2]; return d.length; }; } for (var i = 0, j; i < 2; i++) j = i; for (var k in { x: 1 }) var last = k; if (n > 5) var big = 1; else var small; return [a, b, c && c(), i, j, k, last, big, small].join(); }\nprint(f(0)); print(f(1)); print(f(9));",
  ],
  ["function and var sharing a name", "print(typeof f);\nvar f = 1;\nfunction f() {}\nprint(typeof f);"],
  ["directive prologue stays first", "'use strict';\nprint(g());\nfunction g() { return 'strict'; }"],
];

describe("firmware: hoisting pass", () => {
  for (const [what, source] of PROGRAMS) {
    it(`keeps the behaviour of ${what} and leaves nothing to hoist`, () => {
      const hoisted = hoistForEspruino(source);
      assert.deepEqual(run(hoisted), run(source));
      assert.deepEqual(hoistCodes(hoisted), []);
    });
  }

  it("moves function declarations and vars to the top of their scope and rewrites holes", () => {
    assert.equal(hoistForEspruino("f();var x=[1,,2];function f(){return y;var y}"), "function f(){var y;return y;}f();var x=[1,void 0,2];");
    assert.equal(hoistForEspruino("f();var x=1;function f(){return x}"), "var x;function f(){return x}f();x=1;", "a moved function may run before the var");
  });

  it("turns var statements whose names it declared at the top into plain assignments", () => {
    assert.equal(
      hoistForEspruino("function f(n){if(n){var a=(n,1),b}for(var k in n)var z;return a+b}"),
      "function f(n){var a,b,z;if(n){a=(n,1)}for(var k in n);return a+b}",
    );
    assert.equal(hoistForEspruino("function f(n){if(n)for(var i=0,j;i<n;i++);return i}"), "function f(n){var i,j;if(n)for(i=0;i<n;i++);return i}");
  });

  it("declares nothing for a var whose statement runs before every mention of it", () => {
    assert.equal(hoistForEspruino("function f(a){var b=a;for(var i=0;i<b;i++)g(i);return b+i}"), "function f(a){var b=a;for(var i=0;i<b;i++)g(i);return b+i}");
    assert.equal(hoistForEspruino("function f(){g();var b=1;if(b){var c=2}return c}"), "function f(){var c;g();var b=1;if(b){c=2}return c}");
  });

  it("does not repeat a var statement that already opens a scope", () => {
    assert.equal(hoistForEspruino("function f(){var a=1,b;return a+b+c;var c}"), "function f(){var c;var a=1,b;return a+b+c;}");
  });

  it("flags what it fixes: the input had uses before declaration and holes", () => {
    assert.deepEqual(hoistCodes("print(f());function f(){return [1,,2]}").sort(), ["array-hole", "use-before-declaration"]);
  });
});

describe("firmware: prototype-alias pass", () => {
  it("aliases C.prototype after the constructor's statement and keeps behaviour", () => {
    const source = PROGRAMS[6][1];
    const aliased = aliasPrototypes(source);
    assert.match(aliased, /var P0=C\.prototype;/);
    assert.equal((aliased.match(/C\.prototype/g) || []).length, 1);
    assert.deepEqual(run(hoistForEspruino(aliased)), run(source));
  });

  it("leaves a constructor alone when something may reassign it or its prototype", () => {
    const reassigned = "function C(){}\nC.prototype.a=1;C.prototype.b=2;C.prototype.c=3;C.prototype={};print(C.prototype.a);";
    assert.equal(aliasPrototypes(reassigned), reassigned);
    const fewUses = "function C(){}\nC.prototype.a=1;C.prototype.b=2;";
    assert.equal(aliasPrototypes(fewUses), fewUses);
  });

  it("only rewrites uses after the declaration in the same scope, and picks an unused name", () => {
    const source = "var P0=1;function C(){}\nC.prototype.a=1;C.prototype.b=2;C.prototype.c=3;function g(){return C.prototype.a}print(g(),P0);";
    const aliased = aliasPrototypes(source);
    assert.match(aliased, /var P1=C\.prototype;/);
    assert.match(aliased, /return C\.prototype\.a/);
    assert.deepEqual(run(aliased), run(source));
  });
});
