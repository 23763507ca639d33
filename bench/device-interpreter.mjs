// The device suite on the real Espruino interpreter (the Linux build named by ESPRUINO): CPU
// time measured inside the interpreter with getTime() around the work itself, never around
// network waits.
//   - cipher per 8-byte block, 32 rounds: lwstcp-xtea (dist/lwstcp-xtea.js, which a flashed v1
//     board runs) and the library's own loop (its exact text, taken out of dist/lwstcp.js by
//     bench/device-ops.mjs) against the straightforward form as written and minified by terser,
//     best of 7 trials of 64 blocks, alternating; with valgrind, the same forms' instructions
//     per block (bench/device-instructions.mjs), which the machine's load does not move;
//   - a whole message per block, device side: send = sendMessage (seal and hand to the socket),
//     receive = the socket's data handlers (frame + open + deliver to onMessageReceived), for a
//     device client (with lwstcp-xtea) against lwstcp-server --mode echo; the library's code is
//     in RAM (Modules.addCached), as the cipher baseline's is: this Linux build reads a Storage
//     module's code through file I/O 16 bytes at a time (a flash string), which an ESP32, whose
//     flash is memory-mapped, does not — measurePath({ inline: false }) times that form;
//   - a client handshake: the connect callback and data handlers from connect to
//     onHandshakeSuccess, beside its cipher work (10 blocks: the Request and Success decrypted,
//     the Response encrypted) at lwstcp-xtea's per-block time;
//   - JsVars idle and peak (bench/device-memory.mjs).
import { readFileSync } from "node:fs";
import { cachedModules, flashedV1Storage, runEspruino } from "../build/test/helpers/espruino-process.js";
import { freePort } from "../build/test/helpers/host-sim.js";
import { DEMO_KEY_HEX, startLwstcpServer } from "../build/test/helpers/processes.js";
import { canCountInstructions, countCipherInstructions, countHandshakeInstructions, countPathInstructions, KEY_WORDS } from "./device-instructions.mjs";
import { measureDeviceMemory } from "./device-memory.mjs";
import { bundleCipherScript } from "./device-ops.mjs";

const root = new URL("../", import.meta.url);
export const MESSAGE_SIZES = [16, 512, 4096, 65528];
/** Blocks of XTEA a client handshake runs: Request (24 bytes) and Success (32) decrypted, Response (24) encrypted. */
const HANDSHAKE_BLOCKS = 3 + 4 + 3;

async function cipherApp() {
  const { minify } = await import("terser");
  const straight = readFileSync(new URL("bench/device/xtea-straightforward.js", root), "utf8");
  const minified = (await minify(straight, { ecma: 5, toplevel: false, compress: { passes: 2 }, mangle: true, format: { comments: false } })).code;
  const bundle = bundleCipherScript(readFileSync(new URL("dist/lwstcp.js", root), "latin1"));
  const unrolled = readFileSync(new URL("dist/lwstcp-xtea.js", root), "latin1");
  return `${bundle}
var xtea = (function () { var exports = {};\n${unrolled}\nreturn exports; })();
var straight = (function () { ${straight}\nreturn encryptBlocks; })();
var straightMin = (function () { ${minified}\nreturn encryptBlocks; })();
var key = new Uint32Array(${KEY_WORDS}), rounds = 32;
var words = new Uint32Array(rounds * 2), sum = 0;
for (var i = 0; i < words.length; i += 2) { words[i] = sum + key[sum & 7]; sum = (sum + 0x9e3779b9) >>> 0; words[i + 1] = sum + key[(sum >>> 11) & 7]; }
var BLOCKS = 64, buf = new Uint8Array(8 * BLOCKS);
var forms = { unrolled: function () { xtea.cipher(words, buf, 0, buf.length, false); }, bundle: function () { xteaEncrypt(words, buf, 0, buf.length); }, straight: function () { straight(key, rounds, buf, 0, buf.length); }, minified: function () { straightMin(key, rounds, buf, 0, buf.length); } };
var best = { unrolled: 1e9, bundle: 1e9, straight: 1e9, minified: 1e9 };
for (var t = 0; t < 7; t++) for (var name in forms) { var t0 = getTime(); forms[name](); var dt = getTime() - t0; if (dt < best[name]) best[name] = dt; }
print("cipher " + JSON.stringify({ unrolled: best.unrolled * 1000 / BLOCKS, bundle: best.bundle * 1000 / BLOCKS, straight: best.straight * 1000 / BLOCKS, minified: best.minified * 1000 / BLOCKS }));
quit();`;
}

