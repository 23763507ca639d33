// Two ConnectionV2s back to back in memory: handshake, messages both ways, keep-alive,
// inactivity, disconnect, timeouts, a wrong PSK, the v1 <-> v2 mismatch in both directions,
// and the framer under every chunking.
import assert from "node:assert/strict";
import { Connection, ROLE_CLIENT, ROLE_SERVER, STATE_CLOSED } from "../firmware/core/connection.js";
import { parseKey } from "../firmware/core/keys.js";
import { ConnectionV2, pskBytes } from "../firmware/core/v2/connection.js";
import { CONTROL_RECORD_SIZE, MAX_V2_MESSAGE_LENGTH, RECORD_AT, recordSize } from "../firmware/core/v2/constants.js";
import { FramerV2 } from "../firmware/core/v2/framer.js";
import { type ProtocolConnection, parseProfile } from "../firmware/core/v2/profile.js";
import { createKeySchedule } from "../firmware/core/xtea.js";
import { nodePrimitives } from "../server/crypto-v2.js";
import { cryptoRandom, recorder } from "./helpers/pair.js";
import { testBytes } from "./helpers/seed.js";
import { hex, pairV2, v2Vectors } from "./helpers/v2.js";
import { vectors as v1Vectors } from "./helpers/vectors.js";

// Compile-time: both engines offer the one surface drivers use.
const surfaces: ProtocolConnection[] = [] as Array<Connection | ConnectionV2>;
void surfaces;

function open() {
  const p = pairV2();
  p.server.start();
  p.flush();
  assert.ok(p.server.isOpen && p.client.isOpen);
  return p;
}

