// Issue 5's "Done when": each kind of firmware bug below must make a test fail under the simulator.
// Each case runs a small buggy program and shows the simulator exposes the bug the way a board would
// (wrong bytes on the wire, an uncaught error, a refused bundle, repeated keys, an out-of-memory stop),
// next to the correct program passing the same check.
import assert from "node:assert/strict";
import { bootFirmware } from "../host-sim/runner.js";
import { assertHealthy, bootDevice, type Peer, sleep, startPeer, stopAllDevices, until } from "./helpers/host-sim.js";

describe("host-sim exposes firmware bugs", function () {
  let peer: Peer | undefined;
  afterEach(async () => {
    stopAllDevices();
    await peer?.close();
    peer = undefined;
  });

  async function bytesSentBy(program: (port: number) => string, expectedLength: number): Promise<Buffer> {
    peer = await startPeer();
    const device = bootDevice();
    device.run(program(peer.port));
    await until(() => peer!.receivedBytes().length >= expectedLength, { what: `${expectedLength} bytes at the peer` });
    return peer.receivedBytes();
  }

  it("writing a typed array to a socket sends its text ('1,2,255'), not its bytes", async () => {
    const buggy = await bytesSentBy((port) => `var s = require("net").connect({port: ${port}}, function () { s.write(new Uint8Array([1, 2, 255])); });`, 7);
    assert.equal(buggy.toString(), "1,2,255");
    await peer!.close();
    peer = undefined;
    const fixed = await bytesSentBy(
      (port) => `var s = require("net").connect({port: ${port}}, function () { s.write(E.toString(new Uint8Array([1, 2, 255]))); });`,
      3,
    );
    assert.deepEqual([...fixed], [1, 2, 255]);
  });

  it("using a global Espruino lacks: refused by the static check, and an uncaught ReferenceError if it runs", async () => {
    const source = `setTimeout(function () { var seen = new Set(); seen.add(1); print("ok"); }, 1);`;
    await assert.rejects(bootFirmware({ app: { source, filename: "app.js" }, library: null }), /unknown-global.*Set/);
    const device = bootDevice();
    device.run(source);
    await sleep(30);
    assert.throws(() => assertHealthy(device), /Uncaught ReferenceError/);
  });

  it("assuming one packet per 'data' event: a 1000-byte frame arrives as 536 + 464", async () => {
    peer = await startPeer((socket) => socket.write(Buffer.alloc(1000, 0x41)));
    const device = bootDevice();
    device.run(`
      var buffered = "";
      var s = require("net").connect({port: ${peer.port}});
      s.on("data", function (d) {
        if (d.length !== 1000) print("buggy parser: frame of " + d.length);
        buffered += d;
        if (buffered.length === 1000) print("correct parser: one frame");
      });`);
    await device.waitForConsole("correct parser");
    assert.deepEqual(device.consoleLines, ["buggy parser: frame of 536", "buggy parser: frame of 464", "correct parser: one frame"]);
  });

  it("using E.hwRand or Math.random for keys: every boot makes the same key; peek32 at the RNG register does not", () => {
    const keygen = `var k = []; for (var i = 0; i < 4; i++) k.push(E.hwRand().toString(16)); k.push(Math.random()); k.join("-")`;
    assert.equal(bootDevice().run(keygen), bootDevice().run(keygen), "two boots, same 'random' key");
    const hardware = `var k = []; for (var i = 0; i < 4; i++) k.push(peek32(0x3FF75144).toString(16)); k.join("-")`;
    assert.notEqual(bootDevice().run(hardware), bootDevice().run(hardware));
  });

  it("Math.random in a bundle is refused by the static check", async () => {
    await assert.rejects(bootFirmware({ app: { source: "var key = Math.random();", filename: "app.js" }, library: null }), /math-random/);
  });

  it("exceeding the JsVar budget: a device that keeps every received chunk stops with out of memory", async function () {
    this.timeout(10000);
    peer = await startPeer((socket) => socket.write(Buffer.alloc(300_000, 0x42)));
    const device = bootDevice({ memoryCheckMs: 20 });
    device.run(`
      var history = [];
      var s = require("net").connect({port: ${peer.port}});
      s.on("data", function (d) { history.push(d); });`);
    await until(() => device.stopped, { timeoutMs: 8000, what: "the device to stop" });
    assert.equal(device.failure?.kind, "out-of-memory");
    assert.throws(() => assertHealthy(device), /out-of-memory/);
  });
});
