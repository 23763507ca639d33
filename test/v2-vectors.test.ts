// test/vectors/lwstcp-v2.json (made by scripts/make-v2-vectors.mjs from node:crypto alone)
// reproduced byte for byte by the engine: keys, handshake packets, each record sealed and
// opened, and a whole session played by two ConnectionV2s with recorded nonces; on both the
// node:crypto primitives and the Espruino ones.

import assert from "node:assert/strict";
import { ROLE_CLIENT, ROLE_SERVER } from "../firmware/core/connection.js";
import { ConnectionV2 } from "../firmware/core/v2/connection.js";
import {
  REASON_PROOF_FAILED,
  REASON_UNKNOWN_DEVICE,
  RECORD_AT,
  RECORD_HEADER_SIZE,
  TYPE_V2_DATA,
  TYPE_V2_DISCONNECT,
  TYPE_V2_KEEP_ALIVE,
} from "../firmware/core/v2/constants.js";
import { deriveSessionKeys, HandshakeV2, SessionKeysV2, V2_AWAITING_KEY, V2_DONE, V2_FAILED } from "../firmware/core/v2/handshake.js";
import { RecordDirection } from "../firmware/core/v2/records.js";
import { internals } from "./helpers/internals.js";
import { recorder } from "./helpers/pair.js";
import { hex, primitiveSets, type RecordVector, recordedRandom, toHex, v2Vectors as V } from "./helpers/v2.js";

function keysFor(direction: "c2s" | "s2c") {
  return direction === "c2s" ? [hex(V.keys.c2sEncryption), hex(V.keys.c2sMac)] : [hex(V.keys.s2cEncryption), hex(V.keys.s2cMac)];
}

function sealVector(direction: RecordDirection, v: RecordVector): string {
  const plaintext = hex(v.plaintext);
  const buf = new Uint8Array(RECORD_AT + RECORD_HEADER_SIZE + plaintext.length + 32);
  buf.set(plaintext, RECORD_AT + RECORD_HEADER_SIZE);
  const size = direction.seal(buf, v.type, plaintext.length);
  return toHex(buf.subarray(RECORD_AT, RECORD_AT + size));
}

