// npm run flash as a user runs it: the settings checked before anything is built or sent, the
// espruino-tools configuration that keeps every module lookup off (no online lookup, nothing
// but our Storage files and the app in the upload), and a missing serial device.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// @ts-expect-error: plain ESM JavaScript with JSDoc types
import { checkConfig, espruinoArgs, parseFlashArgs, prepareUpload, requiredModules, STORAGE_MODULES } from "../../scripts/flash.mjs";
import { DEMO_KEY_HEX } from "./helpers/processes.js";

const EXAMPLE = JSON.parse(readFileSync("boards/config.example.json", "utf8"));
/** The example with the Wi-Fi filled in, as a user would after copying it. */
const FILLED = { ...EXAMPLE, ssid: "lab", password: "lab-password" };
const APP = "dist/app-esp32.js";

/** The bytes each Storage file gets from an upload text: `require("Storage").write(name, atob(..), offset[, size])` calls. */
const STORAGE_WRITE = /^require\("Storage"\)\.write\("([^"]+)",atob\("([^"]*)"\),(\d+)(?:,(\d+))?\)$/;
function storageWrites(lines: string[]): Map<string, string> {
  const files = new Map<string, Array<[number, string]>>();
  for (const line of lines) {
    const m = STORAGE_WRITE.exec(line);
    if (!m) continue;
    const parts = files.get(m[1]) || [];
    parts.push([Number(m[3]), Buffer.from(m[2], "base64").toString("latin1")]);
    files.set(m[1], parts);
  }
  const out = new Map<string, string>();
  for (const [name, parts] of files)
    out.set(
      name,
      parts
        .sort((a, b) => a[0] - b[0])
        .map((p) => p[1])
        .join(""),
    );
  return out;
}

function withoutNotes(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([name]) => !name.startsWith("_")));
}

function flash(args: string[]) {
  const result = spawnSync(process.execPath, ["scripts/flash.mjs", ...args], { encoding: "utf8", timeout: 50000 });
  return { ...result, output: result.stdout + result.stderr };
}

function configFile(config: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), "lwstcp-flash-")), "config.json");
  writeFileSync(file, typeof config === "string" ? config : JSON.stringify(config, null, 2));
  return file;
}

