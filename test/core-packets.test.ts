// One fixture (the C++ vectors) drives encode, decode, round-trip and split-stream tests.
import assert from "node:assert/strict";
import {
  HANDSHAKE_NUMBERS_PACKET_SIZE,
  HANDSHAKE_SUCCESS_PACKET_SIZE,
  MAX_MESSAGE_LENGTH,
  TYPE_HANDSHAKE_REQUEST,
  TYPE_HANDSHAKE_RESPONSE,
} from "../firmware/core/constants.js";
import { Framer } from "../firmware/core/framer.js";
import { parseKey } from "../firmware/core/keys.js";
import {
  A_HI,
  A_LO,
  B_HI,
  B_LO,
  createHandshakeNumbers,
  decodeHandshakeNumbers,
  decodeHandshakeSuccess,
  encodeHandshakeNumbers,
  encodeHandshakeSuccess,
  encodeMessage,
  messagePacketSize,
  NONCE,
  openMessage,
} from "../firmware/core/packets.js";
import { createKeySchedule } from "../firmware/core/xtea.js";
import { hex, recordedRandom, toHex, u64, vectors } from "./helpers/vectors.js";

const handshakeKey = createKeySchedule(parseKey(vectors.handshakeKey), vectors.rounds);

function numbersOf(nonce: string, a: string, b: string): Uint32Array {
  const n = createHandshakeNumbers();
  n[NONCE] = parseInt(nonce, 16);
  [n[A_HI], n[A_LO]] = u64(a);
  [n[B_HI], n[B_LO]] = u64(b);
  return n;
}

function framedPackets(stream: Uint8Array, chunkSizes: () => number): Uint8Array[] {
  const framer = new Framer(16);
  const out: Uint8Array[] = [];
  for (let at = 0; at < stream.length; ) {
    const end = Math.min(stream.length, at + chunkSizes());
    framer.feed(stream.subarray(at, end));
    at = end;
    for (let n = framer.next(); n !== 0; n = framer.next()) {
      assert.ok(n > 0, "framer failed: " + framer.error);
      out.push(framer.packet.slice(0, n));
    }
  }
  return out;
}

describe("packet codec against the C++ vectors", () => {
  describe("handshake packets", () => {
    for (const [i, v] of vectors.handshake.entries()) {
      it(`#${i}: encodes request, response and success byte for byte, and decodes them`, () => {
        const request = numbersOf(v.nonce, v.num1, v.num2);
        const response = numbersOf(v.transformedNonce, v.sum, v.xor);
        const out = new Uint8Array(HANDSHAKE_SUCCESS_PACKET_SIZE);
        const reqPad = hex(v.requestPlaintext).subarray(20);
        assert.equal(encodeHandshakeNumbers(TYPE_HANDSHAKE_REQUEST, request, out, 0, handshakeKey, recordedRandom(reqPad)), HANDSHAKE_NUMBERS_PACKET_SIZE);
        assert.equal(toHex(out, 0, 25), v.request);
        const resPad = hex(v.responsePlaintext).subarray(20);
        encodeHandshakeNumbers(TYPE_HANDSHAKE_RESPONSE, response, out, 0, handshakeKey, recordedRandom(resPad));
        assert.equal(toHex(out, 0, 25), v.response);
        encodeHandshakeSuccess(parseKey(v.sessionKey), out, 0, handshakeKey);
        assert.equal(toHex(out), v.success);

        const decoded = createHandshakeNumbers();
        const req = hex(v.request);
        decodeHandshakeNumbers(req, 0, handshakeKey, decoded);
        assert.deepEqual([...decoded], [...request]);
        assert.equal(toHex(req, 1), v.requestPlaintext, "decrypted in place to the recorded plaintext");
        decodeHandshakeNumbers(hex(v.response), 0, handshakeKey, decoded);
        assert.deepEqual([...decoded], [...response]);
        const key = new Uint32Array(8);
        decodeHandshakeSuccess(hex(v.success), 0, handshakeKey, key);
        assert.deepEqual([...key], [...parseKey(v.sessionKey)]);
      });
    }
  });

  describe("RegularMessage packets", () => {
    for (const [i, v] of vectors.messages.entries()) {
      const length = v.message.length / 2;
      it(`#${i}: ${length}-byte message encodes with the recorded padding and decodes`, () => {
        const session = createKeySchedule(parseKey(v.sessionKey), vectors.rounds);
        const message = hex(v.message);
        const padding = hex(v.paddedPlaintext).subarray(length);
        const out = new Uint8Array(messagePacketSize(length));
        assert.equal(encodeMessage(out, 0, message, 0, length, session, recordedRandom(padding)), out.length);
        assert.equal(toHex(out), v.packet);

        const packet = hex(v.packet);
        assert.equal(openMessage(packet, 0, packet.length, session), length);
        assert.equal(toHex(packet, 3, length), v.message);
      });
    }
    it("include the largest legal message and a non-ASCII one", () => {
      const lengths = vectors.messages.map((v) => v.message.length / 2);
      assert.ok(lengths.includes(MAX_MESSAGE_LENGTH));
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is "anything but ASCII"
      assert.ok(vectors.messages.some((v) => /[^\x00-\x7f]/.test(Buffer.from(v.message, "hex").toString("utf8"))));
    });
  });

  it("the whole recorded transcript frames identically one byte at a time and all in one chunk", () => {
    const packets = [...vectors.handshake.flatMap((v) => [v.request, v.response, v.success]), ...vectors.messages.map((v) => v.packet), "05", "06"];
    const stream = hex(packets.join(""));
    for (const chunk of [() => 1, () => stream.length, () => 7, () => 536]) {
      assert.deepEqual(
        framedPackets(stream, chunk).map((p) => toHex(p)),
        packets,
      );
    }
  });

  it("rejects empty and oversized messages with a clear error", () => {
    const session = createKeySchedule(parseKey(vectors.messages[0].sessionKey));
    const out = new Uint8Array(70000);
    const noRandom = recordedRandom();
    assert.throws(() => encodeMessage(out, 0, new Uint8Array(1), 0, 0, session, noRandom), /at least 1 byte/);
    assert.throws(() => encodeMessage(out, 0, new Uint8Array(65529), 0, 65529, session, noRandom), /at most 65528 bytes/);
    assert.throws(() => encodeMessage(new Uint8Array(10), 0, new Uint8Array(8), 0, 8, session, noRandom), /buffer too small/);
  });
});
