// The device in the simulator against the real desktop processes (build/server/cli) on
// 127.0.0.1: a Wi-Fi drop mid-session (the device re-joins and plays on), 100 devices on one server
// at once, the device as a client sending 1..65528-byte binary messages to an echo server, and the
// `npm run sim` summary line. Every wait is bounded; nothing asserts on timing.
import assert from "node:assert/strict";
import type { Device } from "../host-sim/device.js";
import { bootFirmware, DEFAULT_LIBRARY_PATH } from "../host-sim/runner.js";
import { freePort } from "./helpers/host-sim.js";
import { assertDeviceHealthy, DEMO_KEY_HEX, deviceConfig, SIM_CLI, startLwstcpServer, startNode, stopAfterEach, until } from "./helpers/processes.js";

const startServer = (port: number, extra: string[] = []) => startLwstcpServer(port, ["--key", DEMO_KEY_HEX, ...extra]);
const start = startNode;
const config = deviceConfig;
const healthy = assertDeviceHealthy;

/** Every FizzBuzz line the device received was the one due (the demo app prints "(expected …)" otherwise). */
function allLinesRight(device: Device): void {
  const wrong = device.consoleLines.filter((l) => /\(expected /.test(l));
  assert.deepEqual(wrong, [], `device ${device.name} got wrong lines`);
}

const tail = (device: Device) => device.consoleLines.slice(-40).join("\n");

describe("host-sim end to end: Wi-Fi drop, 100 devices, large client messages, npm run sim summary", function () {
  this.timeout(90000);
  const { procs, devices } = stopAfterEach();

  it("a Wi-Fi drop mid-session: the session ends on both sides, the app re-joins Wi-Fi, reconnects and plays on", async () => {
    const port = await freePort();
    // Short keep-alive/inactivity on the server: the dropped device's TCP connection never closes
    // (no FIN or RST reaches the server), so the server learns of it through its inactivity timeout.
    const server = await startServer(port, ["--mode", "fizzbuzz", "--keepalive", "200", "--timeout", "1000"]);
    procs.push(server);
    const device = await bootFirmware({ name: "wifi-drop", app: { path: "dist/app-esp32.js" }, config: config(port, { keepAliveMs: 200, timeoutMs: 1000 }) });
    devices.push(device);
    await device.waitForConsole(/<- 10 Buzz/, 20000);
    const sessionsBefore = device.consoleLines.filter((l) => /handshake succeeded/.test(l)).length;
    assert.equal(sessionsBefore, 1);

    device.wifi.dropLink();
    assert.equal(device.wifi.connected, false);
    const ended = await device.waitForConsole(/^lwstcp: disconnected: /, 10000);
    // The simulated link loss errors the socket (code -9, "network link lost") and closes it.
    assert.equal(ended, "lwstcp: disconnected: socket-error");
    await device.waitForConsole(/Wi-Fi: disconnected \(BEACON_TIMEOUT\); reconnecting/, 10000);
    // The server ends the dead session by itself.
    await until(() => server.events().some((e) => e.event === "session-ended"), { timeoutMs: 15000, what: () => server.out().slice(-3000) });
    const serverEnded = server.events().filter((e) => e.event === "session-ended");
    assert.deepEqual(
      serverEnded.map((e) => e.reason),
      ["inactivity-timeout"],
    );

    // The app re-joins Wi-Fi, and the library's auto-reconnect opens a new session on which the game starts over.
    await until(() => device.consoleLines.filter((l) => /^lwstcp: Wi-Fi: up/.test(l)).length === 2, {
      timeoutMs: 20000,
      what: () => "Wi-Fi back:\n" + tail(device),
    });
    assert.equal(device.wifi.connected, true);
    await until(() => device.consoleLines.filter((l) => /handshake succeeded/.test(l)).length === 2, {
      timeoutMs: 40000,
      what: () => "reconnected:\n" + tail(device),
    });
    const lines = device.consoleLines;
    const second = lines.map((l, i) => (/handshake succeeded/.test(l) ? i : -1)).filter((i) => i >= 0)[1];
    await until(() => lines.slice(second).some((l) => /<- 20 Buzz/.test(l)), { timeoutMs: 20000, what: () => "played on:\n" + lines.slice(second).join("\n") });
    const after = lines.slice(second);
    // The new session's first 19 lines after "sending 1": <- 2, -> 3, <- 4, … <- 20, in order.
    for (let k = 1; k <= 19; k++) {
      assert.match(after[k], new RegExp(`^lwstcp: ${k % 2 ? "<-" : "->"} ${k + 1}( |$)`), after.slice(0, 21).join("\n"));
    }
    await until(() => server.events().filter((e) => e.event === "handshake-success").length === 2, { timeoutMs: 5000, what: () => server.out().slice(-3000) });
    allLinesRight(device);
    healthy(device);
  });

  it("100 devices on one lwstcp-server at once: 100 handshakes, every FizzBuzz line right", async function () {
    this.timeout(120000);
    const port = await freePort();
    // The 100 boards boot one after another in this process, each compile holding its event loop:
    // the first ones answer their ServerHello only when the last has booted, seconds later on a
    // busy machine. This test is about 100 sessions at once, not about how fast they answer.
    const server = await startServer(port, ["--mode", "fizzbuzz", "--silent-timeout", "60000", "--handshake-timeout", "60000"]);
    procs.push(server);
    const rounds = 5;
    for (let i = 1; i <= 100; i++) {
      devices.push(await bootFirmware({ name: `dev${i}`, app: { path: "dist/app-esp32.js" }, config: config(port, { count: rounds }) }));
    }
    const done = new RegExp(`FizzBuzz done: ${rounds} replies, 0 wrong`);
    await until(() => devices.every((d) => d.consoleLines.some((l) => done.test(l)) || d.stopped), {
      timeoutMs: 90000,
      what: () =>
        devices
          .filter((d) => !d.consoleLines.some((l) => done.test(l)))
          .map((d) => d.name + ":\n" + tail(d))
          .slice(0, 3)
          .join("\n"),
    });
    for (const d of devices) {
      healthy(d);
      allLinesRight(d);
      assert.ok(
        d.consoleLines.some((l) => done.test(l)),
        d.name + " finished:\n" + tail(d),
      );
    }
    await until(() => server.events().filter((e) => e.event === "session-ended").length === 100, { timeoutMs: 15000, what: () => server.out().slice(-3000) });
    const successes = server.events().filter((e) => e.event === "handshake-success");
    assert.equal(successes.length, 100);
    assert.equal(new Set(successes.map((e) => e.peer)).size, 100, "100 distinct connections");
    assert.deepEqual(
      [
        ...new Set(
          server
            .events()
            .filter((e) => e.event === "session-ended")
            .map((e) => e.reason),
        ),
      ],
      ["disconnect"],
    );
    assert.equal(
      server.events().filter((e) => e.event === "handshake-failed" || e.event === "error").length,
      0,
      JSON.stringify(
        server
          .events()
          .filter((e) => e.event === "handshake-failed" || e.event === "error")
          .slice(0, 3),
      ),
    );
  });

  it("as a client, sends 1, 7, 8, 9, 536, 4096 and 65528-byte binary messages to lwstcp-server --mode echo and gets each back byte for byte", async () => {
    const port = await freePort();
    const server = await startServer(port, ["--mode", "echo"]);
    procs.push(server);
    const sizes = [1, 7, 8, 9, 536, 4096, 65528];
    // Every byte value occurs (0x00 and 0x80..0xFF included); each size gets its own pattern.
    const program = `
var lw = require("lwstcp");
lw.setHandshakeKey("${DEMO_KEY_HEX}");
var sizes = ${JSON.stringify(sizes)};
var next = 0;
var expected;
function make(n) {
  var a = new Uint8Array(n);
  for (var i = 0; i < n; i++) a[i] = (i * 131 + n * 7 + (i >> 8)) & 255;
  return E.toString(a);
}
function sum(s) {
  var h = 0;
  for (var i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return h;
}
var c = new lw.LightweightSecureClient("127.0.0.1", ${port});
c.setAutoReconnect(false);
function sendNext() {
  expected = make(sizes[next]);
  c.sendMessage(expected);
}
c.setOnHandshakeSuccess(function () { print("open"); sendNext(); });
c.setOnHandshakeFailed(function (r) { print("failed " + r); });
c.setOnDisconnected(function (r) { print("ended " + r); });
c.setOnError(function (t) { print("error " + t); });
c.setOnMessageReceived(function (text) {
  var n = sizes[next];
  var bad = -1;
  if (text.length !== n) bad = Math.min(text.length, n);
  else for (var i = 0; i < n; i++) if (text.charCodeAt(i) !== expected.charCodeAt(i)) { bad = i; break; }
  print("echo " + n + " length " + text.length + " sum " + sum(text) + (bad < 0 ? " same" : " differs at " + bad));
  expected = undefined;
  next++;
  if (next < sizes.length) setTimeout(sendNext, 0);
  else { print("all echoed"); c.disconnect(); }
});
c.connectToServer();`;
    const device = await bootFirmware({
      name: "big-client",
      app: { source: program, filename: "big-client.js" },
      library: { path: DEFAULT_LIBRARY_PATH },
      wifi: { connectedAtBoot: true },
    });
    devices.push(device);
    await device.waitForConsole(/^(all echoed|failed |ended )/, 60000);
    const make = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 131 + n * 7 + (i >> 8)) & 255));
    const sum = (b: Buffer) => b.reduce((h, x) => (Math.imul(h, 31) + x) >>> 0, 0);
    const echoes = device.consoleLines.filter((l) => l.startsWith("echo "));
    assert.deepEqual(
      echoes,
      sizes.map((n) => `echo ${n} length ${n} sum ${sum(make(n))} same`),
      device.consoleLines.join("\n"),
    );
    assert.ok(make(65528).includes(0x00) && make(65528).includes(0xff) && new Set(make(536)).size === 256);
    await device.waitForConsole(/^ended local-disconnect$/, 10000);
    await until(() => server.events().some((e) => e.event === "session-ended"), { timeoutMs: 10000, what: () => server.out().slice(-3000) });
    assert.deepEqual(
      server
        .events()
        .filter((e) => e.event === "session-ended")
        .map((e) => e.reason),
      ["disconnect"],
    );
    assert.deepEqual(
      server
        .events()
        .filter((e) => e.event === "message")
        .map((e) => e.bytes),
      sizes,
      server.out().slice(-3000),
    );
    healthy(device);
  });

  it("npm run sim prints per-device and total summary lines from library events: handshakes, messages each way, reconnects, peak JsVars", async function () {
    const port = await freePort();
    let server = await startServer(port, ["--mode", "fizzbuzz", "--quiet"]);
    procs.push(server);
    // Endless games (the demo app stops only at --count); the summary comes on SIGINT.
    const sim = start(SIM_CLI, ["--host", "127.0.0.1", "--port", String(port), "--key", DEMO_KEY_HEX, "--devices", "2", "--duration", "80"]);
    procs.push(sim);
    const simLines = () => sim.out().split("\n");
    const count = (re: RegExp) => simLines().filter((l) => re.test(l)).length;
    const simExited = () => sim.child.exitCode !== null;
    await until(() => count(/^\[dev[12]\] lwstcp: <- 10 Buzz$/) >= 2, { timeoutMs: 20000, what: () => sim.out().slice(-3000), abort: simExited });
    // The server restarts under them: each device reconnects once.
    server.child.kill("SIGKILL");
    await server.exit;
    await until(() => count(/^\[dev1\] lwstcp: disconnected: /) >= 1 && count(/^\[dev2\] lwstcp: disconnected: /) >= 1, {
      timeoutMs: 10000,
      what: () => sim.out().slice(-3000),
      abort: simExited,
    });
    server = await startServer(port, ["--mode", "fizzbuzz", "--quiet"]);
    procs.push(server);
    await until(() => count(/^\[dev1\] lwstcp: handshake succeeded/) === 2 && count(/^\[dev2\] lwstcp: handshake succeeded/) === 2, {
      timeoutMs: 40000,
      what: () => sim.out().slice(-3000),
      abort: simExited,
    });
    // Let each resumed game get past 20 messages in all before stopping it.
    await until(() => count(/^\[dev1\] lwstcp: (<-|->) /) > 20 && count(/^\[dev2\] lwstcp: (<-|->) /) > 20, {
      timeoutMs: 20000,
      what: () => sim.out().slice(-3000),
      abort: simExited,
    });
    sim.child.kill("SIGINT");
    await until(() => sim.child.exitCode !== null, { timeoutMs: 10000, what: () => "sim exits after SIGINT:\n" + sim.out().slice(-3000) });
    assert.equal(await sim.exit, 0, sim.out().slice(-3000));

    const perDevice = simLines().filter((l) => /^\[dev\d+\] summary: /.test(l));
    assert.equal(perDevice.length, 2, sim.out().slice(-3000));
    for (const [i, line] of perDevice.entries()) {
      const m =
        /^\[dev(\d)\] summary: handshakes (\d+), handshake failures (\d+).*, messages sent (\d+), received (\d+), reconnects (\d+), connect failures \d+, errors \d+, callback errors 0, uncaught errors 0, peak JsVars (\d+)\/16383$/.exec(
          line,
        );
      assert.ok(m, line);
      const name = `dev${m[1]}`;
      assert.equal(name, `dev${i + 1}`);
      // The library's events match what the demo printed about them (its console lines are in the CLI's output).
      const printed = (re: RegExp) => simLines().filter((l) => l.startsWith(`[${name}] `) && re.test(l.slice(name.length + 3))).length;
      assert.equal(Number(m[2]), 2, line);
      assert.equal(Number(m[6]), 1, line);
      // Sent: "1" at each session's start and every "->" line; received: every "<-" line.
      assert.equal(Number(m[4]), printed(/^lwstcp: -> |^lwstcp: handshake succeeded; sending /), line);
      assert.equal(Number(m[5]), printed(/^lwstcp: <- /), line);
      assert.ok(Number(m[4]) + Number(m[5]) > 20, line);
      assert.ok(Number(m[7]) > 100, line);
    }
    const total = simLines().filter((l) => l.startsWith("summary: "));
    assert.equal(total.length, 1);
    const t =
      /^summary: 2 devices, 2 completed a handshake, handshakes 4, handshake failures \d+.*, messages sent (\d+), received (\d+), reconnects 2, peak JsVars (\d+)$/.exec(
        total[0],
      );
    assert.ok(t, total[0]);
    const each = (label: string) => perDevice.map((l) => Number(new RegExp(`${label} (\\d+)`).exec(l)![1]));
    assert.equal(Number(t[1]), each("messages sent")[0] + each("messages sent")[1]);
    assert.equal(Number(t[2]), each("received")[0] + each("received")[1]);
    assert.equal(Number(t[3]), Math.max(...each("peak JsVars")));
    assert.ok(simLines().includes("result: ok"), sim.out().slice(-3000));
  });
});