/**
 * The stages of the device's send and receive, each timed alone inside the interpreter, no
 * socket: the loops restate the bundle's own (dist/lwstcp.js, minified names kept short like
 * terser's), the cipher is the bundle's exact text. Send: the packet buffer (a message larger
 * than the 264-byte session buffer gets a new one), the per-byte copy of the message into it,
 * the padding (the entropy pool's fill), encryption, E.toString of the packet for socket.write.
 * Receive: the packet arrives as `chunk`-byte binary strings (what the data events deliver);
 * the framer's per-byte charCodeAt copy into a buffer grown to the packet's size, decryption,
 * E.toString of the message for onMessageReceived. Best of `trials` per stage.
 */
function stagesApp(sizes, chunk, trials) {
  return `${bundleCipherScript(readFileSync(new URL("dist/lwstcp.js", root), "latin1"))}
var key = new Uint32Array(${KEY_WORDS}), rounds = 32, words = new Uint32Array(rounds * 2), sum = 0;
for (var i = 0; i < words.length; i += 2) { words[i] = sum + key[sum & 7]; sum = (sum + 0x9e3779b9) >>> 0; words[i + 1] = sum + key[(sum >>> 11) & 7]; }
var pool = new Uint32Array(8), slot = 0;
function word() { var p = pool[slot]; slot = (slot + 1) & 7; var x = (pool[slot] ^ (E.hwRand() ^ (E.hwRand() << 1))) >>> 0; x = (x + ((p << 13) | (p >>> 19))) >>> 0; x = (x ^ (x >>> 16)) >>> 0; pool[slot] = x; return x; }
function fill(t, i, n) { for (var w = 0, s = 0; s < n; s++) { if ((s & 3) === 0) w = word(); t[i + s] = w; w >>>= 8; } }
var sizes = ${JSON.stringify(sizes)}, CHUNK = ${chunk}, TRIALS = ${trials}, out = {};
function best(f) { var b = 1e9; for (var k = 0; k < TRIALS; k++) { var t0 = getTime(); f(); var d = getTime() - t0; if (d < b) b = d; } return b * 1000; }
sizes.forEach(function (n) {
  var body = (n + 7) & ~7, size = 3 + body, t = new Uint8Array(n), r, e, i = 0, pk, chunks = [], h, txt;
  for (e = 0; e < n; e++) t[e] = e & 255;
  var st = {};
  st.alloc = best(function () { r = new Uint8Array(size); });
  st.copy = best(function () { for (e = 0; e < n; e++) r[3 + e] = t[i + e]; });
  st.pad = best(function () { if (body > n) fill(r, 3 + n, body - n); });
  st.encrypt = best(function () { xteaEncrypt(words, r, 3, body); });
  st.toString = best(function () { txt = E.toString(r.subarray(0, size)); });
  r[0] = 1; r[1] = n >> 8; r[2] = n;
  var wire = E.toString(r);
  for (e = 0; e < size; e += CHUNK) chunks.push(wire.slice(e, e + CHUNK));
  st.grow = best(function () { pk = new Uint8Array(size); });
  st.take = best(function () { for (var c = 0, s = 0; c < chunks.length; c++) { var src = chunks[c], f = 0, stop = src.length; while (f < stop) pk[s++] = src.charCodeAt(f++); } });
  st.decrypt = best(function () { xteaDecrypt(words, pk, 3, body); });
  st.deliver = best(function () { txt = E.toString(pk.subarray(3, 3 + n)); });
  st.cipherBlocks = body / 8;
  out[n] = st;
});
print("stages " + JSON.stringify(out));
quit();`;
}

