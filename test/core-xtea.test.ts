import assert from "node:assert/strict";
import fc from "fast-check";
import { parseKey } from "../firmware/core/keys.js";
import { createKeySchedule, decryptBlocks, encryptBlocks, validateRounds } from "../firmware/core/xtea.js";
import { referenceEncrypt } from "./helpers/reference-xtea.js";
import { hex, toHex, vectors } from "./helpers/vectors.js";

describe("XTEA256", () => {
  describe("reproduces the C++ implementation's vectors", () => {
    for (const [i, v] of vectors.xtea256.entries()) {
      it(`#${i}: ${v.rounds} rounds, ${v.plaintext.length / 2} bytes`, () => {
        const schedule = createKeySchedule(parseKey(v.key), v.rounds);
        const buf = hex(v.plaintext);
        encryptBlocks(schedule, buf, 0, buf.length);
        assert.equal(toHex(buf), v.ciphertext);
        decryptBlocks(schedule, buf, 0, buf.length);
        assert.equal(toHex(buf), v.plaintext);
      });
    }
    it("covers rounds 1, 16, 32 and 64", () => {
      assert.deepEqual(
        [...new Set(vectors.xtea256.map((v) => v.rounds))].sort((a, b) => a - b),
        [1, 16, 32, 64],
      );
    });
  });

  it("matches the plain reference for random keys, rounds and data", () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 0xffffffff }), { minLength: 8, maxLength: 8 }),
        fc.integer({ min: 1, max: 128 }),
        fc.integer({ min: 1, max: 16 }).chain((blocks) => fc.uint8Array({ minLength: blocks * 8, maxLength: blocks * 8 })),
        (key, rounds, data) => {
          const schedule = createKeySchedule(parseKey(key), rounds);
          const buf = new Uint8Array(data);
          encryptBlocks(schedule, buf, 0, buf.length);
          assert.equal(toHex(buf), toHex(referenceEncrypt(key, rounds, data)));
          assert.equal(toHex(referenceEncrypt(key, rounds, buf, true)), toHex(data));
          decryptBlocks(schedule, buf, 0, buf.length);
          assert.equal(toHex(buf), toHex(data));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("encrypts only the given range of a larger buffer", () => {
    const schedule = createKeySchedule(parseKey(vectors.handshakeKey));
    const buf = new Uint8Array(40).fill(7);
    encryptBlocks(schedule, buf, 8, 16);
    assert.deepEqual([...buf.subarray(0, 8)], new Array(8).fill(7));
    assert.deepEqual([...buf.subarray(24)], new Array(16).fill(7));
    assert.notDeepEqual([...buf.subarray(8, 24)], new Array(16).fill(7));
  });

  it("rejects partial blocks and ranges outside the buffer", () => {
    const schedule = createKeySchedule(parseKey(vectors.handshakeKey));
    assert.throws(() => encryptBlocks(schedule, new Uint8Array(12), 0, 12), /whole 8-byte blocks/);
    assert.throws(() => decryptBlocks(schedule, new Uint8Array(16), 8, 16), /whole 8-byte blocks/);
  });

  it("accepts rounds 1..128 and rejects anything else by name", () => {
    assert.equal(validateRounds(1), 1);
    assert.equal(validateRounds(128), 128);
    for (const bad of [0, 129, -1, 1.5, NaN]) assert.throws(() => validateRounds(bad), /rounds must be an integer from 1 to 128/);
    assert.throws(() => createKeySchedule(new Uint32Array(4)), /8 words/);
  });
});
