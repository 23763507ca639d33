// Fidelity of E, randomness, crypto and memory accounting against ESPRUINO.md §4, §6 and §8.
import assert from "node:assert/strict";
import { createCipheriv, pbkdf2Sync } from "node:crypto";
import { assertHealthy, bootDevice, sleep, stopAllDevices } from "./helpers/host-sim.js";

const hex = (value: unknown) => Buffer.from(new Uint8Array(value as ArrayBuffer)).toString("hex");

describe("host-sim E and randomness (ESPRUINO.md §4)", function () {
  afterEach(stopAllDevices);

  it("E.hwRand() is Espruino's fixed-seed rand(): 2002641757, 1519824769 … and two boots repeat the sequence", () => {
    const first = bootDevice().run(`[E.hwRand(), E.hwRand(), E.hwRand(), Math.random()]`) as number[];
    const second = bootDevice().run(`[E.hwRand(), E.hwRand(), E.hwRand(), Math.random()]`) as number[];
    assert.deepEqual([...first].slice(0, 2), [2002641757, 1519824769]);
    assert.deepEqual([...second], [...first], "a reboot repeats E.hwRand and Math.random");
    assert.notDeepEqual(bootDevice().run(`E.srand(7); [E.hwRand(), E.hwRand()]`), [...first].slice(0, 2));
  });

  it("peek32 at the board's RNG register gives fresh randomness per boot; other addresses throw", () => {
    const boards = [
      ["ESP32", 0x3ff75144],
      ["ESP32S3", 0x6003507c],
      ["ESP32C3", 0x600260b0],
    ] as const;
    for (const [board, address] of boards) {
      const a = bootDevice({ board }).run(`[peek32(${address}), peek32(${address})]`) as number[];
      const b = bootDevice({ board }).run(`[peek32(${address}), peek32(${address})]`) as number[];
      assert.notDeepEqual([...a], [...b], `${board}: two boots must differ`);
      assert.ok([...a].every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff));
    }
    const device = bootDevice();
    device.run(`try { peek32(0x3FF00000); } catch (e) { print("threw " + e.message.slice(0, 20)); }`);
    assert.deepEqual(device.consoleLines, ["threw peek32(0x3ff00000): "]);
  });

  it("E.toString and E.toUint8Array accept strings, arrays, typed arrays, numbers and {data,count}; values wrap to bytes", () => {
    const result = bootDevice().run(`[E.toString("a", [66], new Uint8Array([67]), 68), E.toString(new Uint16Array([300])),
      E.toString({data: "ab", count: 2}), E.toString(), E.toUint8Array("A\\x00\\xff", [256, -1]).join(),
      E.toUint8Array([1]) instanceof Uint8Array]`) as unknown[];
    assert.deepEqual([...result], ["aBCD", "\x2c", "abab", "", "65,0,255,0,255", true]);
  });

  it("E.getSizeOf({a,b}) is 3 JsVars; E.getErrorFlags() is an array, normally empty", () => {
    const result = bootDevice().run(`[E.getSizeOf({a: 1, b: 2}), E.getSizeOf(1), Array.isArray(E.getErrorFlags()), E.getErrorFlags().length]`) as unknown[];
    assert.deepEqual([...result], [3, 0, true, 0]);
  });
});

