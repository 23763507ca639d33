// Instructions per 8-byte block of each device cipher form on the real interpreter, counted by
// valgrind's callgrind: deterministic, whatever else the machine is doing, where getTime() on a
// shared machine moves by tens of percent. The interpreter binary is stripped, so the count is
// taken by difference: one script ciphers 1 block, the same script 17, and a block is
// (count17 − count1) / 16 — start-up, parsing and the per-call work cancel out.
// Forms, all 32 rounds, encryption (and lwstcp-xtea decrypting too): lwstcp-xtea (what `npm run flash` puts beside the library),
// the library's own loop (dist/lwstcp.js without lwstcp-xtea), and the straightforward form as
// written and minified by terser (bench/device/xtea-straightforward.js).
// Needs ESPRUINO and valgrind; `node bench/device-instructions.mjs` prints the table.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKeySchedule, decryptBlocks, encryptBlocks } from "../build/firmware/core/xtea.js";
import { cachedModules, flashedV1Storage } from "../build/test/helpers/espruino-process.js";
import { DEMO_KEY_HEX } from "../build/test/helpers/processes.js";
import { bundleCipherScript } from "./device-ops.mjs";

const root = new URL("../", import.meta.url);
export const KEY_WORDS = "[0x12345678,0x9abcdef0,0x13572468,0xacebdf01,0x11223344,0x55667788,0x99aabbcc,0xddeeff00]";

/** Whether this machine can count: an interpreter named by ESPRUINO and valgrind on the PATH. */
export function canCountInstructions() {
  return !!process.env.ESPRUINO && spawnSync("valgrind", ["--version"]).status === 0;
}

async function formScripts() {
  const { minify } = await import("terser");
  const straight = readFileSync(new URL("bench/device/xtea-straightforward.js", root), "utf8");
  const minified = (await minify(straight, { ecma: 5, toplevel: false, compress: { passes: 2 }, mangle: true, format: { comments: false } })).code;
  const xtea = `var xtea = (function () { var exports = {};\n${readFileSync(new URL("dist/lwstcp-xtea.js", root), "latin1")}\nreturn exports; })();`;
  const loop = bundleCipherScript(readFileSync(new URL("dist/lwstcp.js", root), "latin1"));
  return {
    "lwstcp-xtea": `${xtea}\nvar run = function () { xtea.cipher(words, buf, 0, buf.length, false); };`,
    "lwstcp-xtea, decrypting": `${xtea}\nvar run = function () { xtea.cipher(words, buf, 0, buf.length, true); };`,
    "library loop": `${loop}\nvar run = function () { xteaEncrypt(words, buf, 0, buf.length); };`,
    straightforward: `var straight = (function () { ${straight}\nreturn encryptBlocks; })();\nvar run = function () { straight(key, 32, buf, 0, buf.length); };`,
    "straightforward minified": `var straight = (function () { ${minified}\nreturn encryptBlocks; })();\nvar run = function () { straight(key, 32, buf, 0, buf.length); };`,
  };
}

function script(form, blocks) {
  return `${form}
var key = new Uint32Array(${KEY_WORDS}), words = new Uint32Array(64), sum = 0;
for (var i = 0; i < 64; i += 2) { words[i] = sum + key[sum & 7]; sum = (sum + 0x9e3779b9) >>> 0; words[i + 1] = sum + key[(sum >>> 11) & 7]; }
var buf = new Uint8Array(${8 * blocks});
run();
print("result " + E.toString(buf.subarray(0, 8)).split("").map(function (c) { return c.charCodeAt(0); }).join(","));
quit();`;
}

function count(dir, text) {
  writeFileSync(join(dir, "form.js"), text);
  // stdin stays an open, idle pipe: at end of input the interpreter's console thread misbehaves.
  const child = spawn("valgrind", ["--tool=callgrind", "--callgrind-out-file=/dev/null", String(process.env.ESPRUINO), "form.js"], { cwd: dir });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 120000);
  return new Promise((resolve, reject) => {
    child.on("close", () => {
      clearTimeout(timer);
      child.stdin.destroy();
      const collected = /Collected : (\d+)/.exec(stderr);
      const result = /result ([\d,]+)/.exec(stdout);
      if (!collected || !result) reject(new Error("callgrind run failed: " + (stderr + stdout).slice(-400)));
      else resolve({ instructions: Number(collected[1]), result: result[1] });
    });
  });
}

