// The firmware bundle (dist/lwstcp.js, as the Storage module "lwstcp") on simulated ESP32s under
// bad input and faults: as a client facing a scripted server, and as a server facing
// malicious raw clients while an honest session runs; every attack ends with a reason and no
// uncaught error on the device. Then a server restart under 8 devices (jittered reconnects) and
// JsVars back to the idle level across reconnects. Skipped when the bundles are not built.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import type { Socket } from "node:net";
import fc from "fast-check";
import type { Device } from "../host-sim/device.js";
import { bootFirmware, DEFAULT_LIBRARY_PATH } from "../host-sim/runner.js";
import { LightweightSecureServer } from "../server/index.js";
import { assertHealthy, freePort } from "./helpers/host-sim.js";
import {
  type ByteReader,
  corePeer,
  fakeServer,
  guardProcess,
  KEY_HEX,
  makeMessage,
  makeRequest,
  makeResponse,
  makeSuccess,
  ROLE_CLIENT,
  rawMessageHeader,
  rawSocket,
  schedule,
  startServer,
  until,
  within,
} from "./helpers/reliability.js";
import { testBytes, testKeyWords } from "./helpers/seed.js";

/** The device program: probe(id, port) runs one client attempt and prints its outcome; serve(port) runs an echo server. */
const PROGRAM = `
var lw = require("lwstcp");
lw.setHandshakeKey("${KEY_HEX}");
var current;
function probe(id, port, reconnect) {
  var c = new lw.LightweightSecureClient("127.0.0.1", port);
  c.setAutoReconnect(!!reconnect, 1000, 4000);
  c.setHandshakeTimeout(2000);
  c.setOnHandshakeSuccess(function () { print("P" + id + " open"); });
  c.setOnHandshakeFailed(function (r) { print("P" + id + " failed " + r); });
  c.setOnDisconnected(function (r) { print("P" + id + " ended " + r); });
  c.setOnMessageReceived(function (t) { print("P" + id + " message " + btoa(t)); });
  current = c;
  c.connectToServer();
}
function serve(port) {
  var s = new lw.LightweightSecureServer(port);
  s.setMaxSessions(16);
  s.setHandshakeTimeout(2000);
  s.setOnHandshakeFailed(function (r) { print("S failed " + r.reason); });
  s.setOnHandshakeSuccess(function (r, session) {
    print("S open");
    session.setOnMessageReceived(function (t) { print("S message " + btoa(t)); session.sendMessage(t); });
    session.setOnSessionEnded(function (reason) { print("S ended " + reason); });
  });
  s.start();
}
`;

