// HMAC and HKDF built on the injected SHA-256 against node:crypto's own createHmac/hkdfSync,
// and the Espruino primitives (on a stand-in with Espruino's semantics) against node:crypto.
import assert from "node:assert/strict";
import { createHmac, hkdfSync } from "node:crypto";
import fc from "fast-check";
import { hkdfExpand, hkdfExtract } from "../firmware/core/v2/hkdf.js";
import { equalConstantTime, Hmac } from "../firmware/core/v2/hmac.js";
import { createEspruinoPrimitives } from "../firmware/crypto-v2.js";
import { nodePrimitives } from "../server/crypto-v2.js";
import { testBytes } from "./helpers/seed.js";
import { fakeEspruinoCrypto, primitiveSets } from "./helpers/v2.js";

const bytes = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });

for (const set of primitiveSets) {
  describe(`v2 HMAC-SHA256 and HKDF-SHA256 on ${set.name}`, () => {
    const primitives = set.make();

    it("HMAC equals createHmac for keys of 0..200 bytes (pads, hashed long keys) and any message", () => {
      fc.assert(
        fc.property(bytes(200), bytes(300), (key, message) => {
          const expected = createHmac("sha256", key).update(message).digest();
          const hmac = new Hmac(primitives, key, 0, key.length);
          const out = new Uint8Array(40);
          hmac.mac(message, 0, message.length, out, 3);
          assert.deepEqual(Buffer.from(out.subarray(3, 35)), expected);
          // In place, with the 64 bytes of head room the record layer keeps.
          const buf = new Uint8Array(64 + message.length);
          buf.set(message, 64);
          hmac.macWithHeadroom(buf, 64, message.length, out, 0);
          assert.deepEqual(Buffer.from(out.subarray(0, 32)), expected);
        }),
        { numRuns: 150 },
      );
    });

    it("one Hmac reused across keys (setKey) gives the right MAC each time", () => {
      const hmac = new Hmac(primitives);
      for (let i = 0; i < 5; i++) {
        const key = testBytes(i * 30);
        const message = testBytes(i * 17 + 1);
        hmac.setKey(key, 0, key.length);
        const out = new Uint8Array(32);
        hmac.mac(message, 0, message.length, out, 0);
        assert.deepEqual(Buffer.from(out), createHmac("sha256", key).update(message).digest());
      }
    });

    it("HKDF Extract + Expand equal hkdfSync for any salt (empty included), IKM, info and length", () => {
      fc.assert(
        fc.property(bytes(80), bytes(80), bytes(60), fc.integer({ min: 1, max: 600 }), (salt, ikm, info, length) => {
          const expected = Buffer.from(hkdfSync("sha256", ikm, salt, info, length));
          const prk = new Uint8Array(32);
          hkdfExtract(primitives, salt, 0, salt.length, ikm, 0, ikm.length, prk, 0);
          assert.deepEqual(
            Buffer.from(prk),
            createHmac("sha256", salt.length ? salt : Buffer.alloc(32))
              .update(ikm)
              .digest(),
          );
          const okm = new Uint8Array(length);
          hkdfExpand(new Hmac(primitives, prk, 0, 32), info, length, okm, 0);
          assert.deepEqual(Buffer.from(okm), expected);
        }),
        { numRuns: 60 },
      );
    });

    it("HKDF-Expand refuses more than 255 blocks", () => {
      assert.throws(() => hkdfExpand(new Hmac(primitives, new Uint8Array(32)), new Uint8Array(0), 255 * 32 + 1, new Uint8Array(8200), 0), /at most 8160/);
    });
  });
}

describe("v2 constant-time comparison", () => {
  it("is equal only when every byte is equal, wherever the difference is", () => {
    const a = testBytes(16);
    assert.equal(equalConstantTime(a, 0, Buffer.from(a), 0, 16), true);
    for (let i = 0; i < 16; i++) {
      const b = Buffer.from(a);
      b[i] ^= 0x80;
      assert.equal(equalConstantTime(a, 0, b, 0, 16), false, `difference at ${i}`);
    }
  });
});

describe("v2 primitives: Espruino crypto module vs node:crypto", () => {
  it("ECB block, CBC both ways and SHA-256 give the same bytes, at offsets and in place", () => {
    const fake = fakeEspruinoCrypto();
    const espruino = createEspruinoPrimitives(fake);
    for (let round = 0; round < 20; round++) {
      const key = testBytes(32);
      const iv = testBytes(16);
      const data = testBytes(5 + 16 * (round + 1));
      const blocks = 16 * (round + 1);
      const a = new Uint8Array(blocks + 40);
      const b = new Uint8Array(blocks + 40);
      espruino.aes256EcbEncryptBlock(key, data, 5, a, 9);
      nodePrimitives.aes256EcbEncryptBlock(key, data, 5, b, 9);
      assert.deepEqual(a, b);
      espruino.aes256CbcEncrypt(key, iv, data, 5, blocks, a, 9);
      nodePrimitives.aes256CbcEncrypt(key, iv, data, 5, blocks, b, 9);
      assert.deepEqual(a, b);
      const back = Uint8Array.from(a);
      espruino.aes256CbcDecrypt(key, iv, back, 9, blocks, back, 9); // in place
      assert.deepEqual(Buffer.from(back.subarray(9, 9 + blocks)), data.subarray(5));
      espruino.sha256(data, 3, round, a, 1);
      nodePrimitives.sha256(data, 3, round, b, 1);
      assert.deepEqual(a, b);
    }
  });

  it("turns Espruino's printed-error-and-undefined into a thrown Error", () => {
    const fake = fakeEspruinoCrypto();
    const espruino = createEspruinoPrimitives(fake);
    assert.throws(
      () => espruino.aes256CbcEncrypt(new Uint8Array(32), new Uint8Array(16), new Uint8Array(20), 0, 20, new Uint8Array(20), 0),
      /AES CBC encrypt failed/,
    );
    assert.deepEqual(fake.printed, ["ERROR: Invalid input length"]);
    assert.throws(() => espruino.aes256EcbEncryptBlock(new Uint8Array(31), new Uint8Array(16), 0, new Uint8Array(16), 0), /AES ECB failed/);
  });

  it("node primitives refuse a CBC input that is not whole blocks", () => {
    assert.throws(
      () => nodePrimitives.aes256CbcEncrypt(new Uint8Array(32), new Uint8Array(16), new Uint8Array(20), 0, 20, new Uint8Array(20), 0),
      /whole 16-byte blocks/,
    );
  });
});