describe("host-sim crypto (ESPRUINO.md §6)", function () {
  afterEach(stopAllDevices);
  const key32 = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  const keyLiteral = `new Uint8Array([${[...key32].join(",")}])`;

  it("AES-256-ECB, key 00..1f, '0123456789abcdef' gives d8c95758e3353e530fa52bd10e73b986 as an ArrayBuffer", () => {
    const device = bootDevice();
    const out = device.run(`var r = AES.encrypt("0123456789abcdef", ${keyLiteral}, {mode: "ECB"}); print(r instanceof ArrayBuffer); r`);
    assert.equal(hex(out), "d8c95758e3353e530fa52bd10e73b986");
    assert.deepEqual(device.consoleLines, ["true"]);
  });

  it("CBC is the default with a zero IV and matches Node aes-256-cbc without padding; decrypt round-trips", () => {
    const plain = Buffer.from("0123456789abcdef0123456789ABCDEF");
    const node = createCipheriv("aes-256-cbc", key32, Buffer.alloc(16)).setAutoPadding(false);
    const expected = Buffer.concat([node.update(plain), node.final()]).toString("hex");
    const device = bootDevice();
    const [enc, dec] = device.run(`var c = require("crypto").AES.encrypt("${plain}", ${keyLiteral});
      [c, E.toString(AES.decrypt(c, ${keyLiteral}))]`) as [ArrayBuffer, string];
    assert.equal(hex(enc), expected);
    assert.equal(dec, plain.toString());
    device.run(`print(AES.encrypt("short", ${keyLiteral}))`);
    assert.deepEqual(device.consoleLines, ["ERROR: Invalid input length", "undefined"]);
  });

  it("CTR ignores the IV (counter from 0, = Node aes-256-ctr with zero IV); CTR decrypt does not round-trip; CFB is CFB-8", () => {
    const plain = Buffer.from("hello espruino, twenty-nine bytes!");
    const ctr = createCipheriv("aes-256-ctr", key32, Buffer.alloc(16)).update(plain).toString("hex");
    const iv = Buffer.from("0f0e0d0c0b0a09080706050403020100", "hex");
    const cfb8 = createCipheriv("aes-256-cfb8", key32, iv).update(plain).toString("hex");
    const [withIv, decrypted, viaEncrypt, cfb, cfbBack] = bootDevice().run(`var k = ${keyLiteral}, p = "${plain}";
      var iv = E.toUint8Array(atob("${iv.toString("base64")}"));
      var c = AES.encrypt(p, k, {mode: "CTR", iv: iv});
      var f = AES.encrypt(p, k, {mode: "CFB", iv: iv});
      [c, E.toString(AES.decrypt(c, k, {mode: "CTR"})), E.toString(AES.encrypt(c, k, {mode: "CTR"})), f,
       E.toString(AES.decrypt(f, k, {mode: "CFB", iv: iv}))]`) as [ArrayBuffer, string, string, ArrayBuffer, string];
    assert.equal(hex(withIv), ctr);
    assert.notEqual(decrypted, plain.toString(), "CTR decrypt is broken as on Linux");
    assert.equal(viaEncrypt, plain.toString(), "decrypting with AES.encrypt works");
    assert.equal(hex(cfb), cfb8);
    assert.notEqual(cfbBack, plain.toString(), "CFB decrypt does not round-trip");
  });

  it("errors are printed and undefined returned: wrong key length, OFB; lowercase or unknown modes throw", () => {
    const device = bootDevice();
    device.run(`print(AES.encrypt("0123456789abcdef", "shortkey", {mode: "ECB"}));
      print(AES.encrypt("0123456789abcdef", ${keyLiteral}, {mode: "OFB"}));
      try { AES.encrypt("0123456789abcdef", ${keyLiteral}, {mode: "ecb"}); } catch (e) { print(e.message); }
      try { AES.encrypt("0123456789abcdef", ${keyLiteral}, {mode: "GCM"}); } catch (e) { print(e.message); }`);
    assert.deepEqual(device.consoleLines, [
      "ERROR: Unknown error: -0x20",
      "undefined",
      "ERROR: Feature unavailable",
      "undefined",
      'Unknown Crypto mode "ecb"',
      'Unknown Crypto mode "GCM"',
    ]);
  });

  it("SHA256('abc') is ba7816bf…f20015ad as an ArrayBuffer; PBKDF2 matches Node", () => {
    const [sha, pbk] = bootDevice().run(`var c = require("crypto");
      [c.SHA256("abc"), c.PBKDF2("password", "salt", {keySize: 8, iterations: 1000, hasher: "SHA256"})]`) as ArrayBuffer[];
    assert.equal(hex(sha), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.equal(hex(pbk), pbkdf2Sync("password", "salt", 1000, 32, "sha256").toString("hex"));
  });
});

describe("host-sim memory (ESPRUINO.md §8)", function () {
  afterEach(stopAllDevices);

  it("process.memory() reports {free, usage, total} with total = the board's JsVars (ESP32 16383, ESP32C3 4095)", () => {
    const m = bootDevice().run(`process.memory()`) as { free: number; usage: number; total: number };
    assert.equal(m.total, 16383);
    assert.equal(m.free + m.usage, m.total);
    assert.ok(m.usage > 0 && m.usage < 1000, `a fresh device uses little (${m.usage})`);
    assert.equal(bootDevice({ board: "ESP32C3" }).run(`process.memory().total`), 4095);
  });

  it("a 70,000-char string costs about 5,000 JsVars (flat string ⌈len/14⌉+1)", () => {
    const device = bootDevice();
    const before = device.run(`process.memory().usage`) as number;
    const after = device.run(`var big = E.toString({data: 65, count: 70000}); process.memory().usage`) as number;
    assert.ok(Math.abs(after - before - 5001) < 10, `grew by ${after - before}`);
  });

  it("exceeding the JsVar budget fails the device: 'ERROR: Out of Memory!', failure recorded, execution stopped", async () => {
    const device = bootDevice({ jsVars: 2000, memoryCheckMs: 0 });
    device.run(`var log = []; var iv = setInterval(function () { for (var i = 0; i < 20; i++) log.push("a fairly long log line " + log.length); }, 1);
      setTimeout(function () { print("survived"); }, 500);`);
    await sleep(300);
    assert.equal(device.failure?.kind, "out-of-memory");
    assert.ok(device.consoleLines.includes("ERROR: Out of Memory!"));
    assert.equal(device.stopped, true);
    await sleep(250);
    assert.ok(!device.consoleLines.includes("survived"), "nothing runs after the failure");
    assert.ok(device.peakJsVars > 2000);
  });

  it("a 65,531-byte buffer held only by a closure is counted (≥ 4,682 JsVars), as a socket listener holds a connection", () => {
    const device = bootDevice();
    const before = device.memory().usage;
    device.run(
      `var onData = (function () { var connection = { packet: new Uint8Array(65531) }; return function (d) { return connection.packet.length + d; }; })();`,
    );
    const after = device.memory().usage;
    assert.ok(after - before >= 4682, `grew by ${after - before}`);
    device.run(`onData = undefined;`);
    assert.ok(device.memory().usage - before < 50, "and no longer once the closure is gone");
    assertHealthy(device);
  });

  it("four connections holding a 64 KB receive buffer each, reachable only through their listeners' closures, exceed the ESP32's 16,383 JsVars", () => {
    // What the framer did before the key was proven: one `01 ff f8` per connection made it
    // allocate the announced 65,531 bytes. The estimate must trip the budget as the board would.
    const device = bootDevice({ memoryCheckMs: 0 });
    device.run(`var listeners = [];
      function accept() { var connection = { framer: { packet: new Uint8Array(65531) } }; listeners.push(function (d) { return connection.framer.packet.length + d; }); }
      for (var i = 0; i < 4; i++) accept();`);
    assert.equal(device.failure?.kind, "out-of-memory");
    assert.ok(device.peakJsVars > 16383, `peak ${device.peakJsVars}`);
  });

  it("200 small objects held by a global cost a few JsVars each, well inside the budget", () => {
    const device = bootDevice({ jsVars: 16383 });
    device.run(`var kept = []; for (var i = 0; i < 200; i++) kept.push({id: i, name: "n" + i});`);
    const usage = device.memory().usage;
    assert.ok(usage > 200 * 3 && usage < 3000, `200 small objects: ${usage}`);
    assertHealthy(device);
  });
});
