// lwstcp/sim and the simulated hardware as a user's firmware test meets them: an app bundle boots
// with a config and scripted pins, talks to a real desktop server on 127.0.0.1, reads its analog
// pin and E.getTemperature, obeys a command by writing a pin, reacts to a button through
// setWatch; the test reads pin writes and JsVars and stops it. And `lwstcp-sim --config`
// runs any app with its own settings.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type SimulatedDevice, startDevice } from "lwstcp/sim";
import type { Session } from "../server/index.js";
import { KEY_HEX, startServer, within } from "./helpers/server.js";

const DIR = join("build", "test", "sim-api");
const APP = `var cfg = require("Storage").readJSON("lwstcp-config.json", true);
var lw = require("lwstcp");
lw.setHandshakeKey(cfg.key);
pinMode(D2, "output");
setWatch(function (e) { print("button " + (e.state ? "up" : "down")); }, D0, { repeat: true, edge: "both" });
require("Wifi").connect(cfg.ssid, { password: cfg.password }, function (err) {
  if (err) { print("wifi failed " + err); return; }
  var client = new lw.LightweightSecureClient(cfg.host, cfg.port);
  client.setOnHandshakeSuccess(function () {
    client.sendMessage(JSON.stringify({ temp: E.getTemperature(), light: analogRead(D36), button: digitalRead(D0) }));
  });
  client.setOnMessageReceived(function (message) {
    var command = JSON.parse(message);
    if (command.led !== undefined) { digitalWrite(D2, command.led); print("led " + command.led); }
  });
  client.connectToServer();
});
`;

describe("lwstcp/sim: startDevice with scripted pins against a desktop server", function () {
  this.timeout(60000);
  let device: SimulatedDevice | undefined;
  before(() => {
    mkdirSync(DIR, { recursive: true });
    writeFileSync(join(DIR, "app.js"), APP);
  });
  afterEach(() => device?.stop());
  after(() => rmSync(DIR, { recursive: true, force: true }));

  it("reads scripted inputs, sends them, obeys a command with a pin write, and reports its JsVars", async () => {
    const server = await startServer();
    try {
      const sessions: Session[] = [];
      const readings: string[] = [];
      server.setOnHandshakeSuccess((_result, session) => {
        sessions.push(session);
        session.setOnMessageReceived((text) => readings.push(text));
      });
      let light = 0.25;
      device = await startDevice({
        app: join(DIR, "app.js"),
        config: { ssid: "lab", password: "secret", host: "127.0.0.1", port: server.port, key: KEY_HEX },
        pins: { D36: () => light, D0: 1 },
        temperature: 81,
      });
      await device.waitForEvent("handshake");
      await device.waitForEvent("message-sent");
      await within(
        (async () => {
          while (readings.length === 0) await new Promise((r) => setTimeout(r, 20));
        })(),
        5000,
        "the reading",
      );
      assert.deepEqual(JSON.parse(readings[0]), { temp: 81, light: 0.25, button: 1 });
      light = 0.5;

      assert.deepEqual(device.pinWrites("D2"), []);
      sessions[0].sendMessage(JSON.stringify({ led: 1 }));
      await device.waitForConsole("led 1");
      sessions[0].sendMessage(JSON.stringify({ led: 0 }));
      await device.waitForConsole("led 0");
      assert.deepEqual(
        device.pinWrites("D2").map((w) => [w.value, w.kind]),
        [
          [1, "digital"],
          [0, "digital"],
        ],
      );
      assert.equal(device.pin("D2"), 0);
      assert.equal(device.device.pins.mode("D2"), "output");
      await device.waitForEvent("message-received", { count: 2 });

      device.setPin("D0", 0);
      await device.waitForConsole("button down");
      device.setPin("D0", 1);
      await device.waitForConsole("button up");

      const vars = device.jsVars();
      assert.ok(vars.now > 0 && vars.now <= vars.budget && vars.peak >= vars.now, JSON.stringify(vars));
      assert.equal(vars.budget, 16383);
    } finally {
      device?.stop();
      await server.stop();
    }
  });

  it("waitForEvent rejects with what it saw when the event does not come", async () => {
    device = await startDevice({
      app: join(DIR, "app.js"),
      config: { ssid: "lab", password: "secret", host: "127.0.0.1", port: 1, key: KEY_HEX },
    });
    // Nothing listens on port 1: connects fail, no handshake comes.
    await assert.rejects(device.waitForEvent("handshake", { timeoutMs: 1500 }), /no 1 handshake event\(s\) within 1500 ms \(saw: /);
  });
});

describe("lwstcp-sim --app --config", function () {
  this.timeout(60000);
  before(() => {
    mkdirSync(DIR, { recursive: true });
    writeFileSync(join(DIR, "app.js"), APP);
  });

  it("boots any app with its own settings and counts the library's events in the summary", async () => {
    const server = await startServer();
    server.setOnHandshakeSuccess((_r, session) => session.setOnMessageReceived(() => session.sendMessage('{"led":1}')));
    try {
      writeFileSync(join(DIR, "config.json"), JSON.stringify({ ssid: "lab", password: "secret", host: "127.0.0.1", port: server.port, key: KEY_HEX }));
      const child = spawn(process.execPath, ["build/host-sim/cli.js", "--app", join(DIR, "app.js"), "--config", join(DIR, "config.json"), "--duration", "3"], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      child.stdout.on("data", (d) => (stdout += d));
      const code = await new Promise((done) => child.on("close", done));
      assert.match(stdout, /\[dev1\] led 1/);
      assert.match(stdout, /summary: .*handshakes 1/);
      assert.equal(code, 0, stdout);
    } finally {
      await server.stop();
    }
  });
});
