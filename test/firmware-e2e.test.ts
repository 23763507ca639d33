// The firmware bundles themselves (dist/lwstcp.js as the Storage module, dist/app-esp32.js as
// the program) on simulated ESP32s (host-sim), against the real desktop server and client
// processes (build/server/cli): FizzBuzz, a wrong key, the device as server, a server restart,
// and the exact text `npm run flash -- --out` would send.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootFirmware } from "../host-sim/runner.js";
import { freePort } from "./helpers/host-sim.js";
import { assertDeviceHealthy, CLIENT_CLI, DEMO_KEY_HEX, deviceConfig, startLwstcpServer, startNode, stopAfterEach } from "./helpers/processes.js";
import { until } from "./helpers/until.js";

const OTHER_KEY_HEX = "11".repeat(32);

const startServer = (port: number, keyHex: string, mode = "fizzbuzz") => startLwstcpServer(port, ["--key", keyHex, "--mode", mode]);
const start = startNode;
const config = deviceConfig;
const healthy = assertDeviceHealthy;

describe("firmware end to end: bundles on simulated ESP32s against the desktop processes", function () {
  this.timeout(90000);
  const { procs, devices } = stopAfterEach();

  it("plays 100 rounds of FizzBuzz with lwstcp-server, every line right, then disconnects cleanly", async () => {
    const port = await freePort();
    const server = await startServer(port, DEMO_KEY_HEX);
    procs.push(server);
    const device = await bootFirmware({ app: { path: "dist/app-esp32.js" }, config: config(port, { count: 100 }) });
    devices.push(device);
    await device.waitForConsole(/FizzBuzz done: 100 replies, 0 wrong/, 60000);
    assert.ok(device.consoleLines.includes("lwstcp: -> 3 Fizz"));
    assert.ok(device.consoleLines.includes("lwstcp: <- 200 Buzz"));
    await until(() => server.events().some((e) => e.event === "session-ended"), { timeoutMs: 5000, what: () => server.out() });
    const ended = server.events().filter((e) => e.event === "session-ended");
    assert.deepEqual(
      ended.map((e) => e.reason),
      ["disconnect"],
    );
    assert.equal(server.events().filter((e) => e.event === "error").length, 0, server.out());
    healthy(device);
  });

  it("with a wrong key fails the handshake on both sides, delivers nothing, and keeps retrying with backoff", async () => {
    const port = await freePort();
    const server = await startServer(port, DEMO_KEY_HEX);
    procs.push(server);
    const device = await bootFirmware({ app: { path: "dist/app-esp32.js" }, config: config(port, { key: OTHER_KEY_HEX }) });
    devices.push(device);
    await device.waitForConsole(/handshake failed/, 10000);
    const firstFailure = Date.now();
    // The first retry comes after 0.5..1 s, the next after 1..2 s.
    while (device.consoleLines.filter((l) => /handshake failed/.test(l)).length < 2) {
      assert.ok(Date.now() - firstFailure < 5000, "a second attempt within 5 s:\n" + device.consoleLines.join("\n"));
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(Date.now() - firstFailure >= 400, "the retry waited for its backoff");
    assert.ok(!device.consoleLines.some((l) => /<- /.test(l)));
    // The device may see the second failure before the server's log line for it reaches us.
    const failedOnServer = () => server.events().filter((e) => e.event === "handshake-failed").length;
    await until(() => failedOnServer() >= 2, { timeoutMs: 5000, what: () => "two handshake-failed lines from the server:\n" + server.out() });
    assert.equal(server.events().filter((e) => e.event === "handshake-success").length, 0);
    healthy(device);
  });

  it("reconnects by itself when the server is restarted, and plays on", async () => {
    const port = await freePort();
    let server = await startServer(port, DEMO_KEY_HEX);
    procs.push(server);
    const device = await bootFirmware({ app: { path: "dist/app-esp32.js" }, config: config(port) });
    devices.push(device);
    await device.waitForConsole(/<- 10 Buzz/, 20000);
    server.child.kill("SIGKILL");
    await server.exit;
    await device.waitForConsole(/disconnected: /, 10000);
    await new Promise((r) => setTimeout(r, 1500)); // at least one refused attempt while it is down
    server = await startServer(port, DEMO_KEY_HEX);
    procs.push(server);
    const before = device.consoleLines.filter((l) => /handshake succeeded/.test(l)).length;
    const deadline = Date.now() + 40000;
    while (device.consoleLines.filter((l) => /handshake succeeded/.test(l)).length === before) {
      assert.ok(Date.now() < deadline, "reconnected within 40 s:\n" + device.consoleLines.join("\n"));
      await new Promise((r) => setTimeout(r, 50));
    }
    // The game starts over on the new session ("1", then "2 …"); it runs fast, so look back from there.
    const lines = device.consoleLines;
    const restartedAt = lines.map((l, i) => (/handshake succeeded/.test(l) ? i : -1)).filter((i) => i >= 0)[before];
    while (!lines.slice(restartedAt).some((l) => /<- 10 Buzz/.test(l))) {
      assert.ok(Date.now() < deadline, "played again after the restart:\n" + lines.slice(restartedAt).join("\n"));
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(
      device.consoleLines.some((l) => /error: connect to 127\.0\.0\.1:\d+ failed/.test(l)),
      "refused attempts were reported",
    );
    healthy(device);
  });

  it("keeps retrying a server that is not up without growing its memory", async () => {
    const port = await freePort(); // nothing listens there
    const app = `
var lw = require("lwstcp");
lw.setHandshakeKey("${DEMO_KEY_HEX}");
var c = new lw.LightweightSecureClient("127.0.0.1", ${port});
var n = 0;
c.setOnError(function (text) {
  n++;
  if (n === 10 || n === 60) print("attempt " + n + " usage " + process.memory().usage + " " + text);
});
c.setAutoReconnect(true, 10, 20);
c.connectToServer();`;
    const device = await bootFirmware({ app: { source: app, filename: "retry-app.js" }, wifi: { connectedAtBoot: true } });
    devices.push(device);
    const early = await device.waitForConsole(/^attempt 10 /, 10000);
    const late = await device.waitForConsole(/^attempt 60 /, 20000);
    assert.match(late, /connect to 127\.0\.0\.1:\d+ failed/);
    const usage = (line: string) => Number(/usage (\d+)/.exec(line)![1]);
    assert.ok(usage(late) <= usage(early) + 5, `JsVars ${usage(early)} after 10 attempts, ${usage(late)} after 60`);
    healthy(device);
  });

  it("keeps retrying a server that refuses its key without growing its memory", async () => {
    const port = await freePort();
    const server = await startServer(port, DEMO_KEY_HEX);
    procs.push(server);
    const app = `
var lw = require("lwstcp");
lw.setHandshakeKey("${OTHER_KEY_HEX}");
var c = new lw.LightweightSecureClient("127.0.0.1", ${port});
var n = 0;
c.setOnHandshakeFailed(function (reason) {
  n++;
  if (n === 5 || n === 30) print("failure " + n + " usage " + process.memory().usage + " " + reason);
});
c.setAutoReconnect(true, 10, 20);
c.connectToServer();`;
    const device = await bootFirmware({ app: { source: app, filename: "wrong-key-app.js" }, wifi: { connectedAtBoot: true } });
    devices.push(device);
    const early = await device.waitForConsole(/^failure 5 /, 20000);
    const late = await device.waitForConsole(/^failure 30 /, 40000);
    const usage = (line: string) => Number(/usage (\d+)/.exec(line)![1]);
    assert.ok(usage(late) <= usage(early) + 5, `JsVars ${usage(early)} after 5 failed handshakes, ${usage(late)} after 30`);
    const deadline = Date.now() + 5000;
    while (server.events().filter((e) => e.event === "handshake-failed").length < 30) {
      assert.ok(Date.now() < deadline, "the server saw 30 failed handshakes:\n" + server.out().slice(-2000));
      await new Promise((r) => setTimeout(r, 20));
    }
    healthy(device);
  });

  it("as an echo server, answers lwstcp-client's messages of 1, 8, 9, 1000, 4096 and 65528 bytes", async () => {
    const port = await freePort();
    const device = await bootFirmware({ app: { path: "dist/app-esp32.js" }, config: config(port, { role: "server", host: undefined }) });
    devices.push(device);
    await device.waitForConsole(/echo server listening on .*:\d+/, 10000);
    const client = start(CLIENT_CLI, [
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--key",
      DEMO_KEY_HEX,
      "--mode",
      "echo",
      "--sizes",
      "1,8,9,1000,4096,65528",
    ]);
    procs.push(client);
    assert.equal(await client.exit, 0, client.out());
    await device.waitForConsole(/session ended: disconnect/, 10000);
    healthy(device);
  });

  it("runs the exact upload text of `npm run flash -- --out`: Storage writes, Wi-Fi, pairing with the server", async () => {
    const port = await freePort();
    const server = await startServer(port, DEMO_KEY_HEX);
    procs.push(server);
    const dir = mkdtempSync(join(tmpdir(), "lwstcp-upload-"));
    writeFileSync(join(dir, "config.json"), JSON.stringify(config(port, { count: 5 })));
    const uploadPath = join(dir, "upload.js");
    const flash = spawnSync(process.execPath, ["scripts/flash.mjs", "--out", uploadPath, "--config", join(dir, "config.json"), "--no-build"], {
      encoding: "utf8",
      timeout: 50000,
    });
    assert.equal(flash.status, 0, flash.stderr);
    const device = await bootFirmware({
      app: { source: readFileSync(uploadPath, "latin1"), filename: "upload.js" },
      library: null,
      wifi: { ssid: "lab", password: "lab-password" },
    });
    devices.push(device);
    await device.waitForConsole(/FizzBuzz done: 5 replies, 0 wrong/, 30000);
    assert.equal(device.storage.read("lwstcp"), readFileSync("dist/lwstcp.js", "latin1"));
    healthy(device);
  });
});
