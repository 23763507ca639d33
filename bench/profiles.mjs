// Profile v2 against v1, per message: what authentication costs. Desktop: two in-memory connections (no sockets,
// so only the protocol and its crypto are timed) seal and open the same messages, v1 (XTEA,
// 32 rounds, our core) and v2 (AES-256-CBC + HMAC-SHA256 on node:crypto), timed in process
// CPU time, alternating, best of several trials. Device: the number of native `crypto` calls a
// v2 message costs on Espruino, counted on the device primitives (firmware/crypto-v2.ts) — the
// same count test/v2-cost.test.ts asserts. v1 makes no native calls: its XTEA runs in the
// interpreter (see the "Device XTEA per block" rows). The simulator runs on V8, so timing it
// would say nothing about the ESP32; it is not timed here.
import { createCipheriv, createDecipheriv, createHash, randomFillSync } from "node:crypto";
import { Connection, ROLE_CLIENT, ROLE_SERVER } from "../build/firmware/core/connection.js";
import { ConnectionV2 } from "../build/firmware/core/v2/connection.js";
import { createKeySchedule } from "../build/firmware/core/xtea.js";
import { createEspruinoPrimitives } from "../build/firmware/crypto-v2.js";
import { nodePrimitives } from "../build/server/crypto-v2.js";

const KEY = new Uint32Array([0x12345678, 0x9abcdef0, 0x13572468, 0xacebdf01, 0x11223344, 0x55667788, 0x99aabbcc, 0xddeeff00]);
const random = (buf, at, length) => void randomFillSync(buf, at, length);

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** A client and a server connection wired back to back; `received` counts messages at the server. */
function pair(profile, primitives = nodePrimitives) {
  const wires = { toServer: [], toClient: [] };
  let received = 0;
  const sink = (out) => ({
    write: (bytes, length) => out.push(bytes.slice(0, length)),
    close() {},
    handshakeSucceeded() {},
    handshakeFailed(reason) {
      throw new Error("handshake failed: " + reason);
    },
    message: () => void received++,
    ended() {},
  });
  const options =
    profile === "v1"
      ? { handshakeKey: createKeySchedule(KEY, 32), random, clock: Date.now, inactivityTimeoutMs: -1, keepAliveIntervalMs: 1e9 }
      : { preSharedKey: KEY, primitives, random, clock: Date.now, inactivityTimeoutMs: -1, keepAliveIntervalMs: 1e9 };
  const make = (role, out) => (profile === "v1" ? new Connection(role, options, sink(out)) : new ConnectionV2(role, options, sink(out)));
  const server = make(ROLE_SERVER, wires.toClient);
  const client = make(ROLE_CLIENT, wires.toServer);
  const flush = () => {
    while (wires.toServer.length || wires.toClient.length) {
      for (const c of wires.toClient.splice(0)) client.receive(c);
      for (const c of wires.toServer.splice(0)) server.receive(c);
    }
  };
  server.start();
  flush();
  if (!client.isOpen || !server.isOpen) throw new Error(profile + " pair did not open");
  return { client, server, flush, received: () => received };
}

/** CPU microseconds per message: the client seals it, the server opens it. */
function perMessage(profile, size, seconds) {
  const p = pair(profile);
  const message = new Uint8Array(size).fill(0x41);
  let count = 0;
  const start = cpuSeconds();
  let elapsed = 0;
  while (elapsed < seconds) {
    for (let i = 0; i < 200; i++) {
      p.client.sendBytes(message, 0, size);
      p.flush();
    }
    count += 200;
    elapsed = cpuSeconds() - start;
  }
  if (p.received() !== count) throw new Error("lost messages");
  return (elapsed * 1e6) / count;
}

/** Espruino's crypto API on node:crypto, counting each native call (as test/helpers/v2.ts does). */
function countingEspruinoCrypto() {
  const calls = { ECB: 0, CBC: 0, SHA256: 0 };
  const bytes = (x) => Buffer.from(x.buffer ? new Uint8Array(x.buffer, x.byteOffset, x.byteLength) : x);
  const ab = (b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
  const aes = (decrypt, message, key, options) => {
    const mode = (options && options.mode) || "CBC";
    calls[mode]++;
    const iv = mode === "ECB" ? null : options && options.iv ? bytes(options.iv) : Buffer.alloc(16);
    const c = (decrypt ? createDecipheriv : createCipheriv)(`aes-256-${mode.toLowerCase()}`, bytes(key), iv);
    c.setAutoPadding(false);
    return ab(Buffer.concat([c.update(bytes(message)), c.final()]));
  };
  return {
    calls,
    AES: { encrypt: (m, k, o) => aes(false, m, k, o), decrypt: (m, k, o) => aes(true, m, k, o) },
    SHA256: (m) => {
      calls.SHA256++;
      return ab(createHash("sha256").update(bytes(m)).digest());
    },
  };
}

function nativeCallsPerMessage(size) {
  const crypto = countingEspruinoCrypto();
  const p = pair("v2", createEspruinoPrimitives(crypto));
  crypto.calls.ECB = crypto.calls.CBC = crypto.calls.SHA256 = 0;
  p.client.sendBytes(new Uint8Array(size), 0, size);
  const send = { ...crypto.calls };
  crypto.calls.ECB = crypto.calls.CBC = crypto.calls.SHA256 = 0;
  p.flush();
  const receive = { ...crypto.calls };
  return { send, receive };
}

export function benchProfiles({ quick = false } = {}) {
  const seconds = quick ? 0.15 : 0.5;
  const trials = quick ? 3 : 5;
  const rows = [];
  for (const size of [16, 1024, 65528]) {
    let v1 = Infinity;
    let v2 = Infinity;
    for (let t = 0; t < trials; t++) {
      v1 = Math.min(v1, perMessage("v1", size, seconds));
      v2 = Math.min(v2, perMessage("v2", size, seconds));
    }
    rows.push({
      name: `Profile v2 vs v1: CPU per ${size}-byte message, seal + open (desktop, in memory)`,
      unit: "µs/message",
      ours: +v2.toFixed(2),
      baselineName: "v1 (XTEA-256, 32 rounds)",
      baseline: +v1.toFixed(2),
      ratio: +(v2 / v1).toFixed(2),
      note: "ratio = v2 cost / v1 cost (lower is cheaper); v2 adds integrity, replay and reflection protection",
    });
  }
  const calls = nativeCallsPerMessage(1000);
  const total = (c) => c.ECB + c.CBC + c.SHA256;
  rows.push({
    name: "Profile v2 on the device: native crypto calls per data message (Espruino primitives, counted)",
    unit: "native calls",
    ours: total(calls.send) + total(calls.receive),
    note: `send ${JSON.stringify(calls.send)}, receive ${JSON.stringify(calls.receive)}; v1 makes none (XTEA is interpreted JS, see the Device XTEA rows)`,
  });
  return rows;
}

if (process.argv[1] && process.argv[1].endsWith("profiles.mjs")) {
  for (const r of benchProfiles({ quick: process.argv.includes("--quick") })) console.log(r);
}
