// The device runner: the library as the Storage file "lwstcp" (ESPRUINO.md §11), the app as the
// uploaded program, settings in "lwstcp-config.json", and the static check before anything runs.
// The real bundles are built elsewhere; these tests use small hand-written Espruino programs.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Device } from "../host-sim/device.js";
import { bootFirmware } from "../host-sim/runner.js";
import { assertHealthy, type Peer, startPeer, stopAllDevices, until } from "./helpers/host-sim.js";

const LIBRARY = `
function greet(name) { return "hello " + name; }
exports.greet = greet;
exports.connect = function (config, onLine) {
  var s = require("net").connect({host: config.host, port: config.port}, function () { s.write("hi from device\\n"); });
  s.on("data", function (d) { onLine(d); });
  return s;
};`;

const APP = `
var lw = require("lwstcp");
var config = require("Storage").readJSON("lwstcp-config.json", true);
require("Wifi").connect(config.ssid, {password: config.password}, function (err) {
  if (err) { print("wifi failed " + err); return; }
  print(lw.greet("wifi"));
  lw.connect(config, function (line) { print("got " + line); });
});`;

const CONFIG = { ssid: "lab", password: "secret", host: "127.0.0.1", port: 0, key: "00".repeat(32), role: "client" as const };

describe("host-sim runner (library in Storage, app uploaded, static check first)", function () {
  const booted: Device[] = [];
  let peer: Peer | undefined;
  afterEach(async () => {
    for (const d of booted.splice(0)) d.stop();
    stopAllDevices();
    await peer?.close();
    peer = undefined;
  });

  it("boots the library from Storage 'lwstcp', reads lwstcp-config.json, joins Wi-Fi with its ssid/password and talks to a real peer", async () => {
    peer = await startPeer((socket) => socket.write("welcome"));
    const device = await bootFirmware({
      app: { source: APP, filename: "app.js" },
      library: { source: LIBRARY, filename: "lwstcp.js" },
      config: { ...CONFIG, port: peer.port },
    });
    booted.push(device);
    await device.waitForConsole("got welcome");
    assert.deepEqual(device.consoleLines, ["hello wifi", "got welcome"]);
    await until(() => peer!.receivedBytes().length >= 15, { what: "the device's greeting at the peer" });
    assert.equal(peer.receivedBytes().toString(), "hi from device\n");
    assert.equal(device.storage.read("lwstcp"), LIBRARY);
    assertHealthy(device);
  });

  it("a wrong Wi-Fi password gets AUTH_FAIL through the connect callback", async () => {
    const device = await bootFirmware({
      app: { source: APP, filename: "app.js" },
      library: { source: LIBRARY, filename: "lwstcp.js" },
      config: CONFIG,
      wifi: { password: "other" },
    });
    booted.push(device);
    await device.waitForConsole("wifi failed");
    assert.deepEqual(device.consoleLines, ["wifi failed AUTH_FAIL"]);
  });

  it("the static check refuses an app that is not ES5, uses an absent global, a TS helper or a name before its declaration", async () => {
    const cases: Array<[string, RegExp]> = [
      ["let x = 1;", /not-es5/],
      ["var m = new Map();", /unknown-global.*Map/],
      ["var C = __extends(function () {}, Object);", /ts-helper/],
      ["start(); function start() {}", /use-before-declaration/],
    ];
    for (const [source, expected] of cases) {
      await assert.rejects(bootFirmware({ app: { source, filename: "bad-app.js" }, library: null }), expected);
    }
    await assert.rejects(
      bootFirmware({ app: { source: "var ok = 1;", filename: "app.js" }, library: { source: "module.exports = { v: [1, , 2] };", filename: "lwstcp.js" } }),
      /lwstcp\.js:1/,
    );
  });

  it("npm run sim boots N devices with [devN] prefixes; an app with no lwstcp client or server fails the run, saying so", async function () {
    this.timeout(15000);
    peer = await startPeer((socket) => socket.write("welcome"));
    const dir = mkdtempSync(join(tmpdir(), "host-sim-cli-"));
    writeFileSync(join(dir, "lwstcp.js"), LIBRARY);
    writeFileSync(join(dir, "app.js"), APP);
    const run = promisify(execFile)(process.execPath, [
      "build/host-sim/cli.js",
      "--port",
      String(peer.port),
      "--devices",
      "2",
      "--app",
      join(dir, "app.js"),
      "--library",
      join(dir, "lwstcp.js"),
      "--duration",
      "2",
    ]);
    // This "library" is not lwstcp: no handshake, so the run fails (exit 1) and says why.
    const failed = await run.then(
      () => assert.fail("the run should fail"),
      (error: { code: number; stdout: string }) => error,
    );
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /^\[dev1\] hello wifi$/m);
    assert.match(failed.stdout, /^\[dev2\] got welcome$/m);
    assert.match(failed.stdout, /^summary: 2 devices, 0 completed a handshake, /m);
    assert.match(failed.stdout, /^result: FAILED: 0 of 2 devices completed a handshake: the app made no lwstcp client or server/m);
    assert.equal(peer.connections.length, 2);
  });
});