function pathApp(port, sizes, repeats, inline) {
  return `${inline ? cachedModules(flashedV1Storage()) : ""}var net = require("net"), connect = net.connect, busy = 0, hs = 0, inHandshake = true, events = 0, maxChunk = 0;
// Times every socket callback the library registers (the CPU it spends on arriving bytes).
// E.toString (the driver's packet → string for socket.write, and message → string for delivery)
// and socket.write are timed apart, with whether the array handed to E.toString is a flat
// (contiguous) buffer: typed-array access into a non-flat one walks its block chain.
var toStringMs = 0, writeMs = 0, nonFlat = 0, toString = E.toString;
E.toString = function (a) { if (a && a.buffer && !E.getAddressOf(a, true)) nonFlat++; var t0 = getTime(); var r = toString(a); toStringMs += getTime() - t0; return r; };
net.connect = function (options, callback) {
  var socket = connect.call(net, options, function () { var t0 = getTime(); callback(); var dt = getTime() - t0; busy += dt; if (inHandshake) hs += dt; });
  var on = socket.on, write = socket.write;
  socket.write = function (d) { var t0 = getTime(); var r = write.call(socket, d); writeMs += getTime() - t0; return r; };
  socket.on = function (event, listener) {
    if (event !== "data") return on.call(socket, event, listener);
    return on.call(socket, event, function (d) { events++; if (d.length > maxChunk) maxChunk = d.length; var t0 = getTime(); listener(d); var dt = getTime() - t0; busy += dt; if (inHandshake) hs += dt; });
  };
  return socket;
};
var lw = require("lwstcp"); lw.setHandshakeKey("${DEMO_KEY_HEX}");
var c = new lw.LightweightSecureClient("127.0.0.1", ${port});
var sizes = ${JSON.stringify(sizes)}, repeats = ${JSON.stringify(repeats)}, si = 0, n = 0, send = 0, recvStart = 0, results = {};
function make(size) { var a = new Uint8Array(size); for (var k = 0; k < size; k++) a[k] = k & 255; return a; }
var message, recvToString = 0, recvNonFlat = 0;
function next() {
  if (si === sizes.length) { print("chunks " + JSON.stringify({ events: events, max: maxChunk })); print("path " + JSON.stringify(results)); c.disconnect(); setTimeout(quit, 200); return; }
  if (n === 0) { message = make(sizes[si]); results[sizes[si]] = { send: 1e9, receive: 1e9 }; }
  recvStart = busy;
  var s0 = toStringMs, w0 = writeMs, f0 = nonFlat;
  var t0 = getTime(); c.sendMessage(message); send = getTime() - t0;
  var r = results[sizes[si]]; r.sendToString = toStringMs - s0; r.sendWrite = writeMs - w0; r.sendNonFlat = nonFlat - f0; recvToString = toStringMs; recvNonFlat = nonFlat;
}
c.setOnHandshakeSuccess(function () { inHandshake = false; print("handshake " + (hs * 1000)); setTimeout(next, 50); });
c.setOnError(function (text) { print("error " + text); });
c.setOnMessageReceived(function (text) {
  // busy so far still lacks the handler now running; it is added when the handler returns.
  setTimeout(function () {
    var r = results[sizes[si]];
    var receive = busy - recvStart;
    r.receiveToString = toStringMs - recvToString; r.receiveNonFlat = nonFlat - recvNonFlat;
    if (send < r.send) r.send = send;
    if (receive < r.receive) r.receive = receive;
    if (++n >= repeats[si]) { n = 0; si++; }
    next();
  }, 0);
});
c.connectToServer();`;
}

function parse(lines, prefix) {
  const line = lines.find((l) => l.startsWith(prefix + " "));
  if (!line) throw new Error(`the interpreter printed no "${prefix}" line:\n` + lines.slice(-20).join("\n"));
  return JSON.parse(line.slice(prefix.length + 1));
}