describe("v2 ConnectionV2 pair in memory", () => {
  it("handshakes in three packets (17, 33, 17 bytes) and agrees on a per-session key", () => {
    const p = pairV2();
    p.server.start();
    assert.deepEqual(
      p.serverSink.wire.map((c) => c.length),
      [17],
    );
    p.flush();
    assert.deepEqual(p.serverSink.events, ["handshake-success"]);
    assert.deepEqual(p.clientSink.events, ["handshake-success"]);
    assert.deepEqual(Array.from(p.server.sessionKey), Array.from(p.client.sessionKey));
    assert.notDeepEqual(Array.from(p.server.sessionKey), new Array(8).fill(0));
    const q = open();
    assert.notDeepEqual(Array.from(q.server.sessionKey), Array.from(p.server.sessionKey), "fresh nonces, fresh keys");
  });

  it("carries messages both ways: 1 byte, block edges, binary strings, the 65528-byte maximum", () => {
    const p = open();
    const sizes = [1, 15, 16, 17, 31, 32, 33, 263, 264, 265, 4096, MAX_V2_MESSAGE_LENGTH];
    const sent: Buffer[] = [];
    const got: Buffer[] = [];
    p.serverSink.message = (b, at, n) => void got.push(Buffer.from(b.subarray(at, at + n)));
    for (const n of sizes) {
      const m = testBytes(n);
      sent.push(m);
      assert.equal(p.client.sendBytes(m, 0, n), recordSize(n));
    }
    p.client.sendByteString("caf\xe9\x00\xff");
    sent.push(Buffer.from("caf\xe9\x00\xff", "latin1"));
    p.flush();
    assert.deepEqual(got, sent);
    p.server.sendBytes(Buffer.from("reply"), 0, 5);
    p.flush();
    assert.deepEqual(p.clientSink.messages, ["reply"]);
  });

  it("delivers a record however TCP splits or merges it (one byte at a time, binary strings, all at once)", () => {
    const p = open();
    for (const text of ["a", "0123456789abcdef", "x".repeat(300)]) p.client.sendByteString(text);
    const stream = Buffer.concat(p.clientSink.wire.splice(0));
    for (const byte of stream) p.server.receive(new Uint8Array([byte]));
    assert.deepEqual(p.serverSink.messages, ["a", "0123456789abcdef", "x".repeat(300)]);
    for (const text of ["b", "c".repeat(40)]) p.client.sendByteString(text);
    p.server.receive(Buffer.concat(p.clientSink.wire.splice(0)).toString("latin1"));
    assert.deepEqual(p.serverSink.messages.slice(3), ["b", "c".repeat(40)]);
  });

  it("sends an authenticated 19-byte keep-alive when idle, and it keeps the peer from timing out", () => {
    const p = open();
    for (let t = 0; t < 30; t++) {
      p.clock.now += 50;
      p.server.tick();
      p.client.tick();
      for (const c of [...p.serverSink.wire, ...p.clientSink.wire]) assert.equal(c.length, CONTROL_RECORD_SIZE);
      p.flush();
    }
    assert.ok(p.server.isOpen && p.client.isOpen, "1.5 s of keep-alives, timeout 1 s");
    p.clock.now += 1000;
    p.server.tick();
    assert.equal(p.server.reason, "inactivity-timeout");
    assert.deepEqual(p.serverSink.events, ["handshake-success", "ended:inactivity-timeout"]);
  });

  it("disconnect sends an authenticated Disconnect; the peer ends with 'disconnect'; keys are wiped", () => {
    const p = open();
    p.client.disconnect();
    assert.equal(p.clientSink.wire[0].length, CONTROL_RECORD_SIZE);
    p.flush();
    assert.deepEqual(p.clientSink.events, ["handshake-success", "ended:local-disconnect"]);
    assert.deepEqual(p.serverSink.events, ["handshake-success", "ended:disconnect"]);
    assert.equal(p.serverSink.closed, 1);
    assert.deepEqual(Array.from(p.server.sessionKey), new Array(8).fill(0));
    assert.throws(() => p.client.sendByteString("late"), /session is closed/);
  });

  it("refuses to send before the handshake, and empty or oversized messages", () => {
    const p = pairV2();
    assert.throws(() => p.client.sendByteString("early"), /before the handshake/);
    const q = open();
    assert.throws(() => q.client.sendByteString(""), /at least 1 byte/);
    assert.throws(() => q.client.sendBytes(new Uint8Array(MAX_V2_MESSAGE_LENGTH + 1), 0, MAX_V2_MESSAGE_LENGTH + 1), /at most 65528/);
    assert.ok(q.client.isOpen);
  });

  it("times out a handshake that does not finish, and reports a peer closing mid-handshake", () => {
    const p = pairV2();
    p.server.start();
    p.clock.now += 500;
    p.server.tick();
    assert.deepEqual(p.serverSink.events, ["handshake-failed:handshake-timeout"]);
    const q = pairV2();
    q.server.start();
    q.server.transportClosed();
    assert.deepEqual(q.serverSink.events, ["handshake-failed:peer-closed"]);
    assert.equal(q.serverSink.closed, 0, "the socket is already gone");
  });

  it("a wrong PSK fails both sides: the server with proof-failed, the client with peer-closed", () => {
    const p = pairV2({}, { preSharedKey: testBytes(32) });
    p.server.start();
    p.flush();
    assert.deepEqual(p.serverSink.events, ["handshake-failed:proof-failed"]);
    assert.equal(p.serverSink.closed, 1);
    p.client.transportClosed(); // what the driver reports when the server closes
    assert.deepEqual(p.clientSink.events, ["handshake-failed:peer-closed"]);
    assert.deepEqual(p.serverSink.messages, []);
  });

  it("a fake server without the PSK fails the client with proof-failed at ServerFinished", () => {
    // The impostor sees Nc and the client proof but cannot compute the server proof.
    const p = pairV2({ preSharedKey: testBytes(32) });
    p.server.start();
    const hello = p.serverSink.wire.splice(0);
    for (const c of hello) p.client.receive(c);
    p.clientSink.wire.splice(0);
    p.client.receive(Buffer.concat([Buffer.from([0x14]), testBytes(16)]));
    assert.deepEqual(p.clientSink.events, ["handshake-failed:proof-failed"]);
  });

  it("takes the PSK as parseKey words or as 32 bytes, the same key either way", () => {
    const words = parseKey(v2Vectors.psk);
    assert.deepEqual(pskBytes(words), hex(v2Vectors.psk));
    const p = pairV2({ preSharedKey: words }, { preSharedKey: hex(v2Vectors.psk) });
    p.server.start();
    p.flush();
    assert.ok(p.server.isOpen && p.client.isOpen);
    assert.throws(() => pskBytes(new Uint8Array(16)), /32 bytes/);
  });

  it("parses the profile option", () => {
    assert.equal(parseProfile(undefined), "v1");
    assert.equal(parseProfile("v2"), "v2");
    assert.throws(() => parseProfile("V2"), /profile must be "v1".*or "v2"/);
  });
});

