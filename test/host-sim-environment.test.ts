// Fidelity of the simulated language environment against ESPRUINO.md §2 (built-ins), §2.4 (timers,
// events) and §4 (uncaught errors).
import assert from "node:assert/strict";
import { assertHealthy, bootDevice, sleep, stopAllDevices } from "./helpers/host-sim.js";

function evaluate(source: string): unknown {
  const device = bootDevice();
  const value = device.run(source);
  assertHealthy(device);
  return value;
}

describe("host-sim environment (ESPRUINO.md §2)", function () {
  afterEach(stopAllDevices);

  it("§2.2: globals Espruino lacks are absent (Map, Set, Symbol, BigInt, TextEncoder, Buffer, queueMicrotask, setImmediate, Reflect, Proxy, WeakMap, RangeError)", () => {
    const names = [
      "Map",
      "Set",
      "Symbol",
      "BigInt",
      "TextEncoder",
      "TextDecoder",
      "Buffer",
      "queueMicrotask",
      "setImmediate",
      "Reflect",
      "Proxy",
      "WeakMap",
      "WeakSet",
      "RangeError",
      "Intl",
      "structuredClone",
      "exports",
      "module",
    ];
    const types = evaluate(`[${names.map((n) => `typeof ${n}`).join(",")}]`) as string[];
    assert.deepEqual(
      [...types],
      names.map(() => "undefined"),
    );
  });

  it("§2.2: absent members — Math.imul/clz32/trunc, Number.isInteger, Array.from, Object.freeze, Promise.race/allSettled/any/finally", () => {
    const types = evaluate(`[typeof Math.imul, typeof Math.clz32, typeof Math.trunc, typeof Number.isInteger,
      typeof Array.from, typeof Object.freeze, typeof Promise.race, typeof Promise.allSettled, typeof Promise.any,
      typeof Promise.resolve(1).finally, typeof "".trimStart, typeof [].at, typeof [].lastIndexOf]`) as string[];
    assert.deepEqual([...types], new Array(13).fill("undefined"));
  });

  it("§2.2: what Espruino has stays: Promise.all, Object.assign, String padStart, Math.sign, DataView, getTime, E, Modules, require, process", () => {
    const types = evaluate(`[typeof Promise.all, typeof Object.assign, typeof "".padStart, typeof Math.sign,
      typeof DataView, typeof getTime, typeof E, typeof Modules, typeof require, typeof process, typeof global, typeof globalThis]`) as string[];
    assert.deepEqual(
      [...types],
      ["function", "function", "function", "function", "function", "function", "object", "object", "function", "object", "object", "object"],
    );
  });

  it("§2.1: Array.prototype.slice, String.prototype.charCodeAt and Function.prototype.call are undefined while [].slice, ''.charCodeAt and f.call work", () => {
    const result = evaluate(`[typeof Array.prototype.slice, typeof String.prototype.charCodeAt, typeof Function.prototype.call,
      typeof [].slice, typeof "".charCodeAt, typeof (function () {}).call, typeof Object.prototype.hasOwnProperty,
      [1, 2, 3].slice(1).join(), "A".charCodeAt(0)]`) as unknown[];
    assert.deepEqual([...result], ["undefined", "undefined", "undefined", "function", "function", "function", "function", "2,3", 65]);
  });

  it("§2.1: the prelude shim Array.prototype.slice = [].slice works and is then seen by every array", () => {
    assert.equal(evaluate(`Array.prototype.slice = [].slice; Array.prototype.slice.call([5, 6, 7], 1).join()`), "6,7");
  });

  it("§1.4: TypeScript's __spreadArray (Array.prototype.slice.call) fails as on the device", () => {
    const device = bootDevice();
    device.run(`var copy = Array.prototype.slice.call([1, 2]);`);
    assert.equal(device.uncaught.length, 1);
  });

  it("§2.3: typed-array slice() and filter() return a plain Array; ArrayBuffer has no slice", () => {
    const result = evaluate(`var u = new Uint8Array([1, 2, 3]);
      [Array.isArray(u.slice(1)), Array.isArray(u.filter(function (x) { return x > 1; })), u.slice(1).join(),
       typeof new ArrayBuffer(4).slice, typeof ArrayBuffer.isView, u.subarray(1) instanceof Uint8Array]`) as unknown[];
    assert.deepEqual([...result], [true, true, "2,3", "undefined", "undefined", true]);
  });

  it("§2.2 Errors: new TypeError() instanceof Error is false, e.name undefined, String(e) 'TypeError: m'", () => {
    const result = evaluate(`var e = new TypeError("m");
      [e instanceof Error, e.name, String(e), new ReferenceError("r") instanceof Error, new Error("x") instanceof Error, String(new Error("x"))]`) as unknown[];
    assert.deepEqual([...result], [false, undefined, "TypeError: m", false, true, "Error: x"]);
  });

  it("a firmware bug using a global Espruino lacks (new Map()) is an uncaught ReferenceError on the device", () => {
    const device = bootDevice();
    device.run(`var sessions = new Map();`);
    assert.equal(device.uncaught.length, 1);
    assert.match(device.uncaught[0].printed, /^Uncaught ReferenceError: .*Map/);
  });
});

