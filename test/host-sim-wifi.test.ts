// require("Wifi") as ESPRUINO.md §8 describes it on ESP32, with the scripted failures tests need.
import assert from "node:assert/strict";
import { bootDevice, stopAllDevices } from "./helpers/host-sim.js";

describe("host-sim Wifi (ESPRUINO.md §8)", function () {
  afterEach(stopAllDevices);

  it("connect(ssid, {password}, cb): null after a short delay, then getIP() returns {ip, netmask, gw, mac} at once and 'connected' fires", async () => {
    const device = bootDevice({ wifi: { ssid: "lab", password: "secret" } });
    device.run(`var w = require("Wifi");
      print("before " + JSON.stringify(Object.keys(w.getIP())));
      w.on("connected", function (d) { print("event connected " + typeof d.ip); });
      w.connect("lab", {password: "secret"}, function (err) {
        var ip = w.getIP();
        print("cb " + err + " " + [typeof ip.ip, ip.netmask, ip.gw, typeof ip.mac].join(" ") + " " + w.getStatus().station);
      });`);
    await device.waitForConsole("cb ");
    await device.waitForConsole("event connected");
    assert.deepEqual(
      device.consoleLines.filter((l) => !l.startsWith("event")),
      [`before ["mac"]`, "cb null string 255.255.255.0 192.168.4.1 string connected"],
    );
  });

  it("a wrong password gives AUTH_FAIL, an unknown ssid NO_AP_FOUND, and injected failures come first; 'disconnected' carries {ssid, mac, reason, msg}", async () => {
    const device = bootDevice({ wifi: { ssid: "lab", password: "secret", failures: ["NO_AP_FOUND"] } });
    device.run(`var w = require("Wifi"), results = [];
      w.on("disconnected", function (d) { print("disconnected " + d.ssid + " " + d.reason + " " + d.msg + " " + typeof d.mac); });
      w.connect("lab", {password: "secret"}, function (e1) {
        w.connect("lab", {password: "wrong"}, function (e2) {
          w.connect("elsewhere", {password: "secret"}, function (e3) { print("results " + [e1, e2, e3].join()); });
        });
      });`);
    await device.waitForConsole("results");
    assert.ok(device.consoleLines.includes("results NO_AP_FOUND,AUTH_FAIL,NO_AP_FOUND"));
    assert.ok(device.consoleLines.includes("disconnected lab 202 AUTH_FAIL string"));
  });

  it("a non-string password throws", () => {
    const device = bootDevice();
    device.run(`try { require("Wifi").connect("lab", {password: 1234}); } catch (e) { print("threw"); }`);
    assert.deepEqual(device.consoleLines, ["threw"]);
  });
});
