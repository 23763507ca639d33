// The Espruino static checker (scripts/espruino-check.mjs): each problem kind is caught with its
// stable code and line, clean code and the real bundles pass, and the committed ESP32 globals list
// is well formed and the same one the simulator uses.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
// @ts-expect-error: plain ESM JavaScript with JSDoc types, no declaration file
import { checkEspruinoSource, GLOBALS_FILE } from "../../scripts/espruino-check.mjs";
import { ESP32_BUILTIN_MODULES, ESP32_GLOBAL_NAMES } from "../host-sim/espruino-globals.js";

interface Problem {
  code: string;
  message: string;
  line: number;
}
const check = (source: string, options?: object): { ok: boolean; problems: Problem[] } => checkEspruinoSource(source, options);
const codes = (source: string, options?: object) => check(source, options).problems.map((p) => p.code);

describe("firmware: Espruino static checker", () => {
  it("passes ordinary ES5 that declares before it uses", () => {
    const result = check(
      "var a = 1;\nfunction f(x) { var y = x + a; return g(y); }\nfunction g(z) { return z; }\n" +
        "print(f(2));\nfor (var i = 0; i < 3; i++) { print(i); }\nprint(i);\n" +
        "try { throw new Error('x'); } catch (e) { print(e.message); }\nif (typeof Symbol !== 'undefined') print(1);\n" +
        "var u = new Uint8Array(4); print(E.toString(u.subarray(0, 2)) + peek32(0x3FF75144) + D39);\n" +
        "if (u.length) clearTimeout(setTimeout(function () {}, 1));\n",
    );
    assert.deepEqual(result, { ok: true, problems: [] });
  });

  const fixtures: Array<[string, string, string, number]> = [
    ["not ES5 (let)", "var a = 1;\nlet x = 1;", "not-es5", 2],
    ["not ES5 (arrow)", "var f = (a) => a;", "not-es5", 1],
    ["not ES5 (class)", "class A {}", "not-es5", 1],
    ["a global Espruino lacks", "var m = new Map();", "unknown-global", 1],
    ["an invented global", "print(window.x);", "unknown-global", 1],
    ["RangeError (absent)", "\nthrow new RangeError('r');", "unknown-global", 2],
    ["an assignment creating a global", "counter = 1;", "unknown-global", 1],
    ["a TypeScript helper", "var B = (function (_super) { __extends(B, _super); function B() {} return B; })(Object);", "ts-helper", 1],
    ["__awaiter", "function f() { return __awaiter(this, void 0, void 0, function () {}); }", "ts-helper", 1],
    ["a function used before its declaration", "start();\nfunction start() {}", "use-before-declaration", 1],
    ["a var read before its declaration", "print(x);\nvar x = 1;", "use-before-declaration", 1],
    ["a var declared only in an untaken branch", "if (0) { var q = 1; }\nprint(q);", "use-before-declaration", 2],
    ["a var declared in a loop body", "while (0) { var w = 1; }\nprint(w);", "use-before-declaration", 2],
    ["a use before declaration inside a function", "function f() {\n  return y;\n  var y = 2;\n}", "use-before-declaration", 2],
    ["Math.imul", "print(Math.imul(3, 4));", "missing-member", 1],
    ["Number.isInteger", "print(Number.isInteger(3));", "missing-member", 1],
    ["Array.from", "print(Array.from([1]));", "missing-member", 1],
    ["Object.freeze", "Object.freeze({});", "missing-member", 1],
    ["Promise.race", "Promise.race([]);", "missing-member", 1],
    [".finally(", "Promise.resolve(1).finally(function () {});", "missing-member", 1],
    ["Array.prototype.slice read through the prototype", "function f() { return Array.prototype.slice.call(arguments); }", "missing-member", 1],
    ["an array hole", "var a = [3, 5, , 6];", "array-hole", 1],
    ["a label", "outer: for (;;) { break outer; }", "label", 1],
    ["clearTimeout() without an id", "clearTimeout();", "clear-all-timers", 1],
    ["Math.random", "var r = Math.random();", "math-random", 1],
  ];
  for (const [what, source, code, line] of fixtures) {
    it(`catches ${what} as ${code} on line ${line}`, () => {
      const result = check(source);
      assert.equal(result.ok, false);
      const found = result.problems.find((p) => p.code === code);
      assert.ok(found, `expected ${code}, got ${JSON.stringify(result.problems)}`);
      assert.equal(found.line, line);
      assert.ok(found.message.length > 0);
    });
  }

  it("allows exports and module only in a module body", () => {
    assert.deepEqual(codes("exports.a = 1; module.exports.b = 2;"), ["unknown-global", "unknown-global"]);
    assert.deepEqual(codes("exports.a = 1; module.exports.b = 2;", { module: true }), []);
  });

  it("accepts extra globals, and Math.random when allowed", () => {
    assert.deepEqual(codes("simHook();", { globals: ["simHook"] }), []);
    assert.deepEqual(codes("Math.random();", { allowMathRandom: true }), []);
  });

  it("does not mistake properties, labels of member access or typeof checks for globals", () => {
    assert.deepEqual(codes("var o = { Map: 1 }; print(o.Map + typeof Set);"), []);
  });

  it("passes the real bundles: dist/lwstcp.js as a module, dist/app-*.js as a program", () => {
    const lib = readFileSync("dist/lwstcp.js", "latin1");
    assert.deepEqual(check(lib, { module: true }).problems, []);
    const outside = check(lib).problems;
    assert.ok(
      outside.length > 0 && outside.every((p) => p.code === "unknown-global" && /\bexports\b/.test(p.message)),
      "outside a module body only the library's `exports` is refused",
    );
    assert.deepEqual(check(readFileSync("dist/app-esp32.js", "latin1")).problems, []);
  });

  it("keeps one well-formed ESP32 globals list, the same the simulator uses", () => {
    const list = JSON.parse(readFileSync(GLOBALS_FILE, "utf8"));
    assert.deepEqual(Object.keys(list), ["_about", "esp32Globals", "esp32Modules", "absent", "absentMembers", "absentMethodNames", "esp32E"]);
    assert.match(list._about, /symbol table/);
    for (const key of ["esp32Globals", "esp32Modules", "absent"]) {
      const names: unknown[] = list[key];
      assert.ok(Array.isArray(names) && names.length > 0, key);
      assert.ok(
        names.every((n) => typeof n === "string" && /^[A-Za-z_$][\w$]*$/.test(n)),
        key + " holds identifiers",
      );
      assert.deepEqual(names, [...new Set(names)].sort(), key + " is sorted, without duplicates");
    }
    assert.deepEqual(
      list.absent.filter((n: string) => list.esp32Globals.includes(n)),
      [],
      "nothing is both present and absent",
    );
    for (const name of ["E", "Modules", "require", "peek32", "setTimeout", "Uint8Array", "ESP32"]) assert.ok(list.esp32Globals.includes(name), name);
    for (const name of ["Map", "Set", "Symbol", "BigInt", "TextEncoder", "Buffer", "RangeError", "exports"]) assert.ok(list.absent.includes(name), name);
    assert.ok(!list.esp32Globals.some((n: string) => /^D\d+$/.test(n)), "the checker adds the pins D0..D39 itself");
    // host-sim/espruino-globals.ts carries the same lists for the simulator.
    assert.deepEqual([...ESP32_GLOBAL_NAMES].sort(), list.esp32Globals);
    assert.deepEqual([...ESP32_BUILTIN_MODULES].sort(), list.esp32Modules);
  });
});