describe("host-sim timers and events (ESPRUINO.md §2.4, §4)", function () {
  afterEach(stopAllDevices);

  it("clearTimeout(undefined) and clearInterval(undefined) throw; clearTimeout(null) and unknown ids are fine", () => {
    const result = evaluate(`var out = [];
      try { clearTimeout(undefined); out.push("no throw"); } catch (e) { out.push(String(e)); }
      try { clearInterval(undefined); out.push("no throw"); } catch (e) { out.push(String(e)); }
      clearTimeout(null); clearTimeout(12345); out`) as string[];
    assert.deepEqual(
      [...result],
      ["Error: clearTimeout(undefined) not allowed. Use clearTimeout() instead", "Error: clearInterval(undefined) not allowed. Use clearInterval() instead"],
    );
  });

  it("clearTimeout() with no argument clears every timeout and interval; ids are numbers from 1", async () => {
    const device = bootDevice();
    device.run(`var a = setTimeout(function () { print("timeout ran"); }, 5);
      var b = setInterval(function () { print("interval ran"); }, 5);
      print(typeof a + " " + a + " " + b);
      clearTimeout();`);
    await sleep(40);
    assert.deepEqual(device.consoleLines, ["number 1 2"]);
  });

  it("an uncaught exception in a callback prints 'Uncaught Error: …', is recorded, and the loop goes on (a throwing interval keeps firing)", async () => {
    const device = bootDevice();
    device.run(`var n = 0;
      var iv = setInterval(function () { n++; if (n === 3) { clearInterval(iv); setTimeout(function () { print("still alive"); }, 20); } throw new Error("boom " + n); }, 5);`);
    await device.waitForConsole("still alive");
    assert.deepEqual(
      device.uncaught.map((u) => u.printed),
      ["Uncaught Error: boom 1", "Uncaught Error: boom 2", "Uncaught Error: boom 3"],
    );
  });

  it("process.on('uncaughtException') receives the error and suppresses the print", async () => {
    const device = bootDevice();
    device.run(`process.on("uncaughtException", function (e) { print("handled " + e.message); });
      setTimeout(function () { throw new Error("x"); }, 1);`);
    await device.waitForConsole("handled x");
    assert.equal(device.uncaught.length, 0);
  });

  it("emit is asynchronous, listeners are own '#on<ev>' properties, and more than 4 arguments throws", async () => {
    const device = bootDevice();
    device.run(`var o = {};
      o.on("ev", function (a, b) { print("listener " + a + b + " this=" + (this === o)); });
      o.emit("ev", 1, 2);
      print("after emit; keys=" + Object.keys(o).join());
      try { o.emit("ev", 1, 2, 3, 4, 5); } catch (e) { print(String(e)); }`);
    await device.waitForConsole("listener");
    assert.deepEqual(device.consoleLines, ["after emit; keys=#onev", "TypeError: Too many arguments (>4)", "listener 12 this=true"]);
  });

  it('require: cached module → built-in → Storage file (module body assigns exports), missing → Error: Module "x" not found', () => {
    const device = bootDevice({ storage: { greet: `exports.hello = function (n) { return "hi " + n; };`, mod2: `module.exports = 42;` } });
    device.run(`Modules.addCached("./util", function () { exports.twice = function (x) { return 2 * x; }; });`);
    const result = device.run(`[require("./util").twice(4), require("greet").hello("bob"), require("mod2"),
      require("greet") === require("greet"), typeof require("net").connect, typeof require("Storage").read]`) as unknown[];
    assert.deepEqual([...result], [8, "hi bob", 42, true, "function", "function"]);
    device.run(`try { require("doesnotexist"); } catch (e) { print(e.message); }`);
    assert.deepEqual(device.consoleLines, ['Module "doesnotexist" not found']);
  });

  it('require("Storage") read/write/readJSON/writeJSON/list/erase on the device\'s files', () => {
    const device = bootDevice({ storage: { "lwstcp-config.json": `{"port":1234}` } });
    const result = device.run(`var S = require("Storage");
      S.write("bin", "\\x00\\xff"); S.writeJSON("j", {a: [1]});
      var r = [S.readJSON("lwstcp-config.json").port, S.read("bin").charCodeAt(1), S.readJSON("j").a[0], S.list().join()];
      S.erase("bin"); r.push(S.read("bin")); r`) as unknown[];
    assert.deepEqual([...result], [1234, 255, 1, "lwstcp-config.json,bin,j", undefined]);
    assert.equal(device.storage.read("j"), `{"a":[1]}`);
  });
});
