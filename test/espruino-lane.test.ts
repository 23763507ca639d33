// The real-interpreter lane: the built bundles on Espruino 2v29 (the Linux build named by the
// ESPRUINO environment variable) against the desktop processes over 127.0.0.1: the library as
// client and as server, profile v2 both ways, and the demo app from the exact upload text of
// `npm run flash -- --out`. Without ESPRUINO the lane skips with one printed line.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cachedModules, type EspruinoRun, flashedV1Storage, runEspruino, skipWithoutEspruino, stopEspruinoAfterEach } from "./helpers/espruino-process.js";
import { countingXteaSource, freePort } from "./helpers/host-sim.js";
import { CLIENT_CLI, DEMO_KEY_HEX, deviceConfig, startLwstcpServer, startNode, stopAfterEach, until } from "./helpers/processes.js";

const OTHER_KEY_HEX = "11".repeat(32);
/** The library as flashed for v1: with lwstcp-xtea, its written-out cipher, beside it. */
const library = flashedV1Storage;
/** The library without lwstcp-xtea: it ciphers with its own loop. */
const libraryAlone = () => ({ lwstcp: readFileSync("dist/lwstcp.js", "latin1") });
const libraryV2 = () => ({ ...libraryAlone(), "lwstcp-v2": readFileSync("dist/lwstcp-v2.js", "latin1") });

/** ES5 FizzBuzz lines as the C++ example plays them (firmware/apps/fizzbuzz.ts). */
const FIZZBUZZ_JS = `function fb(n) { var t = ""; if (n % 3 === 0) t += "Fizz"; if (n % 5 === 0) t += "Buzz";
  if (!t) { for (var i = 0; i < (n % 4) + 2; i++) t += " "; t += "(:"; } return n + " " + t; }`;

/** A device client that plays `rounds` FizzBuzz replies, checking each line. */
function fizzBuzzClient(port: number, key: string, rounds: number, profile = "", setup = ""): string {
  return `${FIZZBUZZ_JS}
var lw = require("lwstcp"); lw.setHandshakeKey("${key}"); ${profile ? `lw.setProfile("${profile}");` : ""} ${setup}
var c = new lw.LightweightSecureClient("127.0.0.1", ${port});
var expected = 2, replies = 0, wrong = 0;
c.setOnHandshakeSuccess(function () { print("handshake succeeded"); expected = 2; c.sendMessage("1"); });
c.setOnHandshakeFailed(function (reason, detail) { print("handshake failed: " + reason + (detail ? " (" + detail + ")" : "")); });
c.setOnDisconnected(function (reason) { print("disconnected: " + reason); });
c.setOnError(function (text) { print("error: " + text); });
c.setOnMessageReceived(function (text) {
  replies++;
  if (text !== fb(expected)) { wrong++; print("wrong: " + text); }
  print("<- " + text);
  if (replies >= ${rounds}) { print("done " + replies + " replies, " + wrong + " wrong"); c.disconnect(); setTimeout(quit, 300); return; }
  var n = parseInt(text, 10); expected = n + 2; c.sendMessage(fb(n + 1));
});
c.connectToServer();`;
}

/** A device echo server on `port` (answers after the callback returns, as the demo does). */
function echoServer(port: number, key: string, profile = ""): string {
  return `var lw = require("lwstcp"); lw.setHandshakeKey("${key}"); ${profile ? `lw.setProfile("${profile}");` : ""}
var server = new lw.LightweightSecureServer(${port});
server.setOnHandshakeSuccess(function (result, session) {
  print("session opened");
  session.setOnMessageReceived(function (text) { setTimeout(function () { session.sendMessage(text); }, 0); });
  session.setOnSessionEnded(function (reason) { print("session ended: " + reason); });
});
server.setOnHandshakeFailed(function (result) { print("handshake failed: " + result.reason); });
server.setOnError(function (text) { print("error: " + text); });
if (server.start()) print("listening " + ${port});`;
}

