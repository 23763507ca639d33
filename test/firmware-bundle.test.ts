// The built firmware bundles as files: the size budget, the module surface with the C++ names
// (the library loaded as Espruino loads a module body) and the board facts baked in. The
// flash script's upload is in firmware-flash.test.ts.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import vm from "node:vm";
// @ts-expect-error: plain ESM JavaScript with JSDoc types
import { LIBRARY_BUDGET_BYTES, readBoards } from "../../scripts/boards.mjs";

const LIBRARY = "dist/lwstcp.js";

/** Runs the library as a module body with `exports`, as Storage modules and Modules.addCached run it. */
function loadLibrary(): Record<string, any> {
  const exports: Record<string, any> = {};
  const context = vm.createContext({ Uint8Array, Uint32Array, Math, Date, Error, String, Object, console, process: { env: { BOARD: "ESP32" } } });
  vm.runInContext(`(function (exports, module) {\n${readFileSync(LIBRARY, "latin1")}\n})`, context)(exports, { exports });
  return exports;
}

describe("firmware: bundles and upload", function () {
  this.timeout(60000);

  it(`dist/lwstcp.js stays within the ${LIBRARY_BUDGET_BYTES}-byte build gate`, () => {
    const size = readFileSync(LIBRARY).length;
    assert.ok(size <= LIBRARY_BUDGET_BYTES, `${size} bytes`);
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
      "setDeviceId",
      "setHandshakeKey",
      "setNumberOfRounds",
      "setProfile",
    ]);
    const client = new lw.LightweightSecureClient("127.0.0.1", 1);
    for (const m of [
      "setHandshakeKey",
      "setNumberOfRounds",
      "setProfile",
      "setDeviceId",
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
});
