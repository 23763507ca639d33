// `npm run sim` as a user runs it next to `npm start`: real lwstcp-server / lwstcp-client
// processes and the simulator CLI (build/host-sim/cli.js) over 127.0.0.1. The sim is given only
// --port (the server's free port) and what ends the run; everything else is its default.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createDevice } from "../host-sim/device.js";
import { ensureFreshBundles, staleBundles } from "../host-sim/fresh-bundles.js";
import { bootFirmware } from "../host-sim/runner.js";
import { CLIENT_CLI, deviceConfig, type Proc, SIM_CLI, startLwstcpServer, startNode, stopAfterEach, until } from "./helpers/processes.js";

/** What package.json's `npm start` passes. */
const DEMO_KEY_WORDS = "0x12345678,0x9ABCDEF0,0x13572468,0xACEBDF01,0x11223344,0x55667788,0x99AABBCC,0xDDEEFF00";
const OTHER_KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const CLOSED_AFTER_RESPONSE = "the server closed the connection after our HandshakeResponse: most likely a different key or number of rounds";

/** `npm start`, but on a free port; resolves with the process and the port from its "started" line. */
async function npmStart(procs: Proc[], args: string[] = ["--key-words", DEMO_KEY_WORDS]): Promise<{ server: Proc; port: number }> {
  const server = await startLwstcpServer(0, ["--mode", "fizzbuzz", ...args]);
  procs.push(server);
  const started = server.events().find((e) => e.event === "started");
  assert.ok(started && started.port > 0, server.out());
  return { server, port: started.port };
}

function sim(procs: Proc[], args: string[]): Proc & { lines: () => string[] } {
  const proc = startNode(SIM_CLI, args);
  procs.push(proc);
  return { ...proc, lines: () => proc.out().split("\n") };
}

/** The numbers of a "[devN] summary: …" or "summary: …" line, by label. */
function numbers(line: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of line.matchAll(/([a-zA-Z][a-zA-Z ]*?) (\d+)(?=[,/ ]|$)/g)) out[m[1].trim()] = Number(m[2]);
  return out;
}

function summaryOf(proc: { lines: () => string[] }, device: string): Record<string, number> {
  const line = proc.lines().find((l) => l.startsWith(`[${device}] summary: `));
  assert.ok(line, "no summary line for " + device);
  return numbers(line.slice(line.indexOf("summary: ") + 9));
}