async function runToEnd(app, storage, pattern, timeoutMs) {
  const run = await runEspruino(app, { storage });
  try {
    await run.waitFor(pattern, timeoutMs);
    await Promise.race([run.exit, new Promise((r) => setTimeout(r, 2000))]);
    return run.lines();
  } finally {
    await run.stop();
  }
}

/** The whole send and receive per message size and the handshake, device client against the echo server. */
export async function measurePath({ quick = false, inline = false } = {}) {
  const port = await freePort();
  const server = await startLwstcpServer(port, ["--key", DEMO_KEY_HEX, "--mode", "echo", "--quiet"]);
  try {
    const repeats = quick ? [5, 3, 2, 1] : [20, 10, 5, 2];
    const lines = await runToEnd(pathApp(port, MESSAGE_SIZES, repeats, inline), inline ? {} : flashedV1Storage(), /^path /, 240000);
    return { path: parse(lines, "path"), handshake: parse(lines, "handshake"), chunks: parse(lines, "chunks") };
  } finally {
    server.child.kill("SIGKILL");
  }
}

/** Every figure of the suite, raw (ms per block, ms per handshake, JsVars). */
export async function measureOnInterpreter({ quick = false } = {}) {
  const cipherLines = await runToEnd(await cipherApp(), {}, /^cipher /, 60000);
  const cipher = parse(cipherLines, "cipher");
  const { path, handshake, chunks } = await measurePath({ quick, inline: true });
  const memory = await measureDeviceMemory();
  return { cipher, path, handshake, chunks, memory };
}

/** Each stage's ms per message (stagesApp), for 512, 4,096 and 65,528 bytes. */
export async function measureStages({ chunk = 536, trials = 3 } = {}) {
  const lines = await runToEnd(stagesApp([512, 4096, 65528], chunk, trials), {}, /^stages /, 240000);
  return parse(lines, "stages");
}

const f3 = (x) => +x.toFixed(3);

