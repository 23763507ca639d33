// One table of snippets run on both the simulator (host-sim, modelling an ESP32) and the real
// Espruino 2v29 interpreter (the Linux build named by ESPRUINO): each snippet prints what it
// sees, and the two consoles must agree. Where the board layers legitimately differ (ESP32 vs
// Linux), the case says which side is ESP32's truth and where that comes from, and asserts each
// side's own answer. Without ESPRUINO the lane skips with one printed line.
import assert from "node:assert/strict";
import net from "node:net";
import { afterBanner, runEspruino, skipWithoutEspruino, stopEspruinoAfterEach } from "./helpers/espruino-process.js";
import { bootDevice, freePort, stopAllDevices } from "./helpers/host-sim.js";

/** A TCP peer on 127.0.0.1 for the socket cases: records what arrives, may send something first. */
interface CasePeer {
  port: number;
  received: () => string;
  close: () => Promise<void>;
}

async function startCasePeer(send?: Buffer): Promise<CasePeer> {
  let received = "";
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("data", (d) => (received += d.toString("latin1")));
    socket.on("error", () => {});
    if (send) socket.write(send);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received: () => received,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface FidelityCase {
  name: string;
  /** The snippet; PORT is replaced by a peer's port (or a free port nobody listens on). It ends by printing "end". */
  source: string;
  peer?: "records" | Buffer | "none";
  /**
   * Set where the two differ. "board layer": ESP32 and Linux legitimately differ, the simulator
   * models the ESP32 and its answer is ESP32's truth. "simulator gap": the interpreter is the
   * truth and the simulator is known to be wrong (a fix to host-sim flips this case).
   */
  differs?: { kind: "board layer" | "simulator gap"; why: string; simulator: string[]; interpreter: string[] };
}

const END = `print("end");`;

const CASES: FidelityCase[] = [
  {
    name: "the board: its name, the Wifi module, the RNG register",
    source: `print(process.env.BOARD);
try { require("Wifi"); print("Wifi module"); } catch (e) { print("no Wifi module"); }
print(typeof peek32);
${END}`,
    differs: {
      kind: "board layer",
      why: "the simulator is an ESP32 (board ESP32, Wifi built in, peek32 reads the RNG register 0x3FF75144 as boards/ESP32.json says); the Linux build has no Wifi and no such register",
      simulator: ["ESP32", "Wifi module", "function"],
      interpreter: ["LINUX", "no Wifi module", "function"],
    },
  },
  {
    name: "globals Espruino lacks (Map, Set, Symbol, BigInt, TextEncoder, Math.imul, Buffer) and those it has",
    source: `print([typeof Map, typeof Set, typeof Symbol, typeof BigInt, typeof TextEncoder, typeof Math.imul, typeof Buffer, typeof WeakMap, typeof queueMicrotask].join());
print([typeof Promise, typeof E.toString, typeof E.toUint8Array, typeof Uint8Array, typeof DataView, typeof JSON.stringify, typeof atob, typeof btoa].join());
${END}`,
  },
  {
    name: "a syntax error in a function body is thrown where it is parsed, not at load",
    source: `try { eval("var a = ;"); print("no throw"); } catch (e) { print("threw " + (e instanceof Error) + " " + e.name); }
${END}`,
  },
  {
    name: "a syntax error in the file: Espruino runs the statements before it, then stops there",
    source: `print("before");
var x = ;
print("after");`,
    differs: {
      kind: "simulator gap",
      why: "the interpreter is the truth: Espruino parses while it executes, so the statements before the error have run, and then it stops; host-sim hands the whole text to V8, which rejects it before running any of it. The build's static checker parses every bundle first, so no bundle reaches a device with a syntax error",
      simulator: ["*SyntaxError: Unexpected token ';'"],
      interpreter: ["before", "Uncaught SyntaxError: Got ';' expected EOF", "*(:2:9)", "var x = ;", "*^", "Uncaught undefined"],
    },
  },
  {
    name: "no hoisting of a function declared later in the file, var is undefined before its statement",
    source: `try { later(); print("later called"); } catch (e) { print("threw " + e.name); }
print(typeof v);
var v = 1;
function later() { return 1; }
${END}`,
    differs: {
      kind: "simulator gap",
      why: "the interpreter is the truth: Espruino defines a function when its statement runs. host-sim runs code in V8, which hoists; the build's hoisting pass and static checker (scripts/espruino-hoist.mjs, espruino-check.mjs) keep bundles from depending on it, but a hand-written snippet in the simulator is not checked for it",
      simulator: ["later called", "undefined"],
      interpreter: ["threw undefined", "undefined"],
    },
  },
  {
    name: "typed arrays: wrap on store, subarray shares, toString joins, no fill from negative, set copies",
    source: `var a = new Uint8Array(4); a[0] = 300; a[1] = -1; a[2] = 1.7; print(a.join());
var b = new Uint8Array([1, 2, 3, 4]); var s = b.subarray(1, 3); s[0] = 9; print(s.length + " " + b.join());
print(String(new Uint8Array([9, 9])));
var c = new Uint8Array(6); c.set([7, 8], 2); print(c.join());
print(new Uint32Array([0xffffffff])[0] + " " + new Int32Array([0xffffffff])[0]);
print([typeof b.slice, typeof b.fill, typeof b.indexOf, typeof Uint8Array.from].join());
print(new Uint8Array(new ArrayBuffer(8), 2, 3).length);
${END}`,
  },
  {
    name: "E.toString of typed arrays, arrays and strings; strings are bytes",
    source: `var t = E.toString(new Uint8Array([104, 105, 0, 255])); print(t.length + " " + t.charCodeAt(2) + " " + t.charCodeAt(3) + " " + typeof t);
print(E.toString([65, 66]) + " " + E.toString("xy") + " " + E.toString(new Uint8Array(0)).length);
print(E.toUint8Array("AB\\xff").join() + " " + "\\xe9".length + " " + "\\xff".charCodeAt(0));
${END}`,
  },
  {
    name: "JSON.stringify of a byte above 127 in a string",
    source: `print(JSON.stringify("a\\xff"));
${END}`,
    differs: {
      kind: "simulator gap",
      why: "the interpreter is the truth: Espruino escapes every byte above 126 as \\u00XX; host-sim uses V8's JSON.stringify, which keeps the character",
      simulator: ['"a\xff"'],
      interpreter: ['"a\\u00FF"'],
    },
  },
  {
    name: "socket.write of a typed array sends its decimal text; a string goes out as bytes",
    peer: "records",
    source: `var s = require("net").connect({ host: "127.0.0.1", port: PORT }, function () {
  s.write(new Uint8Array([9, 9, 200])); s.write("|ab\\xff");
  setTimeout(function () { s.end(); ${END} }, 200);
});`,
  },
  {
    name: "net.connect to a port nobody listens on throws, after printing the refusal",
    peer: "none",
    source: `var seen = [];
try {
  var s = require("net").connect({ host: "127.0.0.1", port: PORT }, function () { seen.push("connected"); });
  s.on("error", function (e) { seen.push("error " + typeof e); });
  s.on("close", function () { seen.push("close"); print(seen.join(", ")); ${END} });
  seen.push("returned");
} catch (e) { print("threw " + e); ${END} }`,
  },
  {
    name: "receive chunks: 4,096 bytes sent at once arrive as data events of at most 536 bytes (TCP_MSS)",
    peer: Buffer.alloc(4096, 0x41),
    source: `var sizes = [], total = 0;
var s = require("net").connect({ host: "127.0.0.1", port: PORT }, function () {});
s.on("data", function (d) { sizes.push(d.length); total += d.length; if (total >= 4096) { print("max " + Math.max.apply(null, sizes) + " total " + total + " typeof " + typeof d); s.end(); ${END} } });`,
  },
  {
    name: "timers: order by due time, setTimeout returns a number, clearInterval stops, clearTimeout(undefined) throws",
    source: `var order = [];
var id = setTimeout(function () { order.push("b"); }, 30);
setTimeout(function () { order.push("a"); }, 10);
var n = 0; var iv = setInterval(function () { n++; if (n === 3) { clearInterval(iv); setTimeout(report, 40); } }, 5);
try { clearTimeout(undefined); order.push("no throw"); } catch (e) { order.push("clearTimeout(undefined) threw"); }
// Reported after the third run and after "b" is due, however late the timers fire.
function report() { print(order.join(", ") + " | " + typeof id + " | interval ran " + n); setTimeout(function () { print("after " + n); ${END} }, 30); }`,
  },
  {
    name: "Storage: write, read, offset writes, readJSON, list, erase",
    source: `var S = require("Storage");
S.write("f1", "hello"); S.write("f2", "ab", 0, 4); S.write("f2", "cd", 2);
S.writeJSON("cfg.json", { a: 1, b: [2] });
print(S.read("f1") + " " + S.read("f2") + " " + JSON.stringify(S.readJSON("cfg.json")) + " " + S.readJSON("nope", true));
print(S.list().sort().join());
S.erase("f1"); print(S.read("f1") + " " + S.list().length + " " + typeof S.read("f2"));
${END}`,
  },
  {
    name: "crypto AES: CBC, ECB, CTR, OFB, CFB with a 256-bit key, and SHA256",
    source: `var C = require("crypto"); var key = new Uint8Array(32), iv = new Uint8Array(16), data = new Uint8Array(32);
for (var i = 0; i < 32; i++) { key[i] = i; data[i] = 255 - i; } for (i = 0; i < 16; i++) iv[i] = i * 3;
function hex(a) { var s = ""; a = new Uint8Array(a); for (var j = 0; j < a.length; j++) s += (a[j] < 16 ? "0" : "") + a[j].toString(16); return s; }
["CBC", "ECB", "CTR", "OFB", "CFB"].forEach(function (mode) {
  try { var out = C.AES.encrypt(data, key, { iv: iv, mode: mode }); print(mode + " " + (out ? hex(out) + " " + hex(C.AES.decrypt(out, key, { iv: iv, mode: mode })).slice(0, 8) : out)); }
  catch (e) { print(mode + " threw " + e); }
});
print("sha256 " + hex(C.SHA256("abc")).slice(0, 16));
${END}`,
  },
  {
    name: "crypto AES.decrypt of undefined (what an unavailable mode returned)",
    source: `try { print(typeof require("crypto").AES.decrypt(undefined, new Uint8Array(32), { iv: new Uint8Array(16), mode: "CBC" })); } catch (e) { print("threw " + e); }
${END}`,
    differs: {
      kind: "simulator gap",
      why: "the interpreter is the truth: Espruino returns undefined for a missing message; host-sim returns an (empty) array buffer",
      simulator: ["object"],
      interpreter: ["undefined"],
    },
  },
];

/** Runs the snippet on the simulator (an ESP32) and collects what it printed up to "end". */
async function onSimulator(source: string): Promise<string[]> {
  const device = bootDevice({ name: "fidelity" });
  device.run(source, "snippet.js");
  // A snippet V8 cannot parse runs nothing, so it never prints "end".
  if (device.uncaught.some((u) => /SyntaxError/.test(u.printed))) return device.consoleLines.slice();
  await device.waitForConsole(/^end$/, 10000);
  const lines = device.consoleLines.slice(0, device.consoleLines.indexOf("end"));
  return lines.map((l) => l.replace(/\s+at line .*$/, ""));
}

async function onInterpreter(source: string): Promise<string[]> {
  const run = await runEspruino(source + `\nsetInterval(function () {}, 1000);`);
  try {
    // A file that stops at a syntax error may exit before "end": then everything it printed.
    await run.waitFor(/^end$/, 10000).catch((e) => {
      if (run.child.exitCode === null) throw e;
    });
    const lines = afterBanner(run.lines());
    return lines.includes("end") ? lines.slice(0, lines.indexOf("end")) : lines;
  } finally {
    await run.stop();
  }
}

/** `expected` lines, where a leading "*" means "ends with the rest". */
function matches(lines: string[], expected: string[]): boolean {
  return lines.length === expected.length && expected.every((e, i) => (e.startsWith("*") ? lines[i].endsWith(e.slice(1)) : lines[i] === e));
}

describe("espruino lane: the simulator and the real interpreter agree on every modelled fact", function () {
  this.timeout(30000);
  before(function () {
    skipWithoutEspruino(this);
  });
  afterEach(stopAllDevices);
  stopEspruinoAfterEach();

  for (const c of CASES) {
    it(c.name, async () => {
      let peer: CasePeer | undefined;
      let port = 0;
      if (c.peer === "none") port = await freePort();
      else if (c.peer) {
        peer = await startCasePeer(c.peer === "records" ? undefined : c.peer);
        port = peer.port;
      }
      try {
        const source = c.source.replace(/PORT/g, String(port));
        const sim = await onSimulator(source);
        const simReceived = peer?.received();
        if (peer) {
          await peer.close();
          peer = await startCasePeer(c.peer === "records" || c.peer === "none" ? undefined : c.peer);
        }
        const real = await onInterpreter(peer ? c.source.replace(/PORT/g, String(peer.port)) : source);
        const realReceived = peer?.received();
        if (c.differs) {
          assert.ok(matches(sim, c.differs.simulator), `simulator (${c.differs.kind}: ${c.differs.why}):\n${sim.join("\n")}`);
          assert.ok(matches(real, c.differs.interpreter), `interpreter:\n${real.join("\n")}`);
        } else {
          assert.deepEqual(sim, real, "simulator (actual) vs interpreter (expected)");
          assert.ok(sim.length > 0 || peer, "the snippet printed something");
        }
        assert.equal(simReceived, realReceived, "what the peer received");
      } finally {
        await peer?.close();
      }
    });
  }
});
