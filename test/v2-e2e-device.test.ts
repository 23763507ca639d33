// Profile v2 end to end with the device bundles: dist/lwstcp.js (Storage "lwstcp") plus the
// separate v2 engine dist/lwstcp-v2.js (Storage "lwstcp-v2") and the demo app on simulated
// ESP32s (host-sim, whose `require("crypto")` is Espruino's API), against the desktop
// lwstcp-server / lwstcp-client processes with --profile v2; and a v1/v2 mismatch both ways.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootFirmware, type FirmwareConfig } from "../host-sim/runner.js";
import { freePort } from "./helpers/host-sim.js";
import { assertDeviceHealthy, CLIENT_CLI, deviceConfig, startLwstcpServer, startNode, stopAfterEach } from "./helpers/processes.js";
import { until } from "./helpers/until.js";

/** A v2 key of its own: v2 deployments must not reuse a v1 (C++) key. */
const KEY_HEX = "5a".repeat(16) + "c3".repeat(16);

const startServer = (port: number, profile: string, mode = "fizzbuzz") => startLwstcpServer(port, ["--key", KEY_HEX, "--mode", mode, "--profile", profile]);
const start = startNode;
const config = (port: number, extra: Partial<FirmwareConfig> = {}) => deviceConfig(port, { key: KEY_HEX, profile: "v2", ...extra });
const healthy = assertDeviceHealthy;

describe("profile v2 end to end: device bundles (lwstcp + lwstcp-v2) in host-sim against the desktop processes", function () {
  this.timeout(90000);
  const { procs, devices } = stopAfterEach();

  it("the device as v2 client plays FizzBuzz with lwstcp-server --profile v2, then disconnects cleanly", async () => {
    const port = await freePort();
    const server = await startServer(port, "v2");
    procs.push(server);
    const device = await bootFirmware({ app: { path: "dist/app-esp32.js" }, config: config(port, { count: 10 }) });
    devices.push(device);
    await device.waitForConsole(/FizzBuzz done: 10 replies, 0 wrong/, 30000);
    assert.ok(device.consoleLines.includes("lwstcp: profile v2"));
    assert.ok(device.consoleLines.includes("lwstcp: <- 10 Buzz"), device.consoleLines.join("\n"));
    await until(() => server.events().some((e) => e.event === "session-ended"), { timeoutMs: 5000, what: "session ended on the server" });
    assert.deepEqual(
      server
        .events()
        .filter((e) => e.event === "session-ended")
        .map((e) => e.reason),
      ["disconnect"],
    );
    assert.equal(server.events().filter((e) => e.event === "error").length, 0, server.out());
    assert.equal(server.events().find((e) => e.event === "started")?.profile, "v2");
    healthy(device);
  });

  it("the device as v2 echo server answers lwstcp-client --profile v2 (1, 16, 1000 and 65528 bytes)", async () => {
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
      KEY_HEX,
      "--profile",
      "v2",
      "--mode",
      "echo",
      "--sizes",
      "1,16,1000,65528",
    ]);
    procs.push(client);
    assert.equal(await client.exit, 0, client.out());
    await device.waitForConsole(/session ended: disconnect/, 10000);
    healthy(device);
  });

  it("mismatch: a v2 device against a v1 server fails with profile-mismatch; the v1 server sees its handshake fail", async () => {
    const port = await freePort();
    const server = await startServer(port, "v1");
    procs.push(server);
    const device = await bootFirmware({ app: { path: "dist/app-esp32.js" }, config: config(port) });
    devices.push(device);
    await device.waitForConsole(/handshake failed: profile-mismatch/, 10000);
    await until(() => server.events().some((e) => e.event === "handshake-failed"), {
      timeoutMs: 5000,
      what: "the v1 server reports a failed handshake:\n" + server.out(),
    });
    assert.equal(server.events().find((e) => e.event === "handshake-failed")?.reason, "peer-closed");
    assert.equal(server.events().filter((e) => e.event === "handshake-success").length, 0);
    assert.ok(!device.consoleLines.some((l) => /<- /.test(l)));
    healthy(device);
  });

  it("mismatch: a v1 device against a v2 server fails at the first packet (profile-mismatch on the v1 device, as on the desktop)", async () => {
    const port = await freePort();
    const server = await startServer(port, "v2");
    procs.push(server);
    const device = await bootFirmware({ app: { path: "dist/app-esp32.js" }, config: config(port, { profile: "v1" }) });
    devices.push(device);
    await device.waitForConsole(/handshake failed: profile-mismatch/, 10000);
    await until(() => server.events().some((e) => e.event === "handshake-failed"), {
      timeoutMs: 5000,
      what: "the v2 server reports a failed handshake:\n" + server.out(),
    });
    assert.equal(server.events().find((e) => e.event === "handshake-failed")?.reason, "peer-closed");
    healthy(device);
  });

  it("setProfile: a bad name throws; v2 without the lwstcp-v2 Storage module throws a clear error; per instance works", async () => {
    const app = `
var lw = require("lwstcp");
try { lw.setProfile("v3"); } catch (e) { print("bad: " + e.message); }
try { lw.setProfile("v2"); } catch (e) { print("missing: " + e.message); }
var c = new lw.LightweightSecureClient("127.0.0.1", 1);
try { c.setProfile("v1"); print("instance v1 ok"); } catch (e) { print("instance: " + e.message); }`;
    const device = await bootFirmware({ app: { source: app, filename: "profile-app.js" }, wifi: { connectedAtBoot: true } });
    devices.push(device);
    await device.waitForConsole(/instance v1 ok/, 5000);
    assert.ok(
      device.consoleLines.some((l) => /^bad: profile must be "v1".*got v3/.test(l)),
      device.consoleLines.join("\n"),
    );
    assert.ok(
      device.consoleLines.some((l) => /^missing: .*lwstcp-v2.*not found/.test(l)),
      device.consoleLines.join("\n"),
    );
    healthy(device);
  });

  it("npm run flash -- --out with profile v2 uploads lwstcp-v2 as well, and that upload text pairs with the v2 server", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lwstcp-v2-flash-"));
    const port = await freePort();
    const server = await startServer(port, "v2");
    procs.push(server);
    writeFileSync(join(dir, "config.json"), JSON.stringify(config(port, { count: 3 })));
    const uploadPath = join(dir, "upload.js");
    const flash = spawnSync(process.execPath, ["scripts/flash.mjs", "--out", uploadPath, "--config", join(dir, "config.json"), "--no-build"], {
      encoding: "utf8",
      timeout: 50000,
    });
    assert.equal(flash.status, 0, flash.stdout + flash.stderr);
    const upload = readFileSync(uploadPath, "latin1");
    const device = await bootFirmware({ library: null, app: { source: upload, filename: "upload.js" }, wifi: { ssid: "lab", password: "lab-password" } });
    devices.push(device);
    await device.waitForConsole(/FizzBuzz done: 3 replies, 0 wrong/, 30000);
    assert.equal(device.storage.read("lwstcp-v2"), readFileSync("dist/lwstcp-v2.js", "latin1"));
    assert.equal(device.storage.read("lwstcp"), readFileSync("dist/lwstcp.js", "latin1"));
    healthy(device);
  });
});