describe("v2 <-> v1 profile mismatch", () => {
  const v1Options = () => ({
    handshakeKey: createKeySchedule(parseKey(v1Vectors.handshakeKey)),
    random: cryptoRandom,
    clock: () => 0,
  });
  const v2Options = () => ({ preSharedKey: parseKey(v1Vectors.handshakeKey), primitives: nodePrimitives, random: cryptoRandom, clock: () => 0 });

  it("v1 server -> v2 client: the v2 client fails at the first byte with profile-mismatch, the v1 server fails too", () => {
    const v1Sink = recorder();
    const v2Sink = recorder();
    const server = new Connection(ROLE_SERVER, v1Options(), v1Sink);
    const client = new ConnectionV2(ROLE_CLIENT, v2Options(), v2Sink);
    v2Sink.close = () => void (v2Sink.closed++, server.transportClosed());
    server.start();
    const request = v1Sink.wire.splice(0)[0];
    client.receive(request.subarray(0, 1)); // one byte is enough to know
    assert.deepEqual(v2Sink.events, ["handshake-failed:profile-mismatch"]);
    assert.equal(v2Sink.wire.length, 0, "the v2 client answered nothing");
    assert.deepEqual(v1Sink.events, ["handshake-failed:peer-closed"]);
    assert.equal(server.state, STATE_CLOSED);
  });

  it("v2 server -> v1 client: the v1 client fails at the ServerHello (profile-mismatch), then the v2 server fails (peer-closed)", () => {
    const v1Sink = recorder();
    const v2Sink = recorder();
    const server = new ConnectionV2(ROLE_SERVER, v2Options(), v2Sink);
    const client = new Connection(ROLE_CLIENT, v1Options(), v1Sink);
    v1Sink.close = () => void (v1Sink.closed++, server.transportClosed());
    server.start();
    client.receive(v2Sink.wire.splice(0)[0]);
    assert.deepEqual(v1Sink.events, ["handshake-failed:profile-mismatch"]);
    assert.deepEqual(v2Sink.events, ["handshake-failed:peer-closed"]);
  });

  it("a v2 server that is sent a v1 packet first names it profile-mismatch", () => {
    const v2Sink = recorder();
    const server = new ConnectionV2(ROLE_SERVER, v2Options(), v2Sink);
    server.start();
    server.receive(new Uint8Array([0x03, 1, 2, 3]));
    assert.deepEqual(v2Sink.events, ["handshake-failed:profile-mismatch"]);
  });
});

describe("v2 framer", () => {
  const frame = (bytes: number[]) => {
    const f = new FramerV2();
    f.feed(new Uint8Array(bytes));
    const sizes: number[] = [];
    for (;;) {
      const n = f.next();
      if (n <= 0) return { sizes, error: f.error, buffered: f.buffered };
      sizes.push(n);
    }
  };
  const control = (type: number) => [type, 0, 0, ...new Array(16).fill(0)];

  it("sizes handshake packets and records by TYPE and LENGTH, packet at RECORD_AT", () => {
    assert.deepEqual(frame([0x12, ...new Array(16).fill(7), 0x14, ...new Array(16).fill(8)]).sizes, [17, 17]);
    assert.deepEqual(frame([0x11, 0, 17, ...new Array(32 + 16).fill(1), ...control(0x15), ...control(0x16)]).sizes, [51, 19, 19]);
    const f = new FramerV2();
    f.feed(new Uint8Array([0x13, ...new Array(32).fill(9)]));
    assert.equal(f.next(), 33);
    assert.equal(f.packet[RECORD_AT], 0x13);
  });

  it("names each broken stream: profile-mismatch (v1 TYPE first), unknown-type, zero-length, bad-length", () => {
    for (let t = 1; t <= 6; t++) assert.equal(frame([t]).error, "profile-mismatch");
    assert.equal(frame([0x12, ...new Array(16).fill(0), 0x01]).error, "unknown-type", "a v1 TYPE later is just a broken stream");
    assert.equal(frame([0x00]).error, "unknown-type");
    assert.equal(frame([0x17]).error, "unknown-type");
    assert.equal(frame([0x11, 0, 0]).error, "zero-length");
    assert.equal(frame([0x11, 0xff, 0xf9]).error, "bad-length");
    assert.equal(frame([0x15, 0, 1]).error, "bad-length");
    assert.equal(frame([0x16, 1, 0]).error, "bad-length");
  });

  it("waits for the rest of a record without delivering a part of it", () => {
    const r = frame([0x11, 0, 1, ...new Array(20).fill(1)]);
    assert.deepEqual(r.sizes, []);
    assert.equal(r.buffered, 23);
    assert.equal(r.error, "");
  });
});
