import assert from "node:assert/strict";
import { randomFillSync } from "node:crypto";
import fc from "fast-check";
import { HANDSHAKE_SUCCESS_PACKET_SIZE } from "../firmware/core/constants.js";
import { computeResponse, HANDSHAKE_AWAITING_SUCCESS, HANDSHAKE_DONE, HANDSHAKE_FAILED, Handshake } from "../firmware/core/handshake.js";
import { parseKey } from "../firmware/core/keys.js";
import * as packets from "../firmware/core/packets.js";
import { A_HI, A_LO, B_HI, B_LO, createHandshakeNumbers, NONCE } from "../firmware/core/packets.js";
import { add64, equal64, xor64 } from "../firmware/core/u64.js";
import { createKeySchedule } from "../firmware/core/xtea.js";
import { hex, recordedRandom, toHex, u64, vectors } from "./helpers/vectors.js";

const key = createKeySchedule(parseKey(vectors.handshakeKey), vectors.rounds);
const cryptoRandom = (buf: Uint8Array, at: number, length: number) => randomFillSync(buf, at, length);

describe("64-bit pairs", () => {
  const big = (hi: number, lo: number) => (BigInt(hi) << 32n) | BigInt(lo);
  const M = (1n << 64n) - 1n;
  it("add with carry and wrap, xor, and compare agree with BigInt", () => {
    const u32 = fc.nat({ max: 0xffffffff });
    const edge = fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff);
    const word = fc.oneof(u32, edge);
    fc.assert(
      fc.property(word, word, word, word, (aHi, aLo, bHi, bLo) => {
        const out = new Uint32Array(2);
        add64(aHi, aLo, bHi, bLo, out, 0);
        assert.equal(big(out[0], out[1]), (big(aHi, aLo) + big(bHi, bLo)) & M);
        xor64(aHi, aLo, bHi, bLo, out, 0);
        assert.equal(big(out[0], out[1]), big(aHi, aLo) ^ big(bHi, bLo));
        assert.equal(equal64(aHi, aLo, bHi, bLo), big(aHi, aLo) === big(bHi, bLo));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("handshake state machines", () => {
  describe("replay the C++ exchanges byte for byte", () => {
    for (const [i, v] of vectors.handshake.entries()) {
      it(`#${i}: sum ${v.sum}, xor ${v.xor}`, () => {
        const reqPlain = hex(v.requestPlaintext);
        const resPlain = hex(v.responsePlaintext);
        // The server's random stream: nonce, num1, num2 and padding in wire order, then the session key.
        const server = new Handshake(true, key, recordedRandom(reqPlain, hex(v.sessionKey)));
        const client = new Handshake(false, key, recordedRandom(resPlain.subarray(20)));
        const wire = new Uint8Array(HANDSHAKE_SUCCESS_PACKET_SIZE);
        const reply = new Uint8Array(HANDSHAKE_SUCCESS_PACKET_SIZE);

        assert.equal(server.start(wire, 0), 25);
        assert.equal(toHex(wire, 0, 25), v.request);
        assert.equal(client.receive(wire, 0, 25, reply, 0), 25);
        assert.equal(toHex(reply, 0, 25), v.response);
        assert.equal(client.state, HANDSHAKE_AWAITING_SUCCESS);
        assert.equal(server.receive(reply, 0, 25, wire, 0), 33);
        assert.equal(toHex(wire), v.success);
        assert.equal(client.receive(wire, 0, 33, reply, 0), 0);
        assert.equal(client.state, HANDSHAKE_DONE);
        assert.equal(server.state, HANDSHAKE_DONE);
        assert.deepEqual([...client.sessionKey], [...parseKey(v.sessionKey)]);
        assert.deepEqual([...server.sessionKey], [...client.sessionKey]);
      });
    }
    it("computeResponse gives the recorded sum, xor and transformed nonce (carry and wrap cases)", () => {
      for (const v of vectors.handshake) {
        const req = createHandshakeNumbers();
        req[NONCE] = parseInt(v.nonce, 16);
        [req[A_HI], req[A_LO]] = u64(v.num1);
        [req[B_HI], req[B_LO]] = u64(v.num2);
        const res = createHandshakeNumbers();
        computeResponse(req, res);
        assert.equal(res[NONCE], parseInt(v.transformedNonce, 16));
        assert.deepEqual([res[A_HI], res[A_LO]], u64(v.sum));
        assert.deepEqual([res[B_HI], res[B_LO]], u64(v.xor));
      }
    });
  });

  function exchange(serverKey = key, clientKey = key) {
    const server = new Handshake(true, serverKey, cryptoRandom);
    const client = new Handshake(false, clientKey, cryptoRandom);
    const a = new Uint8Array(33);
    const b = new Uint8Array(33);
    server.start(a, 0);
    return { server, client, a, b };
  }

  it("a client with the wrong key fails the server's verification", () => {
    const wrong = createKeySchedule(parseKey("00".repeat(32)));
    const { server, client, a, b } = exchange(key, wrong);
    assert.equal(client.receive(a, 0, 25, b, 0), 25);
    assert.equal(server.receive(b, 0, 25, a, 0), -1);
    assert.equal(server.reason, "verify-failed");
    assert.equal(server.state, HANDSHAKE_FAILED);
  });

  it("the server checks the xor too (the C++ server does not)", () => {
    const { server, client, a, b } = exchange();
    client.receive(a, 0, 25, b, 0);
    // Re-encode a response whose nonce and sum are right but whose xor is not.
    const numbers = createHandshakeNumbers();
    const { decodeHandshakeNumbers, encodeHandshakeNumbers } = packets;
    decodeHandshakeNumbers(b, 0, key, numbers);
    numbers[B_LO] ^= 1;
    encodeHandshakeNumbers(3, numbers, b, 0, key, cryptoRandom);
    assert.equal(server.receive(b, 0, 25, a, 0), -1);
    assert.equal(server.reason, "verify-failed");
  });

  it("wrong packet types and sizes fail with their reasons at every step", () => {
    let h = exchange();
    assert.equal(h.server.receive(Uint8Array.of(5), 0, 1, h.a, 0), -1);
    assert.equal(h.server.reason, "wrong-type");
    h = exchange();
    h.client.receive(h.a, 0, 25, h.b, 0);
    assert.equal(h.server.receive(h.b, 0, 24, h.a, 0), -1);
    assert.equal(h.server.reason, "bad-size");
    h = exchange();
    assert.equal(h.client.receive(Uint8Array.of(4, ...new Uint8Array(32)), 0, 33, h.b, 0), -1, "success before request");
    assert.equal(h.client.reason, "wrong-type");
    h = exchange();
    h.client.receive(h.a, 0, 25, h.b, 0);
    assert.equal(h.client.receive(h.a, 0, 25, h.b, 0), -1, "a second request");
    assert.equal(h.client.reason, "wrong-type");
    const done = exchange();
    done.client.receive(done.a, 0, 25, done.b, 0);
    done.server.receive(done.b, 0, 25, done.a, 0);
    assert.equal(done.server.receive(done.b, 0, 25, done.a, 0), -1, "nothing after done");
  });
});
