// The three known-bad behaviours of the C++ peer, each shown not to be ours, over real
// sockets: (1) the C++ server never checks the xor of the HandshakeResponse; (2) it keeps reading a
// desynchronised stream after an unknown TYPE; (3) it draws session keys from a Mersenne Twister.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import { syncBuiltinESMExports } from "node:module";
import type { Socket } from "node:net";
import { B_LO, NONCE } from "../firmware/core/index.js";
import type { LightweightSecureServer, Session } from "../server/index.js";
import { nodeRandom } from "../server/random.js";
import {
  fakeServer,
  guardProcess,
  handHandshake,
  makeMessage,
  makeRequest,
  makeResponse,
  makeSuccess,
  newClient,
  rawSocket,
  schedule,
  startServer,
  until,
  within,
} from "./helpers/reliability.js";
import { testKeyWords } from "./helpers/seed.js";

describe("reliability: what the C++ peer gets wrong, we do not", function () {
  this.timeout(30000);
  guardProcess();

  let server: LightweightSecureServer;
  const failures = new Map<string, string>();
  const ended = new Map<string, string>();
  const delivered = new Map<string, string[]>();
  const sessions: Session[] = [];

  beforeEach(async () => {
    failures.clear();
    ended.clear();
    delivered.clear();
    sessions.length = 0;
    server = await startServer({ handshakeTimeoutMs: 3000, inactivityTimeoutMs: 5000, keepAliveIntervalMs: 1000 });
    server.on("handshakeFailed", (r) => failures.set(r.peer, r.reason));
    server.on("session", (s: Session) => {
      sessions.push(s);
      delivered.set(s.peer, []);
      s.on("message", (text: string) => (delivered.get(s.peer) as string[]).push(text));
      s.on("ended", (reason: string) => ended.set(s.peer, reason));
    });
  });

  afterEach(() => server.stop());

  it("(1) a HandshakeResponse with the right nonce and sum but a wrong xor is refused over a real socket (the C++ server accepts it)", async () => {
    // Control: the same hand-made Response with nothing changed opens a session.
    const control = await rawSocket(server.port);
    control.socket.write(makeResponse(await control.reader.read(25), schedule()));
    await control.reader.read(33);
    await until(() => sessions.length === 1, { timeoutMs: 3000, what: "the control session" });
    for (const flip of [1, 0x80000000, 0xffffffff]) {
      const raw = await rawSocket(server.port);
      const request = await raw.reader.read(25);
      // Only the xor's low word changes; the transformed nonce is kept as the honest one.
      raw.socket.write(makeResponse(request, schedule(), (r) => (r[B_LO] = (r[B_LO] ^ flip) >>> 0)));
      await until(() => failures.has(raw.peer), { timeoutMs: 3000, what: "the server's verdict" });
      assert.equal(failures.get(raw.peer), "verify-failed", "xor low word ^ " + flip.toString(16));
      await raw.reader.waitClosed();
      assert.equal(raw.reader.available, 0, "no HandshakeSuccess was sent");
    }
    // And a wrong nonce with the right sum and xor, for completeness.
    const raw = await rawSocket(server.port);
    raw.socket.write(makeResponse(await raw.reader.read(25), schedule(), (r) => (r[NONCE] = (r[NONCE] ^ 1) >>> 0)));
    await until(() => failures.has(raw.peer), { timeoutMs: 3000, what: "the server's verdict" });
    assert.equal(failures.get(raw.peer), "verify-failed");
    assert.equal(sessions.length, 1, "only the control opened a session");
    control.socket.destroy();
  });

  it("(2) bytes after an unknown TYPE are never delivered, on the server and on the client", async () => {
    for (const unknown of [0x00, 0x07, 0x42, 0xff]) {
      const hand = await handHandshake(server.port);
      const good = makeMessage(Buffer.from("good"), hand.sessionKey);
      const afterwards = makeMessage(Buffer.from("after the unknown type"), hand.sessionKey);
      // In one write, so the server holds the bytes after the unknown TYPE in the same chunk.
      hand.socket.write(Buffer.concat([good, Buffer.of(unknown), afterwards, afterwards]));
      await until(() => ended.has(hand.peer), { timeoutMs: 3000, what: "the session to end" });
      assert.equal(ended.get(hand.peer), "unknown-type");
      assert.deepEqual(delivered.get(hand.peer), ["good"], "type " + unknown);
      hand.socket.destroy();
    }
    // The client, from a server that sends an unknown TYPE mid-session.
    const key = testKeyWords();
    const fake = await fakeServer(async (socket: Socket, reader) => {
      socket.write(makeRequest(schedule()).packet);
      await reader.read(25);
      socket.write(makeSuccess(key, schedule()));
      socket.write(Buffer.concat([makeMessage(Buffer.from("good"), key), Buffer.of(0x07), makeMessage(Buffer.from("after"), key)]));
    });
    try {
      const client = newClient(fake.port);
      const texts: string[] = [];
      client.on("message", (text: string) => texts.push(text));
      const reason = new Promise<string>((resolve) => client.once("disconnected", resolve));
      assert.equal((await client.connectToServer()).success, true);
      assert.equal(await within(reason, 3000, "the client to drop the session"), "unknown-type");
      assert.deepEqual(texts, ["good"]);
    } finally {
      await fake.close();
    }
  });

  it("(3) session keys come from node:crypto by wiring: every key the server hands out is bytes randomFillSync produced", async () => {
    const produced: Buffer[] = [];
    const original = crypto.randomFillSync;
    const originalMathRandom = Math.random;
    (crypto as { randomFillSync: unknown }).randomFillSync = function (this: unknown, ...args: Parameters<typeof original>) {
      const out = (original as (...a: unknown[]) => unknown).apply(this, args);
      // A copy taken now: the pool zeroes bytes as it hands them out.
      const buf = args[0] as Uint8Array;
      produced.push(Buffer.from(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)));
      return out;
    } as typeof original;
    syncBuiltinESMExports();
    // Math.random must play no part: it throws for the duration.
    Math.random = () => {
      throw new Error("Math.random used");
    };
    try {
      // Use up the pool so that what follows is drawn from a refill we observe.
      const scratch = new Uint8Array(200);
      while (produced.length === 0) nodeRandom(scratch, 0, 200);
      const keys: Buffer[] = [];
      for (let i = 0; i < 5; i++) {
        const hand = await handHandshake(server.port);
        keys.push(Buffer.from(hand.sessionKey.buffer));
        hand.socket.destroy();
      }
      const everything = Buffer.concat(produced);
      for (const key of keys) assert.ok(everything.indexOf(key) >= 0, "session key " + key.toString("hex") + " was not produced by randomFillSync");
    } finally {
      (crypto as { randomFillSync: unknown }).randomFillSync = original;
      syncBuiltinESMExports();
      Math.random = originalMathRandom;
    }
  });

  it("(3) 300 session keys over real sockets are all distinct, share no 64-bit half-word pair, and their bits are balanced", async () => {
    const keys: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      const hand = await handHandshake(server.port);
      keys.push(Buffer.from(hand.sessionKey.buffer));
      hand.socket.destroy();
    }
    assert.equal(new Set(keys.map((k) => k.toString("hex"))).size, 300, "all keys distinct");
    // 64-bit pieces: 1,200 of them repeat by chance about once in 10^13 runs (32-bit words: once in 1,500).
    const pieces = new Set<string>();
    for (const key of keys) for (let i = 0; i < 32; i += 8) pieces.add(key.subarray(i, i + 8).toString("hex"));
    assert.equal(pieces.size, 300 * 4, "no 64-bit piece repeats (a seeded or short-period generator would)");
    // 76,800 bits: the share of ones is 0.5 within 6 standard deviations (sd ≈ 0.0018).
    let ones = 0;
    for (const key of keys) for (const byte of key) for (let b = 0; b < 8; b++) ones += (byte >> b) & 1;
    const share = ones / (300 * 256);
    assert.ok(Math.abs(share - 0.5) < 0.011, "share of one bits " + share);
    // Every bit position is set in some keys and clear in others (a stuck bit would show).
    for (let bit = 0; bit < 256; bit++) {
      const set = keys.filter((k) => (k[bit >> 3] >> (bit & 7)) & 1).length;
      assert.ok(set > 90 && set < 210, "bit " + bit + " set in " + set + " of 300 keys");
    }
  });

  it("(3) the server and client modules never reach Math.random: handshakes and messages succeed with it throwing", async () => {
    const originalMathRandom = Math.random;
    Math.random = () => {
      throw new Error("Math.random used");
    };
    try {
      server.on("session", (s: Session) => s.on("message", (_t: string, bytes: Buffer) => s.sendMessage(bytes)));
      const client = newClient(server);
      assert.equal((await within(client.connectToServer(), 3000, "handshake")).success, true);
      const echo = new Promise<string>((resolve) => client.once("message", resolve));
      client.sendMessage("padding comes from node:crypto too");
      assert.equal(await within(echo, 3000, "echo"), "padding comes from node:crypto too");
      await client.disconnect();
    } finally {
      Math.random = originalMathRandom;
    }
  });
});