for (const set of primitiveSets) {
  describe(`v2 vectors on ${set.name}`, () => {
    const primitives = set.make();

    it("HKDF gives the seven keys of the vectors from PSK, Ns and Nc", () => {
      const transcript = new Uint8Array(50);
      transcript.set(hex(V.handshake.serverHello), 0);
      transcript.set(hex(V.handshake.clientHello), 17);
      const keys = new SessionKeysV2();
      deriveSessionKeys(primitives, hex(V.psk), transcript, keys);
      for (const name of Object.keys(V.keys) as Array<keyof typeof V.keys>) assert.equal(toHex(keys[name]), V.keys[name], name);
    });

    it("the handshake state machines write ServerHello, ClientHello and ServerFinished exactly", () => {
      const server = new HandshakeV2(true, primitives, hex(V.psk), recordedRandom(hex(V.ns)));
      const client = new HandshakeV2(false, primitives, hex(V.psk), recordedRandom(hex(V.nc)));
      const out = new Uint8Array(64);
      const hello = out.slice(0, server.start(out, 0));
      assert.equal(toHex(hello), V.handshake.serverHello);
      const clientHello = out.slice(0, client.receive(hello, 0, hello.length, out, 0));
      assert.equal(toHex(clientHello), V.handshake.clientHello);
      const finished = out.slice(0, server.receive(clientHello, 0, clientHello.length, out, 0));
      assert.equal(toHex(finished), V.handshake.serverFinished);
      assert.equal(server.state, V2_DONE);
      assert.equal(client.receive(finished, 0, finished.length, out, 0), 0);
      assert.equal(client.state, V2_DONE);
      assert.equal(toHex(client.keys.exporter), V.keys.exporter);
      assert.equal(toHex(server.keys.s2cMac), V.keys.s2cMac);
    });

    it("with a device id: HKDF keys, ClientHello 0x17 ‖ n ‖ id ‖ Nc ‖ Pc and ServerFinished are the identified vectors", () => {
      const I = V.identified;
      const transcript = new Uint8Array(17 + I.handshake.clientHello.length / 2);
      transcript.set(hex(I.handshake.serverHello), 0);
      transcript.set(hex(I.handshake.clientHello), 17);
      const keys = new SessionKeysV2();
      deriveSessionKeys(primitives, hex(V.psk), transcript, keys);
      for (const name of Object.keys(I.keys) as Array<keyof typeof I.keys>) assert.equal(toHex(keys[name]), I.keys[name], name);
      // Every key differs from the id-less session's: the id is in the salt.
      for (const name of Object.keys(I.keys) as Array<keyof typeof I.keys>) assert.notEqual(I.keys[name], V.keys[name], name);

      const server = new HandshakeV2(true, primitives, null, recordedRandom(hex(V.ns)));
      const client = new HandshakeV2(false, primitives, hex(V.psk), recordedRandom(hex(V.nc)), I.deviceId);
      const out = new Uint8Array(80);
      const hello = out.slice(0, server.start(out, 0));
      const clientHello = out.slice(0, client.receive(hello, 0, hello.length, out, 0));
      assert.equal(toHex(clientHello), I.handshake.clientHello);
      // Built without a PSK, the server waits for the key of the id it was told.
      assert.equal(server.receive(clientHello, 0, clientHello.length, out, 0), 0);
      assert.equal(server.state, V2_AWAITING_KEY);
      assert.equal(server.deviceId, I.deviceId);
      const finished = out.slice(0, server.resume(hex(V.psk), out, 0));
      assert.equal(toHex(finished), I.handshake.serverFinished);
      assert.equal(client.receive(finished, 0, finished.length, out, 0), 0);
      assert.equal(client.state, V2_DONE);
      assert.equal(toHex(client.keys.exporter), I.keys.exporter);
    });

    it("with a device id: another id, another key, or no key at all fail, each with its own reason", () => {
      const I = V.identified;
      const hello = hex(I.handshake.clientHello);
      const attempt = (clientHello: Uint8Array, key: Uint8Array | null) => {
        const server = new HandshakeV2(true, primitives, null, recordedRandom(hex(V.ns), new Uint8Array(32).fill(7)));
        const out = new Uint8Array(80);
        server.start(out, 0);
        assert.equal(server.receive(clientHello, 0, clientHello.length, out, 0), 0);
        assert.equal(server.resume(key, out, 0), -1);
        assert.equal(server.state, V2_FAILED);
        return server.reason;
      };
      // The right key, but the id altered in transit ("kitchen-2"): the proof covers the id.
      const altered = Uint8Array.from(hello);
      altered[10] ^= 0x03;
      assert.equal(attempt(altered, hex(V.psk)), REASON_PROOF_FAILED);
      // Another device's key for this id.
      assert.equal(attempt(hello, new Uint8Array(32).fill(0x42)), REASON_PROOF_FAILED);
      // No key for the id: the same work on a random key, then unknown-device.
      assert.equal(attempt(hello, null), REASON_UNKNOWN_DEVICE);
    });

    it("with a device id: each record seals to the identified vectors' bytes", () => {
      for (const v of V.identified.records) {
        const sealer = new RecordDirection(primitives);
        const keys = V.identified.keys;
        if (v.direction === "c2s") sealer.setKeys(hex(keys.c2sEncryption), hex(keys.c2sMac));
        else sealer.setKeys(hex(keys.s2cEncryption), hex(keys.s2cMac));
        assert.equal(sealVector(sealer, v), v.record, v.direction);
      }
    });

    it("each record seals to the vector bytes and opens back to its plaintext, in sequence per direction", () => {
      for (const name of ["c2s", "s2c"] as const) {
        const sealer = new RecordDirection(primitives);
        const opener = new RecordDirection(primitives);
        const [enc, mac] = keysFor(name);
        sealer.setKeys(enc, mac);
        opener.setKeys(enc, mac);
        for (const v of V.records.filter((r) => r.direction === name)) {
          assert.equal(sealVector(sealer, v), v.record, `${name} #${v.sequence}`);
          const buf = new Uint8Array(RECORD_AT + v.record.length / 2);
          buf.set(hex(v.record), RECORD_AT);
          const length = opener.open(buf, v.record.length / 2);
          assert.equal(toHex(buf.subarray(RECORD_AT + 3, RECORD_AT + 3 + length)), v.plaintext);
        }
      }
    });

    it("a sequence number above 2^32 enters the IV block and the MAC as a big-endian u64", () => {
      const v = V.highSequence;
      assert.equal(v.ivBlock, "00000000000000000000000100000002");
      const sealer = new RecordDirection(primitives);
      const [enc, mac] = keysFor("c2s");
      sealer.setKeys(enc, mac);
      sealer.sequenceHi = 1;
      sealer.sequenceLo = 2;
      assert.equal(sealVector(sealer, v), v.record);
    });

    it("two ConnectionV2s with the recorded nonces put exactly the vector bytes on the wire", () => {
      const serverSink = recorder();
      const clientSink = recorder();
      const options = { preSharedKey: hex(V.psk), primitives, clock: () => 0, keepAliveIntervalMs: 100, inactivityTimeoutMs: 1000 };
      const server = new ConnectionV2(ROLE_SERVER, { ...options, random: recordedRandom(hex(V.ns)) }, serverSink);
      const client = new ConnectionV2(ROLE_CLIENT, { ...options, random: recordedRandom(hex(V.nc)) }, clientSink);
      const s2c: string[] = [];
      const c2s: string[] = [];
      const flush = () => {
        for (const chunk of serverSink.wire.splice(0)) {
          s2c.push(toHex(chunk));
          client.receive(chunk);
        }
        for (const chunk of clientSink.wire.splice(0)) {
          c2s.push(toHex(chunk));
          server.receive(chunk);
        }
      };
      server.start();
      flush();
      flush();
      assert.deepEqual(s2c.splice(0), [V.handshake.serverHello, V.handshake.serverFinished]);
      assert.deepEqual(c2s.splice(0), [V.handshake.clientHello]);
      assert.ok(server.isOpen && client.isOpen);
      assert.deepEqual(Array.from(server.sessionKey), Array.from(client.sessionKey));
      assert.equal(Buffer.from(server.sessionKey.buffer).toString("hex"), V.keys.exporter);
      const send = (conn: ConnectionV2, v: RecordVector) => {
        if (v.type === TYPE_V2_DATA) conn.sendBytes(hex(v.plaintext), 0, v.plaintext.length / 2);
        else if (v.type === TYPE_V2_KEEP_ALIVE) internals(conn).control(false);
        else if (v.type === TYPE_V2_DISCONNECT) conn.disconnect();
      };
      for (const v of V.records.filter((r) => r.direction === "c2s")) send(client, v);
      flush();
      for (const v of V.records.filter((r) => r.direction === "s2c")) send(server, v);
      flush();
      assert.deepEqual(
        c2s,
        V.records.filter((r) => r.direction === "c2s").map((r) => r.record),
      );
      assert.deepEqual(
        s2c,
        V.records.filter((r) => r.direction === "s2c").map((r) => r.record),
      );
      assert.deepEqual(serverSink.messages, ["hello, server", "0123456789abcdef", "Fizz \u263a"]);
      assert.deepEqual(clientSink.messages, ["hello, client: thirty-three bytes"]);
      assert.deepEqual(serverSink.events, ["handshake-success", "ended:local-disconnect"]);
      assert.deepEqual(clientSink.events, ["handshake-success", "ended:disconnect"]);
    });
  });
}