describe("npm run flash", function () {
  this.timeout(60000);

  it("--out writes an upload of exactly our Storage files and the app: no module looked up, none added", () => {
    const out = join(mkdtempSync(join(tmpdir(), "lwstcp-flash-")), "upload.js");
    const result = flash(["--out", out, "--config", configFile(FILLED), "--no-build"]);
    assert.equal(result.status, 0, result.output);
    assert.match(
      result.stdout,
      /^npm run flash: Storage files lwstcp \(dist\/lwstcp\.js, \d+ bytes\), lwstcp-xtea \(dist\/lwstcp-xtea\.js, \d+ bytes\), lwstcp-config\.json \(\S+ without its _ fields\); app dist\/app-esp32\.js as the program \(runs until reset\); into \S+upload\.js \(dry run, no board\)$/m,
    );
    // The tool says what it looks up: nothing, neither online nor in a local modules/ folder.
    for (const sign of ["getURL", "espruino.com", "banglejs.com", "loadModule", "not found", "Loading local module"])
      assert.ok(!result.output.includes(sign), `"${sign}" in the tool's output:\n${result.output}`);
    const upload = readFileSync(out, "latin1");
    assert.ok(!upload.includes("Modules.addCached"), "no module added to the cache");
    const lines = upload.split("\n").filter((l) => l.trim() !== "");
    const writes = lines.filter((l) => STORAGE_WRITE.test(l));
    const rest = lines.filter((l) => !STORAGE_WRITE.test(l));
    assert.deepEqual(rest, [readFileSync(APP, "latin1").trim()], "after the Storage writes: the app and nothing else");
    const files = storageWrites(writes);
    assert.deepEqual([...files.keys()].sort(), ["lwstcp", "lwstcp-config.json", "lwstcp-xtea"]);
    assert.equal(files.get("lwstcp"), readFileSync("dist/lwstcp.js", "latin1"));
    assert.equal(files.get("lwstcp-xtea"), readFileSync("dist/lwstcp-xtea.js", "latin1"));
    assert.deepEqual(JSON.parse(files.get("lwstcp-config.json") || ""), withoutNotes(FILLED), "the settings without their _ notes");
    assert.ok(!(files.get("lwstcp-config.json") || "").includes("_note"));
  });

  it("lwstcp-flash --app uploads your bundle and your settings (any JSON object) with the library; no build", () => {
    const dir = mkdtempSync(join(tmpdir(), "lwstcp-flash-"));
    const app = join(dir, "app.js");
    writeFileSync(app, 'var cfg=require("Storage").readJSON("lwstcp-config.json",1);setInterval(function(){digitalWrite(D2,1);print(cfg.every)},1e3);\n');
    const settings = { ssid: "lab", password: "pw", every: 5, _note: "stays here" };
    const out = join(dir, "upload.js");
    const result = spawnSync(process.execPath, ["scripts/lwstcp-flash.mjs", "--app", app, "--config", configFile(settings), "--out", out], {
      encoding: "utf8",
      timeout: 50000,
    });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /^lwstcp-flash: Storage files lwstcp \(dist\/lwstcp\.js, \d+ bytes\), lwstcp-xtea \(dist\/lwstcp-xtea\.js, \d+ bytes\), lwstcp-config\.json \(\S+ without its _ fields\); app \S+app\.js as the program/m,
    );
    const lines = readFileSync(out, "latin1")
      .split("\n")
      .filter((l) => l.trim() !== "");
    const files = storageWrites(lines.filter((l) => STORAGE_WRITE.test(l)));
    assert.deepEqual([...files.keys()].sort(), ["lwstcp", "lwstcp-config.json", "lwstcp-xtea"]);
    assert.equal(files.get("lwstcp"), readFileSync("dist/lwstcp.js", "latin1"));
    assert.deepEqual(JSON.parse(files.get("lwstcp-config.json") || ""), { ssid: "lab", password: "pw", every: 5 });
    assert.deepEqual(
      lines.filter((l) => !STORAGE_WRITE.test(l)),
      [readFileSync(app, "latin1").trim()],
      "after the Storage writes: your app and nothing else",
    );

    // Without --config: the library (and its cipher) and the app only; a missing app: one line, exit 2.
    const bare = spawnSync(process.execPath, ["scripts/lwstcp-flash.mjs", "--app", app, "--out", out, "--save"], { encoding: "utf8", timeout: 50000 });
    assert.equal(bare.status, 0, bare.stderr);
    assert.deepEqual([...storageWrites(readFileSync(out, "latin1").split("\n")).keys()].sort(), [".bootcde", "lwstcp", "lwstcp-xtea"]);
    const missing = spawnSync(process.execPath, ["scripts/lwstcp-flash.mjs", "--app", join(dir, "nope.js"), "--out", out], {
      encoding: "utf8",
      timeout: 50000,
    });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^lwstcp-flash: \S+nope\.js not found: build it with lwstcp-firmware build/);
  });

  it("configures espruino-tools so that no require() reaches a lookup: our modules are the board's own, MODULE_URL is empty", () => {
    const dir = mkdtempSync(join(tmpdir(), "lwstcp-flash-"));
    const options = parseFlashArgs(["--out", join(dir, "u.js")]);
    const prepared = prepareUpload(options, withoutNotes(FILLED), dir);
    const args: string[] = espruinoArgs(options, prepared);
    assert.deepEqual(args.slice(0, 4), ["--board", prepared.boardFile, "--config", "MODULE_URL="]);
    // A v1 board gets the written-out cipher beside the library; a v2 board the v2 engine instead.
    assert.equal(prepared.profile, "v1");
    assert.ok(args.includes("lwstcp-xtea:dist/lwstcp-xtea.js"), args.join(" "));
    const board = JSON.parse(readFileSync(prepared.boardFile, "utf8"));
    for (const name of STORAGE_MODULES) assert.ok(board.info.builtin_modules.includes(name), name + " counts as the board's own");
    // Every module the app asks for is built in or ours, so the tool has nothing to look for.
    assert.deepEqual(
      requiredModules(readFileSync(APP, "latin1")).filter((m: string) => !board.info.builtin_modules.includes(m)),
      [],
    );
    assert.deepEqual(prepared.foreign, []);
    // The tool's own account, verbose: the setting took, and its module loader never ran.
    const verbose = spawnSync(process.execPath, ["node_modules/espruino/bin/espruino-cli.js", "-v", ...args], { encoding: "utf8", timeout: 50000 });
    const said = verbose.stdout + verbose.stderr;
    assert.equal(verbose.status, 0, said);
    assert.match(said, /Command-line option set Espruino\.Config\.MODULE_URL to ""/);
    assert.ok(!/loadModule\(|getURL\(|Loading local module/.test(said), said);
    assert.deepEqual(espruinoArgs(parseFlashArgs(["--port", "/dev/ttyUSB0", "--save"]), { ...prepared, profile: "v2" }).slice(4), [
      "--storage",
      "lwstcp:dist/lwstcp.js",
      "--storage",
      "lwstcp-config.json:" + prepared.configFile,
      "--storage",
      "lwstcp-v2:dist/lwstcp-v2.js",
      "--storage",
      ".bootcde:dist/app-esp32.js",
      "-e",
      "load()",
      "-p",
      "/dev/ttyUSB0",
      "-b",
      "115200",
    ]);
  });

  it("checks every field the demo reads, one line naming each problem", () => {
    const problems = (change: Record<string, unknown>) => checkConfig(JSON.stringify({ ...FILLED, ...change })).problems;
    assert.deepEqual(checkConfig(JSON.stringify(FILLED)).problems, []);
    assert.deepEqual(checkConfig('{ "ssid": "lab", }').problems.length, 1);
    assert.match(checkConfig('{ "ssid": "lab", }').problems[0], /^not valid JSON: /);
    assert.match(checkConfig("[1]").problems[0], /must be a JSON object/);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ssid: "your-wifi-name" }, /^ssid is still the example's placeholder "your-wifi-name"/],
      [{ password: "your-wifi-password" }, /^password is still the example's placeholder/],
      [{ ssid: "" }, /^ssid must be the name of your Wi-Fi network, got ""/],
      [{ password: 1234 }, /^password must be a string/],
      [{ port: 70000 }, /^port must be a whole number from 1 to 65535, got 70000$/],
      [{ port: 0 }, /^port must be a whole number from 1 to 65535, got 0$/],
      [{ port: "12345" }, /^port must be a whole number from 1 to 65535, got "12345"$/],
      [{ key: "zz" }, /^key must be 64 hex digits or 8 u32 words \(an array of numbers\), got "zz"$/],
      [{ key: [1, 2, 3] }, /^key must be 64 hex digits or 8 u32 words .*, got 3 words$/],
      [{ key: [1, 2, 3, 4, 5, 6, 7, "0x12345678"] }, /^key: word 7 \("0x12345678"\) is not a u32 number/],
      [{ role: "fizzbuzz" }, /^role must be "client" or "server", got "fizzbuzz"$/],
      [{ profile: "v3" }, /^profile must be "v1" or "v2", got "v3"$/],
      [{ rounds: 0 }, /^rounds must be a whole number from 1 to 128, got 0$/],
      [{ count: -1 }, /^count must be a whole number, 0 or more/],
      [{ count: 1.5 }, /^count must be a whole number/],
      [{ keepAliveMs: 0 }, /^keepAliveMs must be a whole number of ms/],
      [{ timeoutMs: 0 }, /^timeoutMs must be a whole number of ms, 1 or more, or -1/],
      [{ keepAliveMs: 5000, timeoutMs: 4000 }, /^keepAliveMs \(5000\) must be shorter than timeoutMs \(4000\)$/],
      [{ host: undefined }, /^host must be the server's address/],
      [{ profile: "v2", deviceId: "two words" }, /^deviceId: a device id may hold only printable ASCII .*, got "two words"$/],
      [{ profile: "v2", deviceId: "" }, /^deviceId: a device id must be a string of 1 to 32 characters/],
      [{ deviceId: "kitchen-1" }, /^deviceId needs "profile": "v2"/],
    ];
    for (const [change, message] of cases) {
      const found = problems(change);
      assert.equal(found.length, 1, JSON.stringify(change) + " → " + JSON.stringify(found));
      assert.match(found[0], message, JSON.stringify(change));
    }
    assert.deepEqual(problems({ role: "server", host: undefined }), []);
    assert.deepEqual(problems({ key: [305419896, 2596069104, 324478056, 2901139201, 287454020, 1432778632, 2578103244, 3723427584] }), []);
    assert.deepEqual(problems({ keepAliveMs: 1000, timeoutMs: -1 }), []);
    assert.deepEqual(problems({ profile: "v2", deviceId: "kitchen-1" }), []);
    const warned = checkConfig(JSON.stringify({ ...FILLED, roudns: 16 })).warnings;
    assert.ok(
      warned.some((w: string) => /^unknown field "roudns"/.test(w)),
      warned.join("\n"),
    );
    assert.ok(warned.some((w: string) => /public demo key/.test(w)));
  });

  it("refuses bad settings before building or sending: exit 2, one line per problem, no stack", () => {
    const example = flash(["--out", "x.js", "--config", "boards/config.example.json"]);
    assert.equal(example.status, 2, example.output);
    const errors = example.stderr.split("\n").filter((l) => l.startsWith("npm run flash: boards/config.example.json: "));
    assert.equal(errors.length, 2, example.stderr);
    assert.match(errors[0], /ssid is still the example's placeholder "your-wifi-name"/);
    assert.match(errors[1], /password is still the example's placeholder/);
    assert.match(example.stderr, /warning: .*key is the public demo key/);
    assert.ok(!/created\b/.test(example.output) && !example.output.includes("Espruino Command-line Tool"), "nothing built or run: " + example.output);
    const syntax = flash(["--out", "x.js", "--config", configFile('{ "ssid": "lab",, }'), "--no-build"]);
    assert.equal(syntax.status, 2);
    assert.equal(syntax.stderr.trim().split("\n").length, 1, syntax.stderr);
    assert.match(syntax.stderr, /config\.json: not valid JSON: /);
    const port = flash(["--out", "x.js", "--config", configFile({ ...FILLED, key: DEMO_KEY_HEX.slice(2), port: 70000 }), "--no-build"]);
    assert.equal(port.status, 2);
    assert.deepEqual(
      port.stderr
        .trim()
        .split("\n")
        .map((l) => l.replace(/^npm run flash: \S+config\.json: /, "")),
      [
        "port must be a whole number from 1 to 65535, got 70000",
        'key must be 64 hex digits or 8 u32 words (an array of numbers), got "' + DEMO_KEY_HEX.slice(2) + '"',
      ],
    );
    for (const r of [example, syntax, port]) assert.ok(!/\n\s+at /.test(r.output), r.output);
  });

  it("a serial device that does not exist: one line naming it and the connected boards, exit 2", () => {
    const result = flash(["--port", "/dev/ttyUSB97", "--config", configFile(FILLED), "--no-build"]);
    assert.equal(result.status, 2, result.output);
    const lines = result.stderr.split("\n").filter((l) => !l.startsWith("!!!") && !/warning:/.test(l) && l !== "");
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0], /^npm run flash: no serial device \/dev\/ttyUSB97; connected boards: /);
    assert.ok(!result.output.includes("Espruino Command-line Tool"), "the tool never started");
  });

  it("refuses a missing settings file and a bad flag with exit 2; --help lists the flags", () => {
    const missing = flash(["--out", "x.js", "--config", "boards/nope.json", "--no-build"]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^npm run flash: boards\/nope\.json not found/);
    assert.throws(() => parseFlashArgs([]), /exactly one of --port/);
    assert.throws(() => parseFlashArgs(["--port"]), /needs a value/);
    assert.throws(() => parseFlashArgs(["--out", "x", "--baud", "fast"]), /--baud must be a whole number/);
    const help = flash(["--help"]);
    assert.equal(help.status, 0);
    for (const flag of ["--port DEVICE", "--out FILE", "--save", "--baud N", "--board NAME", "--config FILE", "--no-build"])
      assert.ok(help.stdout.includes(flag), flag);
  });
});
