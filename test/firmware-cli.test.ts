// lwstcp-firmware as a user runs it, in a project directory of their own: `build` turns a
// TypeScript app into a bundle the checker accepts and reports its size; a problem is reported at
// the user's .ts file and line, whether TypeScript finds it (a name the device lacks) or the
// Espruino check does (a member ES5's types have and Espruino does not); `check` runs the checker
// alone. The Rollup plugin (lwstcp/rollup) is the same pipeline: the same input gives the same bytes.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ESPRUINO_OUTPUT, espruino } from "lwstcp/rollup";
import { rollup } from "rollup";
// @ts-expect-error: plain ESM JavaScript with JSDoc types
import { checkEspruinoSource } from "../../scripts/espruino-check.mjs";

const CLI = resolve("scripts/lwstcp-firmware.mjs");
const DIR = resolve("build", "test", "firmware-cli-project");

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: DIR, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((done) => child.on("close", (code) => done({ code, stdout, stderr })));
}

function source(dir: string, text: string): void {
  mkdirSync(join(DIR, dir), { recursive: true });
  writeFileSync(join(DIR, dir, "app.ts"), text);
}

const GOOD = `var lw = require("lwstcp");
var client = new lw.LightweightSecureClient("127.0.0.1", 12345);
var led = false;
client.setOnMessageReceived(function (message) {
  var command = JSON.parse(message);
  if (command.led !== undefined) digitalWrite(D2, (led = !!command.led));
});
setInterval(function () {
  client.sendMessage(JSON.stringify({ t: getTime(), temp: E.getTemperature(), led: led }));
}, 5000);
client.connectToServer();
`;

describe("lwstcp-firmware build and check", function () {
  this.timeout(120000);
  before(() => {
    rmSync(DIR, { recursive: true, force: true });
    source("good", GOOD);
    source("frozen", 'var settings = { period: 5 };\nprint("booting");\nvar fixed = Object.freeze(settings);\nprint(fixed.period);\n');
    source("map", 'print("booting");\nvar seen = new Map<string, number>();\nprint(seen);\n');
    writeFileSync(join(DIR, "labelled.js"), "outer: for (var i = 0; i < 2; i++) { break outer; }\n");
  });
  after(() => rmSync(DIR, { recursive: true, force: true }));

  it("builds a TypeScript app into a bundle the Espruino check accepts, and reports its size and JsVars", async () => {
    const r = await run(["build", "good/app.ts", "--out", "dist/app.js"]);
    assert.equal(r.code, 0, r.stderr);
    const bundle = readFileSync(join(DIR, "dist", "app.js"), "latin1");
    assert.deepEqual(checkEspruinoSource(bundle).problems, []);
    assert.match(bundle, /require\("lwstcp"\)/);
    assert.match(r.stdout, /^dist\/app\.js: \d+ bytes, about \d+ JsVars of the ESP32's 16383 /);
    const checked = await run(["check", "dist/app.js"]);
    assert.equal(checked.code, 0, checked.stderr);
    assert.match(checked.stdout, /dist\/app\.js: runs on Espruino 2v29/);
  });

  it("points an Espruino check failure at the .ts file and line, not the bundle", async () => {
    const r = await run(["build", "frozen/app.ts", "--out", "dist/frozen.js"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^frozen\/app\.ts:3:\d+: missing-member: Object\.freeze does not exist on Espruino$/m);
    assert.match(r.stderr, /frozen\/app\.ts would not run on Espruino \(1 problem\)/);
  });

  it("points a type error (a built-in the device lacks) at the .ts file and line", async () => {
    const r = await run(["build", "map/app.ts", "--out", "dist/map.js"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^map\/app\.ts:2:\d+: TS\d+: Cannot find name 'Map'/m);
    assert.match(r.stderr, /map\/app\.ts does not compile/);
  });

  it("check alone reports each problem at its line and fails", async () => {
    const r = await run(["check", "labelled.js"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^labelled\.js:1:1: label: label outer/m);
  });

  it("the Rollup plugin (lwstcp/rollup) is the same pipeline: the same app, the same bytes", async () => {
    const r = await run(["build", "good/app.ts", "--out", "dist/cli.js"]);
    assert.equal(r.code, 0, r.stderr);
    const cwd = process.cwd();
    process.chdir(DIR);
    try {
      const bundle = await rollup({
        input: "good/app.ts",
        plugins: espruino({
          include: [join(DIR, "good", "**", "*.ts")],
          defines: { __LWSTCP_BOARD__: JSON.stringify("ESP32") },
          compilerOptions: { types: [resolve(cwd, "device")], lib: undefined },
        }),
      });
      const { output } = await bundle.generate({ ...ESPRUINO_OUTPUT });
      await bundle.close();
      assert.equal(output[0].code, readFileSync(join(DIR, "dist", "cli.js"), "utf8"));
    } finally {
      process.chdir(cwd);
    }
  });
});