describe("npm run sim next to npm start (real processes on 127.0.0.1)", function () {
  this.timeout(60000);
  const { procs, devices } = stopAfterEach();

  it("bare except --port and --count 3: plays FizzBuzz with the demo key (warning printed), exits 0, counts handshakes and messages each way", async () => {
    const { port } = await npmStart(procs);
    const run = sim(procs, ["--port", String(port), "--count", "3"]);
    const code = await run.exit;
    const out = run.out();
    assert.equal(code, 0, out);
    assert.match(out, /WARNING: this uses the PUBLIC demo key/);
    assert.match(out, /^\[dev1\] lwstcp: FizzBuzz done: 3 replies, 0 wrong$/m);
    const dev1 = summaryOf(run, "dev1");
    assert.ok(dev1.handshakes >= 1, out);
    assert.equal(dev1["messages sent"], 3, out); // "1", "3 Fizz", "5 Buzz"
    assert.equal(dev1.received, 3, out);
    assert.equal(dev1["uncaught errors"], 0, out);
    assert.match(
      out,
      /^summary: 1 device, 1 completed a handshake, handshakes 1, handshake failures 0, messages sent 3, received 3, reconnects 0, peak JsVars \d+$/m,
    );
    assert.match(out, /^result: ok$/m);
  });

  it("--config names the board's profile, as npm run flash reads it: a v2 board run from another folder plays against a v2 server", async () => {
    const { port } = await npmStart(procs, ["--key-words", DEMO_KEY_WORDS, "--profile", "v2"]);
    const dir = mkdtempSync(join(tmpdir(), "lwstcp-sim-"));
    const settings = { ...deviceConfig(port, { count: 3, profile: "v2" }), ssid: "lab", password: "lab-password" };
    writeFileSync(join(dir, "config.json"), JSON.stringify(settings));
    // No --profile flag, and a working folder with no dist/ in it: the bundles come from the package.
    const run = startNode(resolve(SIM_CLI), ["--config", "config.json"], dir);
    procs.push(run);
    const code = await run.exit;
    assert.equal(code, 0, run.out());
    assert.match(run.out(), /profile v2/);
    assert.match(run.out(), /^\[dev1\] lwstcp: FizzBuzz done: 3 replies, 0 wrong$/m);
  });

  it("a server with another key: exit 1, the summary says why, and the device's failure message names the likely cause", async () => {
    const { port } = await npmStart(procs, ["--key", OTHER_KEY]);
    const run = sim(procs, ["--port", String(port), "--duration", "3"]);
    const code = await run.exit;
    const out = run.out();
    assert.equal(code, 1, out);
    assert.match(out, new RegExp(`^\\[dev1\\] lwstcp: handshake failed: peer-closed \\(${CLOSED_AFTER_RESPONSE}\\)$`, "m"));
    const failures = summaryOf(run, "dev1")["handshake failures"];
    assert.ok(failures >= 1, out);
    assert.match(
      out,
      new RegExp(
        `^result: FAILED: 0 of 1 device completed a handshake: ${failures} handshake failures?, most likely a different key or rounds than the server$`,
        "m",
      ),
    );
  });

  it("no server on the port: exit 1 and the summary says the connections failed", async () => {
    const { server, port } = await npmStart(procs);
    server.child.kill("SIGKILL");
    await server.exit;
    const run = sim(procs, ["--port", String(port), "--duration", "2"]);
    assert.equal(await run.exit, 1, run.out());
    assert.match(
      run.out(),
      /^result: FAILED: 0 of 1 device completed a handshake: \d+ connection attempts? to 127\.0\.0\.1:\d+ failed: is the server running \(npm start\)\?$/m,
    );
  });

  it("SIGINT on a running sim (no --count: the game never ends) prints the summary and exits 0", async () => {
    const { port } = await npmStart(procs);
    const run = sim(procs, ["--port", String(port), "--devices", "2"]);
    await until(() => run.lines().filter((l) => /^\[dev[12]\] lwstcp: <- 10 Buzz$/.test(l)).length === 2, {
      timeoutMs: 30000,
      what: () => run.out().slice(-2000),
      abort: () => run.child.exitCode !== null,
    });
    run.child.kill("SIGINT");
    assert.equal(await run.exit, 0, run.out().slice(-3000));
    for (const name of ["dev1", "dev2"]) {
      const s = summaryOf(run, name);
      // It played at least up to "<- 10 Buzz": 5 messages each way.
      assert.ok(s.handshakes === 1 && s["messages sent"] >= 5 && s.received >= 5, run.out().slice(-3000));
    }
    assert.match(run.out(), /^summary: 2 devices, 2 completed a handshake, handshakes 2, /m);
    assert.match(run.out(), /^result: ok$/m);
  });

  it("--role server prints an address a desktop lwstcp-client reaches; the echo session is counted", async () => {
    const run = sim(procs, ["--role", "server", "--port", "0"]);
    let address: RegExpExecArray | null = null;
    await until(() => (address = /^\[dev1\] try: (lwstcp-client --host (\S+) --port (\d+) .*)$/m.exec(run.out())) !== null, {
      timeoutMs: 15000,
      what: () => run.out(),
      abort: () => run.child.exitCode !== null,
    });
    const [, command, host, port] = address as unknown as string[];
    assert.equal(host, "127.0.0.1");
    assert.match(run.out(), new RegExp(`^\\[dev1\\] reachable from this computer at 127\\.0\\.0\\.1:${port}$`, "m"));
    // Run the printed command itself (its flags after the program name).
    const client = startNode(CLIENT_CLI, command.split(" ").slice(1));
    procs.push(client);
    assert.equal(await client.exit, 0, client.out());
    assert.match(client.out(), /echo: 1000 bytes ok/);
    await until(() => /lwstcp: session ended: disconnect/.test(run.out()), { timeoutMs: 10000, what: () => run.out() });
    run.child.kill("SIGTERM");
    assert.equal(await run.exit, 0, run.out());
    const s = summaryOf(run, "dev1");
    assert.equal(s.handshakes, 1);
    assert.equal(s.received, 3);
    assert.equal(s["messages sent"], 3);
  });

  it("any app is counted right: an app using require('lwstcp') directly, printing nothing of the demo's, ends the run itself", async () => {
    const server = await startLwstcpServer(0, ["--mode", "echo", "--key-words", DEMO_KEY_WORDS]);
    procs.push(server);
    const port = server.events().find((e) => e.event === "started")!.port;
    const dir = mkdtempSync(join(tmpdir(), "sim-any-app-"));
    const app = join(dir, "my-app.js");
    // Reads the settings the simulator stores, joins Wi-Fi, sends 4 messages, then disconnects.
    writeFileSync(
      app,
      `var cfg = require("Storage").readJSON("lwstcp-config.json", true);
var lw = require("lwstcp");
lw.setHandshakeKey(cfg.key);
require("Wifi").connect(cfg.ssid, { password: cfg.password }, function (err) {
  if (err) return;
  var c = new lw.LightweightSecureClient(cfg.host, cfg.port);
  var left = 4;
  c.setOnHandshakeSuccess(function () { c.sendMessage("ping " + left); });
  c.setOnMessageReceived(function (text) {
    left--;
    if (left > 0) c.sendMessage("ping " + left);
    else c.disconnect();
  });
  c.connectToServer();
});
`,
    );
    const run = sim(procs, ["--port", String(port), "--app", app]);
    assert.equal(await run.exit, 0, run.out());
    const s = summaryOf(run, "dev1");
    assert.equal(s.handshakes, 1, run.out());
    assert.equal(s["messages sent"], 4, run.out());
    assert.equal(s.received, 4, run.out());
    assert.ok(!/lwstcp: (<-|->|handshake succeeded)/.test(run.out()), "the app prints nothing of the demo's");
    assert.deepEqual(
      server
        .events()
        .filter((e) => e.event === "message")
        .map((e) => e.bytes),
      [6, 6, 6, 6],
    );
  });

  it("--device-speed esp32: says so, and the game plays the same with the device's time charged (test/sim-device-speed.test.ts shows the delays)", async () => {
    const { port } = await npmStart(procs);
    const run = sim(procs, ["--port", String(port), "--count", "3", "--device-speed", "esp32"]);
    assert.equal(await run.exit, 0, run.out());
    assert.match(run.out(), /profile v1, 32 rounds, esp32 speed\) connecting to/);
    assert.match(run.out(), /^\[dev1\] lwstcp: FizzBuzz done: 3 replies, 0 wrong$/m);
  });

  it("bad flags: one line naming the problem, exit 2; --help lists --role and --app", async () => {
    const bad = startNode(SIM_CLI, ["--role", "echo-server"]);
    procs.push(bad);
    assert.equal(await bad.exit, 2);
    assert.equal(bad.out().trim().split("\n").length, 1, bad.out());
    assert.match(bad.out(), /^lwstcp-sim: --role must be one of client, server, got 'echo-server' \(see --help\)$/m);
    const speed = startNode(SIM_CLI, ["--device-speed", "fast"]);
    procs.push(speed);
    assert.equal(await speed.exit, 2);
    assert.match(speed.out(), /^lwstcp-sim: --device-speed must be one of instant, esp32, got 'fast' \(see --help\)$/m);
    const port = startNode(SIM_CLI, ["--port", "70000"]);
    procs.push(port);
    assert.equal(await port.exit, 2);
    assert.match(port.out(), /--port must be a port from 1 to 65535/);
    const help = startNode(SIM_CLI, ["--help"]);
    procs.push(help);
    assert.equal(await help.exit, 0);
    assert.match(help.out(), /--role client\|server/);
    assert.match(help.out(), /--app FILE .*\(default: dist\/app-esp32\.js\)/);
  });

  it("a desktop lwstcp-client with another key also names the likely cause (reason stays peer-closed)", async () => {
    const { port } = await npmStart(procs);
    const client = startNode(CLIENT_CLI, ["--port", String(port), "--key", OTHER_KEY, "--mode", "fizzbuzz", "--count", "1", "--log", "json"]);
    procs.push(client);
    assert.equal(await client.exit, 1, client.out());
    const failed = client.events().find((e) => e.event === "handshake-failed");
    assert.ok(failed, client.out());
    assert.equal(failed.reason, "peer-closed");
    assert.ok(String(failed.message).includes(CLOSED_AFTER_RESPONSE), failed.message);
  });

  it("Device.library counts a failed handshake's reason and detail, with no console pattern involved", async () => {
    const { port } = await npmStart(procs, ["--key", OTHER_KEY]);
    const device = await bootFirmware({ name: "counted", app: { path: "dist/app-esp32.js" }, config: deviceConfig(port) });
    devices.push(device);
    await until(() => (device.library.counts.handshakeFailures["peer-closed"] ?? 0) >= 1, { timeoutMs: 10000, what: () => device.consoleLines.join("\n") });
    assert.equal(device.library.counts.handshakes, 0);
    assert.equal(device.library.counts.failureDetails["peer-closed"], CLOSED_AFTER_RESPONSE);
    assert.equal(device.library.settled(), false, "the client still wants a connection");
  });

  it("the library's instrumentation is invisible to the JsVar estimate: setting callbacks costs what plain properties cost", () => {
    const library = `exports.LightweightSecureClient = function C() {};
exports.LightweightSecureClient.prototype.connectToServer = function () { return true; };`;
    const program = `var lw = require("lwstcp"); var c = new lw.LightweightSecureClient();
var f1 = function (t) { return t + "a fairly long callback body to make it cost something"; };
var f2 = function (t) { return t; };
c.onMessageReceived = f1;
c.onError = f2;
var plain = { onMessageReceived: f1, onError: f2 };`;
    const device = createDevice({ storage: { lwstcp: library } });
    devices.push(device);
    device.run(program);
    const sizes = device.run("[E.getSizeOf(c), E.getSizeOf(plain)]") as number[];
    assert.deepEqual([...sizes], [sizes[1], sizes[1]]);
    assert.ok(sizes[1] > 4);
  });
});

