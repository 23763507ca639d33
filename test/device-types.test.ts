// The device types (lwstcp/device) against what they describe. Two halves:
// - compile time (this file is type-checked by `tsc` in npm test): firmware/lwstcp.ts's exports fit
//   device/lwstcp.d.ts and every public name of the real module is declared, and the Reason union
//   is exactly the core's REASON_* strings, so neither can change without the other;
// - run time: a project that names only "lwstcp/device" in its tsconfig compiles an application
//   that uses the ESP32 globals, and gets a type error for what the device lacks; the global names
//   the declarations offer are those scripts/espruino-globals.json lists, the file the checker and
//   the simulator read too.

import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import vm from "node:vm";
import ts from "typescript";
// @ts-expect-error: plain ESM JavaScript with JSDoc types
import { GLOBALS_FILE as CHECKER_GLOBALS_FILE, checkEspruinoSource, MISSING_METHODS, MISSING_STATICS } from "../../scripts/espruino-check.mjs";
import type * as Declared from "../device/lwstcp.js";
import type * as CoreConstants from "../firmware/core/constants.js";
import type * as V2Constants from "../firmware/core/v2/constants.js";
import type * as Real from "../firmware/lwstcp.js";
import { ESP32_ABSENT_MEMBERS, ESP32_BUILTIN_MODULES, ESP32_GLOBAL_NAMES, GLOBALS_FILE } from "../host-sim/espruino-globals.js";
import { shapeBuiltins } from "../host-sim/globals.js";

// ---- compile time -------------------------------------------------------------------------------

type Equal<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function typeCheck<T extends true>(_proof?: T): void {}

type RealModule = typeof Real;
/** Public fields the library's own classes share with their internals (not part of the documented API). */
type ClientInternals = "connection" | "onError" | "onDataSent";
type SessionInternals = "connection" | "onMessageReceived" | "onSessionEnded" | "onDataSent" | "onError";

// The real module's values fit the declared module (every declared member exists with a fitting type)…
const realFitsDeclared = (real: RealModule): Declared.Module => real;
// …and the real module has nothing the declarations leave out.
typeCheck<Equal<Exclude<keyof RealModule, keyof Declared.Module>, never>>();
typeCheck<Equal<Exclude<keyof InstanceType<RealModule["LightweightSecureClient"]>, keyof Declared.LightweightSecureClient | ClientInternals>, never>>();
typeCheck<Equal<Exclude<keyof InstanceType<RealModule["LightweightSecureServer"]>, keyof Declared.LightweightSecureServer>, never>>();
typeCheck<Equal<Exclude<keyof InstanceType<RealModule["Session"]>, keyof Declared.Session | SessionInternals>, never>>();
typeCheck<Equal<Real.HandshakeResult["success"], Declared.HandshakeResult["success"]>>();

type ReasonOf<M> = { [K in keyof M]: K extends `REASON_${string}` ? M[K] : never }[keyof M];
typeCheck<Equal<ReasonOf<typeof CoreConstants> | ReasonOf<typeof V2Constants>, Declared.Reason>>();
void realFitsDeclared;

// ---- run time -----------------------------------------------------------------------------------

const ROOT = resolve(".");
const FACTS = JSON.parse(readFileSync("scripts/espruino-globals.json", "utf8")) as {
  esp32Globals: string[];
  esp32Modules: string[];
  absent: string[];
  absentMembers: Record<string, string[]>;
  absentMethodNames: string[];
  esp32E: string[];
};
const PINS = Array.from({ length: 40 }, (_, i) => "D" + i);

/** Type-checks `files` in a project whose tsconfig names only the device types, the way a user's does. */
function compileProject(dir: string, files: Record<string, string>, moduleResolution: "node10" | "bundler"): ts.Diagnostic[] {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  mkdirSync(join(dir, "src"));
  symlinkSync(ROOT, join(dir, "node_modules", "lwstcp"), "dir");
  const config = {
    compilerOptions: {
      target: "es5",
      strict: true,
      noEmit: true,
      types: ["lwstcp/device"],
      moduleResolution,
      module: moduleResolution === "bundler" ? "esnext" : "commonjs",
    },
    include: ["src"],
  };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(config));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, "src", name), text);
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(dir, "tsconfig.json"),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(String(d.messageText)) },
  );
  assert.ok(parsed);
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  return [...ts.getPreEmitDiagnostics(program)];
}