/** The first block of 8 zero bytes ciphered by the V8 form (the C++ vectors' reference), as the scripts print it. */
function expectedFirstBlock(decrypt) {
  const key = Uint32Array.from(KEY_WORDS.slice(1, -1).split(","), Number);
  const block = new Uint8Array(8);
  (decrypt ? decryptBlocks : encryptBlocks)(createKeySchedule(key, 32), block, 0, 8);
  return block.join(",");
}

/** Instructions per block of every form; each form's first block is checked against the V8 form's. */
export async function countCipherInstructions() {
  const dir = mkdtempSync(join(tmpdir(), "lwstcp-instructions-"));
  try {
    const out = {};
    for (const [name, form] of Object.entries(await formScripts())) {
      const one = await count(dir, script(form, 1));
      const many = await count(dir, script(form, 17));
      out[name] = { perBlock: Math.round((many.instructions - one.instructions) / 16), firstBlock: one.result };
    }
    for (const [name, f] of Object.entries(out)) {
      const expected = expectedFirstBlock(name.includes("decrypting"));
      if (f.firstBlock !== expected) throw new Error(`${name} gives ${f.firstBlock} for the first block, the V8 form ${expected}`);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The send and receive path of a device client, counted the same way. The library (with
 * lwstcp-xtea, as flashed) runs on an in-memory `net`: a device server and a device client in
 * one interpreter, whose sockets queue each write for the peer and a pump delivers them, so
 * nothing waits on the event loop (whose idle polling would make counts depend on time).
 *   send: after the handshake, `sendMessage` with the client socket's write emptied;
 *   receive: the server's sealed message (a 536-byte chunk or less, as the real socket hands
 *     it) fed to the client's data handler, through to onMessageReceived.
 * Per message = (17 messages − 1 message) / 16; the stand-in socket's own cost is in it.
 */
function pathScript(size, messages, direction) {
  return `${cachedModules(flashedV1Storage())}
var queue = [], servers = {};
function socketPair() {
  var a = { handlers: {}, peer: null }, b = { handlers: {}, peer: null };
  a.peer = b; b.peer = a;
  [a, b].forEach(function (s) {
    s.on = function (event, fn) { s.handlers[event] = fn; };
    s.write = function (data) { queue.push([s.peer, data]); return true; };
    s.end = function () {};
  });
  return [a, b];
}
Modules.addCached("net", function () {
  exports.createServer = function (onConnection) { return { listen: function (port) { servers[port] = onConnection; }, close: function () {} }; };
  exports.connect = function (options, callback) {
    var pair = socketPair();
    servers[options.port](pair[1]);
    queue.push([null, callback]);
    return pair[0];
  };
});
function pump() {
  while (queue.length) {
    var item = queue.shift();
    if (!item[0]) item[1]();
    else if (item[0].handlers.data) item[0].handlers.data(item[1]);
  }
}
var lw = require("lwstcp"); lw.setHandshakeKey("${DEMO_KEY_HEX}");
var server = new lw.LightweightSecureServer(5000), session = null;
server.setOnHandshakeSuccess(function (result, s) { session = s; });
server.start();
var client = new lw.LightweightSecureClient("127.0.0.1", 5000), received = 0, opened = false;
client.setOnHandshakeSuccess(function () { opened = true; });
client.setOnMessageReceived(function (text) { received++; });
client.connectToServer();
pump();
if (!opened || !session) { print("handshake failed"); quit(); }
var message = new Uint8Array(${size}); for (var k = 0; k < message.length; k++) message[k] = k & 255;
// One sealed message from the server: its text, and the client's socket (where it is queued for).
session.sendMessage(message);
var wire = queue[0][1], clientSocket = queue[0][0]; queue = [];
if (wire.length > 536) { print("message larger than one chunk"); quit(); }
var n = ${messages};
if ("${direction}" === "handshake") {
  // Each cycle: Disconnect, then a whole handshake, both sides in this interpreter.
  var handshakes = 0;
  client.setOnHandshakeSuccess(function () { handshakes++; });
  for (var h = 0; h < n; h++) { client.disconnect(); pump(); client.connectToServer(); pump(); }
  received = handshakes;
} else if ("${direction}" === "send") {
  clientSocket.write = function () { return true; };
  for (var i = 0; i < n; i++) client.sendMessage(message);
} else {
  var data = clientSocket.handlers.data;
  for (var j = 0; j < n; j++) data(wire);
}
print("result " + received + "," + n);
// quit() waits while timers are pending (the connections' keep-alive); clearInterval() with no
// argument clears every timer.
clearInterval();
quit();`;
}

/**
 * Instructions of one handshake, client and server together (with the Disconnect that ends the
 * session before it): 20 cipher blocks, 10 a side.
 */
export async function countHandshakeInstructions() {
  const dir = mkdtempSync(join(tmpdir(), "lwstcp-instructions-"));
  try {
    const one = await count(dir, pathScript(16, 1, "handshake"));
    const many = await count(dir, pathScript(16, 9, "handshake"));
    if (one.result !== "1,1" || many.result !== "9,9") throw new Error(`handshakes: ${one.result} / ${many.result}`);
    return Math.round((many.instructions - one.instructions) / 8);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Instructions per message of the device client's send and receive, for each size (one chunk at most). */
export async function countPathInstructions(sizes = [16, 512]) {
  const dir = mkdtempSync(join(tmpdir(), "lwstcp-instructions-"));
  try {
    const out = {};
    for (const size of sizes) {
      out[size] = {};
      for (const direction of ["send", "receive"]) {
        const one = await count(dir, pathScript(size, 1, direction));
        const many = await count(dir, pathScript(size, 17, direction));
        const expected = direction === "receive" ? ["1,1", "17,17"] : ["0,1", "0,17"];
        if (one.result !== expected[0] || many.result !== expected[1]) throw new Error(`${direction} ${size}: delivered ${one.result} / ${many.result}`);
        out[size][direction] = Math.round((many.instructions - one.instructions) / 16);
      }
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && process.argv[1].endsWith("device-instructions.mjs")) {
  if (!canCountInstructions()) {
    console.error("device-instructions: needs ESPRUINO (an Espruino interpreter) and valgrind");
    process.exit(2);
  }
  const forms = await countCipherInstructions();
  const base = forms["straightforward minified"].perBlock;
  console.table(
    Object.fromEntries(
      Object.entries(forms).map(([k, v]) => [k, { "instructions/block": v.perBlock, "vs straightforward minified": +(base / v.perBlock).toFixed(2) }]),
    ),
  );
  const path = await countPathInstructions();
  const rows = {};
  for (const [size, p] of Object.entries(path)) {
    const blocks = Math.ceil(Number(size) / 8);
    rows[`send ${size} B`] = {
      "instructions/message": p.send,
      "per block ÷ lwstcp-xtea encrypting": +(p.send / blocks / forms["lwstcp-xtea"].perBlock).toFixed(2),
    };
    rows[`receive ${size} B`] = {
      "instructions/message": p.receive,
      "per block ÷ lwstcp-xtea decrypting": +(p.receive / blocks / forms["lwstcp-xtea, decrypting"].perBlock).toFixed(2),
    };
  }
  console.table(rows);
  const handshake = await countHandshakeInstructions();
  const cipherWork = 10 * (forms["lwstcp-xtea"].perBlock + forms["lwstcp-xtea, decrypting"].perBlock);
  console.table({
    "handshake, both sides": { instructions: handshake, "÷ its 20 cipher blocks": +(handshake / cipherWork).toFixed(2) },
  });
}