/** The bench rows (bench/run.mjs), with the target ratios. */
export async function benchDeviceInterpreter({ quick = false } = {}) {
  const m = await measureOnInterpreter({ quick });
  // The cipher a flashed v1 board runs: lwstcp-xtea (the library's loop is the row after).
  const cipher = m.cipher.unrolled;
  const rows = [];
  for (const [form, ms] of [
    ["lwstcp-xtea (as flashed)", cipher],
    ["library loop (dist/lwstcp.js alone)", m.cipher.bundle],
  ]) {
    rows.push({
      name: `Device XTEA per 8-byte block, 32 rounds, on the real interpreter: ${form} vs straightforward minified by terser`,
      unit: "ms/block",
      ours: f3(ms),
      baseline: f3(m.cipher.minified),
      baselineName: `straightforward minified, same run (as written: ${f3(m.cipher.straight)} ms, ratio ${(m.cipher.straight / ms).toFixed(2)})`,
      ratio: +(m.cipher.minified / ms).toFixed(2),
      target: 2,
      lowerIsBetter: true,
    });
  }
  if (canCountInstructions()) {
    const counted = await countCipherInstructions();
    const base = counted["straightforward minified"].perBlock;
    for (const [form, name] of [
      ["lwstcp-xtea", "lwstcp-xtea (as flashed)"],
      ["library loop", "library loop (dist/lwstcp.js alone)"],
    ]) {
      rows.push({
        name: `Device XTEA per 8-byte block, 32 rounds: instructions (callgrind) of ${name} vs straightforward minified`,
        unit: "instructions/block",
        ours: counted[form].perBlock,
        baseline: base,
        baselineName: `straightforward minified, same run (as written: ${counted.straightforward.perBlock})`,
        ratio: +(base / counted[form].perBlock).toFixed(2),
        target: 2,
        lowerIsBetter: true,
        note: "deterministic: independent of the machine's load",
      });
    }
    const path = await countPathInstructions();
    for (const [size, p] of Object.entries(path)) {
      const blocks = Math.ceil(Number(size) / 8);
      for (const [what, instructions, per] of [
        ["send (seal)", p.send, counted["lwstcp-xtea"].perBlock],
        ["receive (frame + open + deliver)", p.receive, counted["lwstcp-xtea, decrypting"].perBlock],
      ]) {
        rows.push({
          name: `Device ${what} per block, ${size}-byte message: instructions (callgrind, in-memory socket)`,
          unit: "instructions/block",
          ours: Math.round(instructions / blocks),
          baseline: per,
          baselineName: `lwstcp-xtea ${what.startsWith("send") ? "encrypting" : "decrypting"} alone, same run (whole message ${instructions})`,
          ratio: +(per / (instructions / blocks)).toFixed(2),
          target: +(1 / 1.25).toFixed(2),
          note: "ratio = cipher ÷ path per block; target ≥ 0.8 is the issue's “within 1.25× of the cipher alone”; deterministic",
        });
      }
    }
    const handshake = await countHandshakeInstructions();
    const cipherWork = 10 * (counted["lwstcp-xtea"].perBlock + counted["lwstcp-xtea, decrypting"].perBlock);
    rows.push({
      name: "Device handshake, both sides with the Disconnect before it: instructions (callgrind, in-memory socket)",
      unit: "instructions",
      ours: handshake,
      baseline: cipherWork,
      baselineName: "its 20 blocks through lwstcp-xtea, same run",
      ratio: +(cipherWork / handshake).toFixed(2),
      target: +(1 / 1.5).toFixed(2),
      note: "ratio = cipher work ÷ handshake; target ≥ 0.67 is “within 1.5× of its cipher work”; deterministic",
    });
  }
  for (const size of MESSAGE_SIZES) {
    const blocks = Math.ceil(size / 8);
    const r = m.path[size];
    for (const [what, ms] of [
      ["send (seal)", r.send * 1000],
      ["receive (frame + open + deliver)", r.receive * 1000],
    ]) {
      const perBlock = ms / blocks;
      rows.push({
        name: `Device ${what} per block, ${size}-byte message, real interpreter (CPU time inside it)`,
        unit: "ms/block",
        ours: f3(perBlock),
        baseline: f3(cipher),
        baselineName: `cipher alone (lwstcp-xtea), same run (whole message ${ms.toFixed(2)} ms)`,
        ratio: +(cipher / perBlock).toFixed(2),
        target: +(1 / 1.25).toFixed(2),
        note: "ratio = cipher ÷ path per block; target ≥ 0.8 is the issue's “within 1.25× of the cipher alone”",
      });
    }
  }
  const handshakeCipher = HANDSHAKE_BLOCKS * cipher;
  rows.push({
    name: "Device client handshake, real interpreter (CPU time of its socket callbacks)",
    unit: "ms",
    ours: f3(m.handshake),
    baseline: f3(handshakeCipher),
    baselineName: `its cipher work: ${HANDSHAKE_BLOCKS} blocks at the bundle's per-block time, same run`,
    ratio: +(handshakeCipher / m.handshake).toFixed(2),
    target: +(1 / 1.5).toFixed(2),
    note: "ratio = cipher work ÷ handshake; target ≥ 0.67 is the issue's “≤ 1.5× the sum of its cipher work”",
  });
  const i = m.memory.interpreter;
  rows.push({
    name: "Device JsVars on the real interpreter (Linux build, 27-byte blocks, module code in RAM): idle session / peak at 65,528 bytes",
    unit: "JsVars",
    ours: `${i.session} / ${i["peak-65528"]}`,
    baseline: `${m.memory.simulator.session} / ${m.memory.simulator["peak-65528"]}`,
    baselineName: "simulator's ESP32 estimate, same app (docs/DEVICE-MEMORY.md explains the difference)",
  });
  return rows;
}

if (process.argv[1] && process.argv[1].endsWith("device-interpreter.mjs")) {
  const chunkArg = process.argv.find((a) => a.startsWith("--chunk="));
  if (process.argv.includes("--stages")) console.log(JSON.stringify(await measureStages({ chunk: chunkArg ? +chunkArg.slice(8) : 536 }), null, 1));
  else console.log(JSON.stringify(await measureOnInterpreter({ quick: process.argv.includes("--quick") }), null, 1));
}