function describeDiagnostics(diagnostics: ts.Diagnostic[]): string {
  return diagnostics
    .map(
      (d) =>
        (d.file ? d.file.fileName.replace(/.*\/src\//, "") + ":" + d.file.getLineAndCharacterOfPosition(d.start || 0).line : "") +
        " " +
        ts.flattenDiagnosticMessageText(d.messageText, "\n"),
    )
    .join("\n");
}

const APP = `var lw = require("lwstcp");
lw.setHandshakeKey("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
lw.setProfile("v1");
var client = new lw.LightweightSecureClient("192.168.1.10", 12345);
client.setAutoReconnect(true, 1000, 30000);
client.setOnHandshakeFailed(function (reason, detail) { print("failed", reason, detail); });
client.setOnDisconnected(function (reason) { console.log("lost", reason); });
client.setOnMessageReceived(function (message) {
  var bytes: Uint8Array = E.toUint8Array(message);
  var copy: string = E.toString(bytes);
  var command = JSON.parse(copy);
  if (command.led !== undefined) digitalWrite(D2, !!command.led);
});
var server = new lw.LightweightSecureServer(7000);
server.setMaxSessions(2);
server.setOnHandshakeSuccess(function (result, session) { if (result.success) session.sendMessage("hi"); });
server.setOnHandshakeFailed(function (result) { var r: string = result.reason; print(r); });
var timer = setInterval(function () {
  var reading = { t: getTime(), temp: E.getTemperature(), uptime: getTime(), free: process.memory().free, a0: analogRead(D36) };
  client.sendMessage(JSON.stringify(reading));
}, 5000);
changeInterval(timer, 10000);
var pressed = setWatch(function (e) { print(e.state, e.time); }, D0, { repeat: true, edge: "falling", debounce: 50 });
clearWatch(pressed);
pinMode(D4, "input_pullup");
var level: number = digitalRead(D4);
analogWrite(D25, 0.5);
var word: number = peek32(0x3ff75144) ^ E.hwRand();
var wifi = require("Wifi");
wifi.on("disconnected", function (details) { print(details.reason); });
wifi.connect("ssid", { password: "secret" }, function (error) { if (error) print(error); else client.connectToServer(); });
var storage = require("Storage");
var config = storage.readJSON("config.json", true);
storage.writeJSON("config.json", config);
var net = require("net");
net.createServer(function (socket) { socket.on("data", function (data) { socket.write(data); }); }).listen(23);
Modules.addCached("x", "exports.y = 1;");
new Promise<number>(function (resolve) { resolve(level + word); }).then(function (v) { print(v); });
save();
`;

describe("the device types (lwstcp/device)", function () {
  this.timeout(120000);
  const dir = join("build", "test", "device-types-project");
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const resolution of ["node10", "bundler"] as const) {
    it(`with only "types": ["lwstcp/device"] (moduleResolution ${resolution}), an application using the module and the ESP32 globals type-checks`, () => {
      const diagnostics = compileProject(dir, { "app.ts": APP }, resolution);
      assert.equal(describeDiagnostics(diagnostics), "");
    });
  }

  it("what ESP32 lacks is a type error: no DOM, no Node, no ES2015+ built-ins, no absent members", () => {
    const lacking: Record<string, string> = {
      "map.ts": "var m = new Map();",
      "set.ts": "var s = new Set();",
      "weakmap.ts": "var w = new WeakMap();",
      "symbol.ts": 'var s = Symbol("x");',
      "allsettled.ts": "Promise.allSettled([]);",
      "race.ts": "Promise.race([]);",
      "imul.ts": "Math.imul(1, 2);",
      "from.ts": "Array.from([1]);",
      "document.ts": "document.title;",
      "window.ts": "window.alert;",
      "buffer.ts": 'Buffer.from("x");',
      "argv.ts": "process.argv;",
      "textencoder.ts": "new TextEncoder();",
      "fetch.ts": 'fetch("x");',
      "bigint.ts": "BigInt(1);",
      "wrongpin.ts": "digitalWrite(D40, 1);",
      "wrongmode.ts": 'pinMode(D2, "pull-up");',
      "wrongmessage.ts": 'var c = new (require("lwstcp").LightweightSecureClient)("h", 1); c.sendMessage(42);',
      "wrongreason.ts": 'var c = new (require("lwstcp").LightweightSecureClient)("h", 1); c.setOnDisconnected(function (r: number) {});',
    };
    const diagnostics = compileProject(dir, lacking, "node10");
    for (const name of Object.keys(lacking)) {
      assert.ok(
        diagnostics.some((d) => d.file && d.file.fileName.endsWith("/src/" + name)),
        name + " (" + lacking[name] + ") should not type-check; got:\n" + describeDiagnostics(diagnostics),
      );
    }
  });

  it("declares only globals scripts/espruino-globals.json lists for ESP32, and every name it lists as absent is refused by the types or the checker", () => {
    const source = ts.createSourceFile("index.d.ts", readFileSync("device/index.d.ts", "utf8"), ts.ScriptTarget.ES5, true);
    const declared: string[] = [];
    let eMembers: string[] = [];
    for (const statement of source.statements) {
      if (ts.isFunctionDeclaration(statement) && statement.name) declared.push(statement.name.text);
      if (ts.isVariableStatement(statement)) {
        for (const d of statement.declarationList.declarations) {
          const name = (d.name as ts.Identifier).text;
          declared.push(name);
          if (name === "E" && d.type && ts.isTypeLiteralNode(d.type)) eMembers = d.type.members.map((m) => (m.name as ts.Identifier).text);
        }
      }
    }
    const known = new Set([...FACTS.esp32Globals, ...PINS]);
    assert.deepEqual(
      declared.filter((n) => !known.has(n)),
      [],
      "declared globals the ESP32 build does not have",
    );
    for (const needed of [
      "print",
      "console",
      "getTime",
      "setTimeout",
      "setInterval",
      "clearTimeout",
      "setWatch",
      "clearWatch",
      "pinMode",
      "digitalRead",
      "digitalWrite",
      "analogRead",
      "analogWrite",
      "E",
      "peek32",
      "process",
      "require",
      "save",
      "load",
      "Modules",
      ...PINS,
    ])
      assert.ok(declared.includes(needed), needed + " is declared");
    assert.deepEqual([...eMembers].sort(), [...FACTS.esp32E].sort(), "E's declared members are the file's esp32E");

    // Every absent name: a type error, or (the few ES5's own library declares) refused by the checker.
    const files: Record<string, string> = {};
    for (const name of FACTS.absent) files["absent-" + name + ".ts"] = "var x = " + name + ";";
    const diagnostics = compileProject(dir, files, "node10");
    const typeErrors = new Set(diagnostics.filter((d) => d.file).map((d) => d.file!.fileName.replace(/.*\/src\/absent-/, "").replace(/\.ts$/, "")));
    const byChecker = FACTS.absent.filter((n) => !typeErrors.has(n));
    for (const name of byChecker) {
      const { problems } = checkEspruinoSource("var x = " + name + ";");
      assert.ok(
        problems.some((p: { code: string }) => p.code === "unknown-global"),
        name + " is neither a type error nor refused by the checker",
      );
    }
    // ES5's library declares these; everything else absent is a type error.
    assert.deepEqual(byChecker.sort(), ["EvalError", "Intl", "RangeError", "URIError", "decodeURI", "encodeURI", "escape", "unescape"]);
  });
});

describe("one source of Espruino facts: scripts/espruino-globals.json", () => {
  it("the checker and the simulator read the same file and hold the same lists", () => {
    assert.equal(resolve(CHECKER_GLOBALS_FILE), resolve(GLOBALS_FILE));
    assert.deepEqual([...ESP32_GLOBAL_NAMES], FACTS.esp32Globals);
    assert.deepEqual([...ESP32_BUILTIN_MODULES], FACTS.esp32Modules);
    assert.deepEqual(ESP32_ABSENT_MEMBERS, FACTS.absentMembers);
    assert.deepEqual([...MISSING_METHODS].sort(), [...FACTS.absentMethodNames].sort());
    const statics = MISSING_STATICS as Record<string, string[]>;
    for (const [where, names] of Object.entries(FACTS.absentMembers)) {
      if (where.endsWith(".prototype")) continue;
      const receivers =
        where === "TypedArray"
          ? ["Uint8Array", "Int8Array", "Uint16Array", "Int16Array", "Uint32Array", "Int32Array", "Float32Array", "Float64Array"]
          : [where];
      for (const receiver of receivers) assert.deepEqual(statics[receiver], names, receiver);
    }
  });

  it("agree on every absent static: the checker refuses it and the simulated device does not have it", () => {
    const context = vm.createContext({});
    const intrinsics = shapeBuiltins(context);
    const disagreements: string[] = [];
    for (const [where, names] of Object.entries(FACTS.absentMembers)) {
      if (where.endsWith(".prototype") || where === "TypedArray") continue;
      for (const name of names) {
        const expression = where + "." + name;
        const refused = checkEspruinoSource("var x = " + expression + ";").problems.some((p: { code: string }) => p.code === "missing-member");
        const simulated = vm.runInContext("typeof " + expression, context) === "undefined" || intrinsics.undeletable.includes(expression);
        if (!refused || !simulated) disagreements.push(expression + (refused ? "" : " (checker accepts)") + (simulated ? "" : " (simulator has it)"));
      }
    }
    assert.deepEqual(disagreements, []);
  });
});