describe("reliability: the firmware bundle on the simulated device", function () {
  this.timeout(90000);
  guardProcess();
  const devices: Device[] = [];

  before(function () {
    if (!existsSync(DEFAULT_LIBRARY_PATH)) this.skip();
  });

  afterEach(() => {
    for (const d of devices.splice(0)) {
      assertHealthy(d);
      d.stop();
    }
  });

  async function boot(name = "dev"): Promise<Device> {
    const device = await bootFirmware({
      name,
      app: { source: PROGRAM, filename: "reliability-app.js" },
      library: { path: DEFAULT_LIBRARY_PATH },
      wifi: { connectedAtBoot: true },
    });
    devices.push(device);
    return device;
  }

  const lines = (device: Device, prefix: string) => device.consoleLines.filter((l) => l.startsWith(prefix));

  describe("as a client facing a scripted server", () => {
    let device: Device;
    let probes = 0;
    const scripts: Array<(socket: Socket, reader: ByteReader) => Promise<void> | void> = [];
    let fake: Awaited<ReturnType<typeof fakeServer>>;

    before(async () => {
      fake = await fakeServer((socket, reader, index) => scripts[index](socket, reader));
    });
    after(() => fake.close());
    beforeEach(async () => {
      device = await boot();
    });

    /** One probe against `script`: resolves with its outcome lines ("failed r" or "open", "ended r", messages). */
    async function probe(script: (socket: Socket, reader: ByteReader) => Promise<void> | void): Promise<string[]> {
      scripts.push(script);
      const id = ++probes;
      device.run(`probe(${id}, ${fake.port})`);
      await within(device.waitForConsole(new RegExp(`^P${id} (failed|ended) `), 8000), 9000, "probe " + id);
      return lines(device, "P" + id + " ").map((l) => l.slice(String(id).length + 2));
    }

    const honestStart = async (socket: Socket, reader: ByteReader) => {
      socket.write(makeRequest(schedule()).packet);
      await reader.read(25);
    };

    it("random bytes from the server (fast-check): the handshake fails with a reason and no uncaught error", async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 80 }), async (bytes) => {
          const out = await probe((socket) => void socket.end(bytes));
          const all = Buffer.from(bytes);
          if (out[0] === "open") assert.ok(all[0] === 2 && all[25] === 4, "opened on " + all.toString("hex"));
          // A first 0x12 (a v2 ServerHello) is profile-mismatch, as on the desktop; every other
          // TYPE outside 0x01-0x06 is an unknown TYPE. wrong-type: a whole v1 packet of
          // the wrong TYPE; zero-length / bad-length: 0x01 with LENGTH 0 / over 65528; peer-closed:
          // the close inside a packet; handshake-timeout: a close slower than the timeout on a loaded
          // machine. (bad-size cannot come through the framer, which sizes packets by TYPE.)
          else assert.match(out[0], /^failed (wrong-type|unknown-type|profile-mismatch|zero-length|bad-length|peer-closed|handshake-timeout)$/);
          assertHealthy(device);
        }),
        { numRuns: 15 },
      );
    });

    it("wrong TYPEs at both steps, truncations, LENGTH 0 and over 65528, an unknown TYPE mid-session, Success before Request", async () => {
      const key = testKeyWords();
      const cases: Array<[string, (socket: Socket, reader: ByteReader) => Promise<void> | void, string[]]> = [
        ["Success first", (s) => void s.write(makeSuccess(key, schedule())), ["failed wrong-type"]],
        ["KeepAlive first", (s) => void s.write(Buffer.of(5)), ["failed wrong-type"]],
        ["unknown TYPE first", (s) => void s.write(Buffer.of(0x42)), ["failed unknown-type"]],
        // A message header during the handshake is a wrong TYPE, judged at its first byte (its LENGTH is never read).
        ["LENGTH 0 first", (s) => void s.write(rawMessageHeader(0, 8)), ["failed wrong-type"]],
        ["Request cut short", (s) => void s.end(makeRequest(schedule()).packet.subarray(0, 13)), ["failed peer-closed"]],
        [
          "Request twice",
          async (s, r) => {
            await honestStart(s, r);
            s.write(makeRequest(schedule()).packet);
          },
          ["failed wrong-type"],
        ],
        [
          "Success cut short",
          async (s, r) => {
            await honestStart(s, r);
            s.end(makeSuccess(key, schedule()).subarray(0, 20));
          },
          ["failed peer-closed"],
        ],
        [
          "LENGTH 65529 in session",
          async (s, r) => {
            await honestStart(s, r);
            s.write(
              Buffer.concat([
                makeSuccess(key, schedule()),
                makeMessage(Buffer.from("ok"), key),
                rawMessageHeader(65529, 8),
                makeMessage(Buffer.from("no"), key),
              ]),
            );
          },
          ["open", "message " + Buffer.from("ok").toString("base64"), "ended bad-length"],
        ],
        [
          "unknown TYPE in session",
          async (s, r) => {
            await honestStart(s, r);
            s.write(Buffer.concat([makeSuccess(key, schedule()), makeMessage(Buffer.from("ok"), key), Buffer.of(7), makeMessage(Buffer.from("no"), key)]));
          },
          ["open", "message " + Buffer.from("ok").toString("base64"), "ended unknown-type"],
        ],
        [
          "reset mid-message",
          async (s, r) => {
            await honestStart(s, r);
            s.write(Buffer.concat([makeSuccess(key, schedule()), makeMessage(testBytes(30), key).subarray(0, 12)]));
            await new Promise((z) => setTimeout(z, 50));
            s.resetAndDestroy();
          },
          ["open", "ended socket-error"],
        ],
      ];
      for (const [name, script, want] of cases) {
        const lines = await probe(script);
        // A failed handshake on a TCP connection that was up is also reported as onDisconnected.
        const out = lines[0].startsWith("failed ") ? lines.filter((l) => !l.startsWith("ended ")) : lines;
        // A reset reaches the device as an error event (socket-error), or, when its socket saw the
        // connection end first, as a plain close (peer-closed).
        if (name === "reset mid-message") assert.match(out[1], /^ended (socket-error|peer-closed)$/, name);
        else assert.deepEqual(out, want, name);
      }
    });
  });

  describe("as a server facing malicious clients while an honest session runs", () => {
    it("random bytes (fast-check), a wrong xor, a replayed transcript, Success first, LENGTH 0: each fails with a reason; the honest session still echoes", async () => {
      const device = await boot();
      const port = await freePort();
      device.run(`serve(${port})`);
      await until(() => device.net !== undefined, { timeoutMs: 1000, what: "the device" });
      const honestSocket = (await rawSocket(port)).socket;
      const honest = corePeer(honestSocket, ROLE_CLIENT);
      assert.equal(await within(honest.handshake, 8000, "the honest handshake"), "open");
      const failures = () => lines(device, "S failed ");
      const attack = async (run: (socket: Socket, reader: ByteReader) => Promise<void>) => {
        const before = failures().length;
        const raw = await rawSocket(port);
        await run(raw.socket, raw.reader);
        await until(() => failures().length > before, { timeoutMs: 8000, what: "the device's verdict" });
        raw.socket.destroy();
        return failures()[before].slice("S failed ".length);
      };
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 60 }), async (bytes) => {
          const reason = await attack(async (s, r) => {
            await r.read(25);
            s.end(bytes);
          });
          // As the desktop server: verify-failed for 0x03 + 24 bytes that do not check out, unknown-type
          // for any TYPE outside 0x01-0x06 (a v2 ClientHello 0x13 included), wrong-type for another
          // whole v1 packet, zero-length / bad-length for LENGTH 0 / over 65528, peer-closed for the
          // FIN inside a packet.
          assert.match(reason, /^(wrong-type|verify-failed|unknown-type|zero-length|bad-length|peer-closed)$/);
        }),
        { numRuns: 10 },
      );
      assert.equal(await attack(async (s, r) => void s.write(makeResponse(await r.read(25), schedule(), (n) => (n[4] = (n[4] ^ 1) >>> 0)))), "verify-failed");
      const recorded = makeResponse(await (await rawSocket(port)).reader.read(25), schedule());
      assert.equal(
        await attack(async (s, r) => {
          await r.read(25);
          s.write(recorded);
        }),
        "verify-failed",
      );
      assert.equal(await attack(async (s) => void s.write(makeSuccess(new Uint32Array(8), schedule()))), "wrong-type");
      assert.equal(
        await attack(async (s, r) => {
          await r.read(25);
          s.write(rawMessageHeader(0, 8));
        }),
        "wrong-type",
      );
      assert.equal(lines(device, "S open").length, 1, "only the honest client opened a session");
      honest.connection.sendBytes(Buffer.from("still served"), 0, 12);
      await until(() => honest.messages.length === 1, { timeoutMs: 5000, what: "the echo" });
      assert.equal(honest.messages[0].toString(), "still served");
      assert.deepEqual(lines(device, "S message "), ["S message " + Buffer.from("still served").toString("base64")]);
      honestSocket.destroy();
      assertHealthy(device);
    });
  });

  it("server restart under 8 devices: every device reconnects, spread by jittered backoff over more than 50 ms", async () => {
    let server = await startServer();
    const port = server.port;
    const booted = await Promise.all(Array.from({ length: 8 }, (_, i) => boot("dev" + i)));
    for (const d of booted) d.run(`probe(1, ${port}, true)`);
    await until(() => server.sessionCount === 8, { timeoutMs: 15000, what: "8 device sessions" });
    await server.stop();
    await Promise.all(booted.map((d) => d.waitForConsole("P1 ended disconnect", 5000)));
    const back: number[] = [];
    server = new LightweightSecureServer(port, { host: "127.0.0.1", key: KEY_HEX });
    server.on("handshakeSuccess", () => back.push(Date.now()));
    await server.start();
    try {
      await until(() => back.length === 8, { timeoutMs: 20000, what: "all 8 devices to reconnect" });
      // The first delay is uniform over (500, 1000] ms: eight draws fall within 50 ms of each other
      // by chance about once in 400,000 runs (within 100 ms: once in 12,000).
      const spread = Math.max(...back) - Math.min(...back);
      assert.ok(spread > 50, "8 devices reconnected within " + spread + " ms");
      for (const d of booted) {
        d.run("current.disconnect()");
        assertHealthy(d);
      }
    } finally {
      await server.stop();
    }
  });

  it("JsVars return to the idle level after each of 20 connect → handshake → Disconnect cycles", async () => {
    const server = await startServer();
    try {
      const device = await boot();
      const idle: number[] = [];
      for (let i = 1; i <= 20; i++) {
        device.run(`probe(${i}, ${server.port})`);
        await device.waitForConsole(`P${i} open`, 8000);
        device.run("current.disconnect(); current = undefined;");
        await device.waitForConsole(`P${i} ended local-disconnect`, 8000);
        // The server has the Disconnect once the device's socket went out, a pass before it is released.
        await until(() => server.sessionCount === 0, { timeoutMs: 3000, what: `the server to see Disconnect ${i}` });
        if (i > 1)
          await until(() => device.memory().usage < idle[0] + 10, {
            timeoutMs: 2000,
            what: () => `JsVars back to ${idle[0]} after cycle ${i}: ${device.memory().usage}`,
          });
        else await new Promise((resolve) => setTimeout(resolve, 20));
        idle.push(device.memory().usage);
      }
      // The same level after the 20th as after the 1st (a leak of even one JsVar per cycle would show as 19).
      assert.ok(idle[19] - idle[0] < 10, "JsVars after each cycle: " + idle.join(", "));
      await until(() => server.sessionCount === 0, { timeoutMs: 3000, what: "the server to see every Disconnect" });
      assertHealthy(device);
    } finally {
      await server.stop();
    }
  });
});