describe("npm run sim rebuilds stale bundles of dist/ (or says how)", () => {
  it("a bundle of dist/ older than a firmware source is stale; one outside dist/ is the user's; without Rollup the hint is one line", () => {
    const root = mkdtempSync(join(tmpdir(), "sim-stale-"));
    mkdirSync(join(root, "firmware", "apps"), { recursive: true });
    mkdirSync(join(root, "dist"));
    writeFileSync(join(root, "firmware", "apps", "demo.ts"), "export {};");
    writeFileSync(join(root, "dist", "app-esp32.js"), "");
    writeFileSync(join(root, "mine.js"), "");
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(root, "dist", "app-esp32.js"), old, old);
    utimesSync(join(root, "mine.js"), old, old);
    const paths = [join(root, "dist", "app-esp32.js"), join(root, "mine.js")];
    assert.deepEqual(staleBundles(paths, root).stale, [join(root, "dist", "app-esp32.js")]);
    assert.throws(
      () => ensureFreshBundles(paths, () => {}, root),
      (error: Error) =>
        /^dist\/app-esp32\.js is older than firmware\/apps\/demo\.ts and Rollup is not installed here to rebuild it: run npm run build:firmware in /.test(
          error.message,
        ) && !error.message.includes("\n"),
    );
    const fresh = new Date();
    utimesSync(join(root, "dist", "app-esp32.js"), fresh, fresh);
    assert.deepEqual(staleBundles(paths, root).stale, []);
    ensureFreshBundles(paths, () => assert.fail("nothing to rebuild"), root);
  });
});
