// The built firmware bundles as files: the size budget, the module surface with the C++ names
// (the library loaded as Espruino loads a module body), the board facts baked in, and the
// flash script's dry run writing the library into Storage.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import vm from "node:vm";
// @ts-expect-error: plain ESM JavaScript with JSDoc types
import { LIBRARY_BUDGET_BYTES, LIBRARY_TARGET_BYTES, readBoards } from "../../scripts/boards.mjs";
// @ts-expect-error: plain ESM JavaScript with JSDoc types
import { espruinoArgs, parseFlashArgs } from "../../scripts/flash.mjs";

const LIBRARY = "dist/lwstcp.js";

/** Runs the library as a module body with `exports`, as Storage modules and Modules.addCached run it. */
function loadLibrary(): Record<string, any> {
  const exports: Record<string, any> = {};
  const context = vm.createContext({ Uint8Array, Uint32Array, Math, Date, Error, String, Object, console, process: { env: { BOARD: "ESP32" } } });
  vm.runInContext(`(function (exports, module) {\n${readFileSync(LIBRARY, "latin1")}\n})`, context)(exports, { exports });
  return exports;
}

/** The bytes each Storage file gets from an upload text: `require("Storage").write(name, atob(..), offset[, size])` calls. */
function storageWrites(upload: string): Map<string, string> {
  const files = new Map<string, Array<[number, string]>>();
  const re = /require\("Storage"\)\.write\("([^"]+)",atob\("([^"]*)"\),(\d+)(?:,(\d+))?\)/g;
  for (let m = re.exec(upload); m; m = re.exec(upload)) {
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

describe("firmware: bundles and upload", function () {
  this.timeout(60000);

  it(`dist/lwstcp.js stays within the ${LIBRARY_BUDGET_BYTES}-byte build gate`, () => {
    const size = readFileSync(LIBRARY).length;
    assert.ok(size <= LIBRARY_BUDGET_BYTES, `${size} bytes`);
    if (size > LIBRARY_TARGET_BYTES) console.log(`      note: dist/lwstcp.js is ${size} bytes; issue 4 asks for ${LIBRARY_TARGET_BYTES}`);
  });

  it("one app bundle per board file, each naming its board", () => {
    const boards = readBoards();
    assert.ok(boards.length >= 1);
    for (const b of boards) assert.match(readFileSync(join("dist", b.app), "latin1"), new RegExp(`"${b.board}"`));
  });

  it("exports the C++ names as a module body", () => {
    const lw = loadLibrary();
    assert.deepEqual(Object.keys(lw).sort(), [
      "LightweightSecureClient",
      "LightweightSecureServer",
      "Session",
      "setHandshakeKey",
      "setNumberOfRounds",
      "setProfile",
    ]);
    const client = new lw.LightweightSecureClient("127.0.0.1", 1);
    for (const m of [
      "setHandshakeKey",
      "setNumberOfRounds",
      "setProfile",
      "setKeepAliveConfig",
      "connectToServer",
      "sendMessage",
      "disconnect",
      "isConnected",
      "setOnConnected",
      "setOnDisconnected",
      "setOnMessageReceived",
      "setOnHandshakeSuccess",
      "setOnHandshakeFailed",
      "setOnError",
      "setOnDataSent",
      "setAutoReconnect",
    ]) {
      assert.equal(typeof client[m], "function", "client." + m);
    }
    const server = new lw.LightweightSecureServer(1);
    for (const m of [
      "start",
      "stop",
      "setHandshakeKey",
      "setNumberOfRounds",
      "setProfile",
      "setKeepAliveConfig",
      "setOnHandshakeSuccess",
      "setOnHandshakeFailed",
      "setOnError",
    ]) {
      assert.equal(typeof server[m], "function", "server." + m);
    }
    const session = new lw.Session();
    for (const m of ["sendMessage", "disconnect", "isActive", "setOnMessageReceived", "setOnSessionEnded", "setOnDataSent", "setOnError"]) {
      assert.equal(typeof session[m], "function", "session." + m);
    }
    assert.equal(client.isConnected(), false);
    assert.throws(() => client.connectToServer(), /no handshake key/);
    assert.throws(() => lw.setHandshakeKey("abcd"), /64 hex digits/);
    assert.throws(() => client.setKeepAliveConfig(1000, 500), /shorter than the inactivity timeout/);
  });

  it("bakes the board facts (RNG register) into the library", () => {
    const esp32 = readBoards().find((b: { board: string }) => b.board === "ESP32");
    const source = readFileSync(LIBRARY, "latin1");
    assert.ok(source.includes(String(esp32.rngRegister)) || source.toLowerCase().includes("0x" + esp32.rngRegister.toString(16)));
  });

  it("flash arguments: the library and config as Storage files, the app as program or .bootcde", () => {
    assert.deepEqual(espruinoArgs(parseFlashArgs(["--out", "u.js"])), [
      "--board",
      "boards/ESP32.json",
      "--storage",
      "lwstcp:dist/lwstcp.js",
      "--storage",
      "lwstcp-config.json:boards/config.json",
      "dist/app-esp32.js",
      "-n",
      "-o",
      "u.js",
    ]);
    assert.deepEqual(espruinoArgs(parseFlashArgs(["--port", "/dev/ttyUSB0", "--save"])).slice(6), [
      "--storage",
      ".bootcde:dist/app-esp32.js",
      "-e",
      "load()",
      "-p",
      "/dev/ttyUSB0",
      "-b",
      "115200",
    ]);
    assert.throws(() => parseFlashArgs([]), /exactly one of --port/);
    assert.throws(() => parseFlashArgs(["--port"]), /needs a value/);
  });

  it("npm run flash -- --out writes an upload text that stores the library byte for byte, the config, and the app", () => {
    const out = join(mkdtempSync(join(tmpdir(), "lwstcp-flash-")), "upload.js");
    const result = spawnSync(process.execPath, ["scripts/flash.mjs", "--out", out, "--config", "boards/config.example.json", "--no-build"], {
      encoding: "utf8",
      timeout: 50000,
    });
    assert.equal(result.status, 0, result.stderr);
    const upload = readFileSync(out, "latin1");
    const files = storageWrites(upload);
    assert.equal(files.get("lwstcp"), readFileSync(LIBRARY, "latin1"));
    assert.deepEqual(JSON.parse(files.get("lwstcp-config.json") || ""), JSON.parse(readFileSync("boards/config.example.json", "utf8")));
    assert.ok(upload.includes(readFileSync("dist/app-esp32.js", "latin1").trim()), "the app follows the Storage writes");
  });

  it("npm run flash refuses a missing config with exit code 2", () => {
    const result = spawnSync(process.execPath, ["scripts/flash.mjs", "--out", "x.js", "--config", "boards/nope.json", "--no-build"], { encoding: "utf8" });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /boards\/nope\.json not found/);
  });
});
