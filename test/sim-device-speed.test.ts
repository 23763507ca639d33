// The simulator's device speed: with one, a simulated board spends device CPU time on what goes
// through its sockets, and nothing else runs on it meanwhile (no timer, no other socket), as
// on the single-threaded interpreter. So a desktop server's inactivity timeout meets a device
// that is busy ciphering a long message, as it would with a real board.
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type SimulatedDevice, startDevice } from "lwstcp/sim";
import { deviceSpeed, ESP32_INSTRUCTIONS_PER_MS } from "../host-sim/device-speed.js";
import type { LightweightSecureServer } from "../server/index.js";
import { KEY_HEX, startServer, until } from "./helpers/server.js";

const DIR = join("build", "test", "sim-device-speed");
/** After the handshake: a timer, then a message of cfg.size bytes; prints when each ran (device clock = this process's). */
const APP = `var cfg = require("Storage").readJSON("lwstcp-config.json", true);
var lw = require("lwstcp");
lw.setHandshakeKey(cfg.key);
require("Wifi").connect(cfg.ssid, { password: cfg.password }, function () {
  var client = new lw.LightweightSecureClient(cfg.host, cfg.port);
  client.setKeepAliveConfig(250, 10000);
  client.setOnHandshakeSuccess(function () {
    var text = "";
    while (text.length < cfg.size) text += "abcdefgh";
    print("sending at " + Date.now());
    client.sendMessage(text.substr(0, cfg.size));
    setTimeout(function () { print("timer at " + Date.now()); }, 0);
  });
  client.setOnMessageReceived(function (text) {
    print("echo " + text.length + " at " + Date.now());
    setTimeout(function () { print("after-echo at " + Date.now()); }, 0);
  });
  client.setOnDisconnected(function (reason) { print("disconnected: " + reason); });
  client.connectToServer();
});
`;

function printedTime(device: SimulatedDevice, prefix: string): number {
  const line = device.consoleLines.find((l) => l.startsWith(prefix + " ") && l.includes(" at "));
  assert.ok(line, `no "${prefix}" line in:\n` + device.consoleLines.join("\n"));
  return Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("lwstcp/sim: a device speed makes device work take time", function () {
  this.timeout(30000);
  let device: SimulatedDevice | undefined;
  let server: LightweightSecureServer | undefined;
  before(() => {
    mkdirSync(DIR, { recursive: true });
    writeFileSync(join(DIR, "app.js"), APP);
  });
  afterEach(async () => {
    device?.stop();
    await server?.stop();
    device = server = undefined;
  });
  after(() => rmSync(DIR, { recursive: true, force: true }));

  async function run(size: number, speed: { msPerBlock: number; msPerEvent: number } | undefined, inactivityTimeoutMs: number) {
    const arrivals: Array<{ length: number; at: number }> = [];
    const ended: string[] = [];
    server = await startServer({ inactivityTimeoutMs, keepAliveIntervalMs: 250 });
    server.setOnHandshakeSuccess((_result, session) => {
      session.setOnMessageReceived((text) => {
        arrivals.push({ length: text.length, at: Date.now() });
        session.sendMessage(text);
      });
      session.setOnSessionEnded((reason) => ended.push(reason));
    });
    device = await startDevice({
      app: join(DIR, "app.js"),
      config: { ssid: "lab", password: "pw", host: "127.0.0.1", port: server.port, key: KEY_HEX, size },
      speed,
    });
    return { arrivals, ended, device };
  }

  for (const size of [16, 2000]) {
    it(`a ${size}-byte message leaves after its blocks' time, a timer set meanwhile runs after it, and the device is busy with the echo for its blocks' time`, async () => {
      // 3 or 251 blocks with the header, at 100 or 1 ms a block: 300 or 251 ms each way.
      const msPerBlock = size === 16 ? 100 : 1;
      const blocksMs = Math.ceil((size + 3) / 8) * msPerBlock;
      const { arrivals, device } = await run(size, { msPerBlock, msPerEvent: 0 }, 10000);
      await device.waitForConsole(/^after-echo at/, 10000);
      const sent = printedTime(device, "sending");
      assert.equal(arrivals.length, 1);
      assert.ok(arrivals[0].at - sent >= blocksMs, `the server had the message ${arrivals[0].at - sent} ms after sendMessage`);
      assert.ok(printedTime(device, "timer") - sent >= blocksMs, "the timer ran while the device was still ciphering");
      // The library hands the echo over once it has it whole; what the app does next waits for its blocks.
      assert.ok(printedTime(device, "after-echo") - arrivals[0].at >= blocksMs, "the device was free before the echo's blocks' time");
    });
  }

  it("a server's inactivity timeout ends the session while the device ciphers a long message; without a speed the same run echoes", async () => {
    // 4,096 bytes at 8 ms a block: the device sends nothing, keep-alives included, for 4.1 s.
    const slow = await run(4096, { msPerBlock: 8, msPerEvent: 0 }, 2000);
    await until(() => slow.ended.length > 0, { timeoutMs: 10000, what: () => slow.device.consoleLines.join("\n") });
    assert.deepEqual(slow.ended, ["inactivity-timeout"]);
    assert.deepEqual(slow.arrivals, []);
    slow.device.stop();
    await server?.stop();

    const instant = await run(4096, undefined, 2000);
    await instant.device.waitForConsole(/^echo 4096 at/, 10000);
    assert.deepEqual(instant.ended, []);
    assert.deepEqual(
      instant.arrivals.map((a) => a.length),
      [4096],
    );
  });

  it("the esp32 speed is the projection's figures for the board as flashed", () => {
    const xtea = deviceSpeed("esp32", { profile: "v1", writtenOutCipher: true });
    const loop = deviceSpeed("esp32", { profile: "v1", writtenOutCipher: false });
    const v2 = deviceSpeed("esp32", { profile: "v2", writtenOutCipher: false });
    assert.ok(xtea && loop && v2);
    assert.ok(loop.msPerBlock > xtea.msPerBlock, "the library's loop is slower than lwstcp-xtea");
    assert.equal(v2.msPerBlock, 0, "v2's native AES is not charged per block");
    assert.equal(xtea.msPerEvent, v2.msPerEvent);
    assert.ok(ESP32_INSTRUCTIONS_PER_MS > 0);
    assert.equal(deviceSpeed("instant", { profile: "v1", writtenOutCipher: true }), undefined);
  });
});