function assertNoUncaught(run: EspruinoRun): void {
  const bad = run.lines().filter((l) => /Uncaught|New interpreter error|FIFO_FULL|Out of Memory|ASSERT/i.test(l));
  assert.deepEqual(bad, [], run.out().slice(-3000));
}

describe("espruino lane: the bundles on the real interpreter against the desktop processes", function () {
  this.timeout(60000);
  before(function () {
    skipWithoutEspruino(this);
  });
  const { procs } = stopAfterEach();
  stopEspruinoAfterEach();

  it("as client plays 50 rounds of FizzBuzz with lwstcp-server, every line right, then disconnects cleanly", async () => {
    const port = await freePort();
    const server = await startLwstcpServer(port, ["--key", DEMO_KEY_HEX, "--mode", "fizzbuzz"]);
    procs.push(server);
    const run = await runEspruino(fizzBuzzClient(port, DEMO_KEY_HEX, 50), { storage: library() });
    await run.waitFor(/^done 50 replies, 0 wrong$/, 30000);
    assert.ok(run.lines().includes("<- 100 Buzz"), run.out());
    await until(() => server.events().some((e) => e.event === "session-ended"), { timeoutMs: 5000, what: () => server.out() });
    assert.deepEqual(
      server
        .events()
        .filter((e) => e.event === "session-ended")
        .map((e) => e.reason),
      ["disconnect"],
    );
    assert.equal(await run.exit, 0);
    assertNoUncaught(run);
  });

  it("as client gets back every binary and text message of 1 to 4096 bytes from an echo server", async () => {
    const port = await freePort();
    const server = await startLwstcpServer(port, ["--key", DEMO_KEY_HEX, "--mode", "echo", "--quiet"]);
    procs.push(server);
    const sizes = [1, 2, 3, 7, 8, 9, 15, 16, 17, 100, 535, 536, 537, 1000, 1500, 2048, 4095, 4096];
    const app = `var lw = require("lwstcp"); lw.setHandshakeKey("${DEMO_KEY_HEX}");
var sizes = ${JSON.stringify(sizes)}, i = 0, binary = true, sent, bad = 0;
function make(n, bin) { var a = new Uint8Array(n); for (var k = 0; k < n; k++) a[k] = bin ? (k * 131 + n) & 255 : 32 + ((k * 7 + n) % 95); return a; }
var c = new lw.LightweightSecureClient("127.0.0.1", ${port});
function next() {
  if (i === sizes.length) { if (!binary) { print("echo done, " + bad + " bad, " + require("lwstcp-xtea").calls + " lwstcp-xtea calls"); c.disconnect(); setTimeout(quit, 300); return; } binary = false; i = 0; }
  var bytes = make(sizes[i], binary); sent = E.toString(bytes);
  c.sendMessage(binary ? bytes : sent);
}
c.setOnHandshakeSuccess(next);
c.setOnError(function (text) { print("error: " + text); });
c.setOnMessageReceived(function (text) {
  if (text !== sent) { bad++; print("bad echo of " + sizes[i] + (binary ? " binary" : " text") + ": " + text.length + " bytes"); }
  i++; next();
});
c.connectToServer();`;
    const run = await runEspruino(app, { storage: { ...library(), "lwstcp-xtea": countingXteaSource() } });
    await run.waitFor(/^echo done, /, 40000);
    // Every message each way (36 of them) and the handshake went through lwstcp-xtea.
    const done = run.lines().find((l) => l.startsWith("echo done, ")) || "";
    const [, bad, calls] = /^echo done, (\d+) bad, (\d+) lwstcp-xtea calls$/.exec(done) || [];
    assert.equal(bad, "0", run.out());
    assert.ok(Number(calls) >= 72, done);
    assertNoUncaught(run);
  });

  it("with a wrong key reports onHandshakeFailed and delivers nothing", async () => {
    const port = await freePort();
    const server = await startLwstcpServer(port, ["--key", DEMO_KEY_HEX, "--mode", "fizzbuzz"]);
    procs.push(server);
    const run = await runEspruino(fizzBuzzClient(port, OTHER_KEY_HEX, 5), { storage: library() });
    const line = await run.waitFor(/^handshake failed: /, 15000);
    assert.match(line, /^handshake failed: peer-closed \(the server closed the connection after our HandshakeResponse: most likely a different key/);
    assert.ok(!run.lines().some((l) => l.startsWith("<- ")));
    await until(() => server.events().some((e) => e.event === "handshake-failed"), { timeoutMs: 5000, what: () => server.out() });
    assert.equal(server.events().filter((e) => e.event === "handshake-success").length, 0);
    assertNoUncaught(run);
  });

  it("reconnects by itself when the server is restarted, and plays on", async () => {
    const port = await freePort();
    let server = await startLwstcpServer(port, ["--key", DEMO_KEY_HEX, "--mode", "fizzbuzz"]);
    procs.push(server);
    const run = await runEspruino(fizzBuzzClient(port, DEMO_KEY_HEX, 1000000), { storage: library() });
    await run.waitFor("<- 10 Buzz", 20000);
    server.child.kill("SIGKILL");
    await server.exit;
    await run.waitFor(/^disconnected: /, 10000);
    await new Promise((r) => setTimeout(r, 1200)); // at least one refused attempt while it is down
    server = await startLwstcpServer(port, ["--key", DEMO_KEY_HEX, "--mode", "fizzbuzz"]);
    procs.push(server);
    await until(() => run.lines().filter((l) => l === "handshake succeeded").length >= 2, { timeoutMs: 40000, what: () => run.out().slice(-2000) });
    const lines = run.lines();
    const again = lines.lastIndexOf("handshake succeeded");
    await until(() => run.lines().slice(again).includes("<- 10 Buzz"), { timeoutMs: 10000, what: () => run.out().slice(-2000) });
    assert.ok(
      lines.some((l) => /^error: connect to 127\.0\.0\.1:\d+ failed/.test(l)),
      "a refused attempt was reported:\n" + lines.join("\n"),
    );
    assertNoUncaught(run);
  });

  it("as server, without lwstcp-xtea (its own cipher loop): lwstcp-client plays FizzBuzz against it and gets every echo of 1 to 4096 bytes", async () => {
    const port = await freePort();
    const app = `${FIZZBUZZ_JS}
var lw = require("lwstcp"); lw.setHandshakeKey("${DEMO_KEY_HEX}");
var server = new lw.LightweightSecureServer(${port}), sessions = 0;
server.setOnHandshakeSuccess(function (result, session) {
  print("session opened");
  // The first session plays FizzBuzz, later ones echo: the echo client's random bytes may
  // look like a FizzBuzz line (one byte "6"), so the content cannot choose.
  var fizzBuzz = ++sessions === 1;
  session.setOnMessageReceived(function (text) {
    var reply = fizzBuzz ? fb(parseInt(text, 10) + 1) : text;
    setTimeout(function () { session.sendMessage(reply); }, 0);
  });
  session.setOnSessionEnded(function (reason) { print("session ended: " + reason); });
});
server.setOnError(function (text) { print("error: " + text); });
if (server.start()) print("listening");`;
    const run = await runEspruino(app, { storage: libraryAlone() });
    await run.waitFor("listening", 10000);
    const key = ["--host", "127.0.0.1", "--port", String(port), "--key", DEMO_KEY_HEX];
    const fizz = startNode(CLIENT_CLI, [...key, "--mode", "fizzbuzz", "--count", "30"]);
    procs.push(fizz);
    assert.equal(await fizz.exit, 0, fizz.out());
    const echo = startNode(CLIENT_CLI, [...key, "--mode", "echo", "--sizes", "1,8,9,536,1000,4096"]);
    procs.push(echo);
    assert.equal(await echo.exit, 0, echo.out());
    await until(() => run.lines().filter((l) => l === "session ended: disconnect").length === 2, { timeoutMs: 10000, what: () => run.out().slice(-2000) });
    assertNoUncaught(run);
  });

  it("as server with its code in RAM, as an ESP32 runs a Storage module: echoes a 65,528-byte message to lwstcp-client", async () => {
    // Cached from their text (cachedModules says why), so the echo shows the library's own cost.
    const port = await freePort();
    const run = await runEspruino(cachedModules(flashedV1Storage()) + echoServer(port, DEMO_KEY_HEX), {});
    await run.waitFor("listening " + port, 10000);
    const echo = startNode(CLIENT_CLI, ["--host", "127.0.0.1", "--port", String(port), "--key", DEMO_KEY_HEX, "--mode", "echo", "--sizes", "65528"]);
    procs.push(echo);
    assert.equal(await echo.exit, 0, echo.out() + run.out().slice(-2000));
    assert.match(echo.out(), /65528 bytes ok/);
    assertNoUncaught(run);
  });

  it("as server: a malformed client fails only its own connection; a good session beside it plays on", async () => {
    const port = await freePort();
    const run = await runEspruino(echoServer(port, DEMO_KEY_HEX), { storage: library() });
    await run.waitFor("listening", 10000);
    const key = ["--host", "127.0.0.1", "--port", String(port), "--key", DEMO_KEY_HEX];
    // The good client keeps its session open (lines mode reads stdin) while the bad one comes and goes.
    const good = startNode(CLIENT_CLI, [...key, "--mode", "echo", "--sizes", "1,100,4096,1000,1,2,3,4,5,6,7,8,9,10"]);
    procs.push(good);
    await run.waitFor("session opened", 10000);
    for (const garbage of [Buffer.alloc(64, 0xff), Buffer.from("GET / HTTP/1.1\r\n\r\n"), Buffer.from([0, 0, 0, 0])]) {
      const bad = net.connect(port, "127.0.0.1");
      await new Promise<void>((resolve) => bad.once("connect", () => resolve()));
      bad.write(garbage);
      await new Promise<void>((resolve) => {
        bad.once("close", () => resolve());
        bad.on("error", () => {});
        setTimeout(() => {
          bad.destroy();
          resolve();
        }, 3000);
      });
    }
    assert.equal(await good.exit, 0, good.out());
    const ended = run.lines().filter((l) => l.startsWith("session ended: "));
    assert.deepEqual(ended, ["session ended: disconnect"], run.out().slice(-2000));
    assert.ok(
      run.lines().filter((l) => l.startsWith("handshake failed: ")).length >= 2,
      "the malformed connections failed their handshakes:\n" + run.out().slice(-2000),
    );
    // Still serving: a new client is answered after the malformed ones.
    const after = startNode(CLIENT_CLI, [...key, "--mode", "echo", "--sizes", "16"]);
    procs.push(after);
    assert.equal(await after.exit, 0, after.out());
    assertNoUncaught(run);
  });

  it("profile v2 both ways: FizzBuzz against lwstcp-server --profile v2, and as server for lwstcp-client --profile v2", async () => {
    const port = await freePort();
    const server = await startLwstcpServer(port, ["--key", DEMO_KEY_HEX, "--mode", "fizzbuzz", "--profile", "v2"]);
    procs.push(server);
    const client = await runEspruino(fizzBuzzClient(port, DEMO_KEY_HEX, 20, "v2"), { storage: libraryV2() });
    await client.waitFor(/^done 20 replies, 0 wrong$/, 30000);
    assertNoUncaught(client);
    await client.stop();
    const devicePort = await freePort();
    const run = await runEspruino(echoServer(devicePort, DEMO_KEY_HEX, "v2"), { storage: libraryV2() });
    await run.waitFor("listening", 10000);
    const echo = startNode(CLIENT_CLI, [
      "--host",
      "127.0.0.1",
      "--port",
      String(devicePort),
      "--key",
      DEMO_KEY_HEX,
      "--profile",
      "v2",
      "--mode",
      "echo",
      "--sizes",
      "1,15,16,17,1000",
    ]);
    procs.push(echo);
    assert.equal(await echo.exit, 0, echo.out() + "\ndevice:\n" + run.out().slice(-3000));
    await run.waitFor("session ended: disconnect", 10000);
    assertNoUncaught(run);
  });

  it("profile v2 with a device id: setDeviceId pairs with lwstcp-server --keys under its own key; an unknown id is refused; a bad id throws", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lane-keys-"));
    try {
      const keys = join(dir, "keys.json");
      writeFileSync(keys, JSON.stringify({ "lane-1": OTHER_KEY_HEX }), { mode: 0o600 });
      const port = await freePort();
      const server = await startLwstcpServer(port, ["--keys", keys, "--mode", "fizzbuzz", "--profile", "v2"]);
      procs.push(server);
      const setup = `try { lw.setDeviceId("two words"); } catch (e) { print("bad id: " + e.message); } lw.setDeviceId("lane-1");`;
      const client = await runEspruino(fizzBuzzClient(port, OTHER_KEY_HEX, 10, "v2", setup), { storage: libraryV2() });
      await client.waitFor(/^done 10 replies, 0 wrong$/, 30000);
      assert.ok(
        client.lines().some((l) => /^bad id: a device id may hold only printable ASCII/.test(l)),
        client.out(),
      );
      assertNoUncaught(client);
      await client.stop();
      assert.ok(
        server.events().some((e) => e.event === "handshake-success" && e.device === "lane-1"),
        server.out(),
      );
      const stranger = await runEspruino(fizzBuzzClient(port, OTHER_KEY_HEX, 10, "v2", `lw.setDeviceId("lane-2");`), { storage: libraryV2() });
      await stranger.waitFor(/^handshake failed: peer-closed/, 20000);
      await until(() => server.events().some((e) => e.event === "handshake-failed" && e.device === "lane-2"), { timeoutMs: 5000, what: () => server.out() });
      assert.equal(server.events().find((e) => e.event === "handshake-failed" && e.device === "lane-2")?.reason, "unknown-device");
      assertNoUncaught(stranger);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs the demo app from the exact upload text of `npm run flash -- --out`, with a Wifi stand-in prepended", async () => {
    const port = await freePort();
    const server = await startLwstcpServer(port, ["--key", DEMO_KEY_HEX, "--mode", "fizzbuzz"]);
    procs.push(server);
    const dir = mkdtempSync(join(tmpdir(), "lwstcp-upload-"));
    try {
      writeFileSync(join(dir, "config.json"), JSON.stringify(deviceConfig(port, { count: 10 })));
      const uploadPath = join(dir, "upload.js");
      const flash = spawnSync(process.execPath, ["scripts/flash.mjs", "--out", uploadPath, "--config", join(dir, "config.json"), "--no-build"], {
        encoding: "utf8",
        timeout: 50000,
      });
      assert.equal(flash.status, 0, flash.stderr);
      // The Linux build has no Wifi module: a stand-in that joins at once and reports loopback.
      const wifi = `Modules.addCached("Wifi", function () {
  exports.connect = function (ssid, options, callback) { print("wifi stand-in: connect " + ssid + " " + options.password); setTimeout(function () { callback(null); }, 10); };
  exports.getIP = function () { return { ip: "127.0.0.1" }; };
  exports.on = function () {};
});
`;
      const run = await runEspruino(wifi + readFileSync(uploadPath, "latin1"));
      await run.waitFor(/FizzBuzz done: 10 replies, 0 wrong/, 30000);
      assert.ok(run.lines().includes("wifi stand-in: connect lab lab-password"), run.out());
      assert.ok(run.lines().includes("lwstcp: Wi-Fi: up, IP 127.0.0.1"), run.out());
      // The board check is the one difference from an ESP32: this build says LINUX.
      assert.ok(run.lines().includes("lwstcp: WARNING: this app was built for ESP32 but runs on LINUX"), run.out());
      assertNoUncaught(run);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
