import assert from "node:assert/strict";
import fc from "fast-check";
import { DEMO_KEY_WORDS, keyToHex, parseKey, validateKeepAlive } from "../firmware/core/keys.js";
import { decodeUtf8, encodeUtf8, utf8Length } from "../firmware/core/utf8.js";
import { hex, vectors } from "./helpers/vectors.js";

describe("keys", () => {
  it("the C++ demo key's words are the vectors' handshake key in wire order", () => {
    assert.equal(keyToHex(parseKey(DEMO_KEY_WORDS)), vectors.handshakeKey);
    assert.deepEqual([...parseKey(vectors.handshakeKey)], DEMO_KEY_WORDS);
    assert.deepEqual([...parseKey(hex(vectors.handshakeKey))], DEMO_KEY_WORDS);
    assert.deepEqual([...parseKey(vectors.handshakeKey.toUpperCase())], DEMO_KEY_WORDS);
  });

  it("rejects malformed keys with an error naming the problem", () => {
    assert.throws(() => parseKey("abcd"), /exactly 64 hex digits.*got 4/);
    assert.throws(() => parseKey("0z" + "00".repeat(31)), /only 0-9 and a-f; found 'z' at byte 0/);
    assert.throws(() => parseKey("00".repeat(31) + "g0"), /found 'g' at byte 31/);
    assert.throws(() => parseKey(new Uint8Array(31)), /32 bytes, got 31 bytes/);
    assert.throws(() => parseKey([1, 2, 3]), /8 u32 words.*got 3 words/);
    assert.throws(() => parseKey([1, 2, 3, 4, 5, 6, 7, 2 ** 32]), /word 7 is not an unsigned 32-bit integer/);
    assert.throws(() => parseKey([1, 2, 3, 4, 5, 6, -1, 0]), /word 6/);
    assert.throws(() => parseKey(undefined as unknown as string), /8 u32 words, 64 hex digits or 32 bytes, got undefined/);
    assert.throws(() => parseKey(42 as unknown as string), /got number/);
  });

  it("keep-alive rules of PROTOCOL.md", () => {
    validateKeepAlive(5000, 30000);
    validateKeepAlive(1, 2);
    validateKeepAlive(100000, -1);
    assert.throws(() => validateKeepAlive(0, 100), /interval/);
    assert.throws(() => validateKeepAlive(100, 100), /shorter/);
    assert.throws(() => validateKeepAlive(100, 0), /timeout/);
  });
});

describe("UTF-8", () => {
  it("agrees with Node's encoder and decoder for any string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        const expected = Buffer.from(text, "utf8");
        const out = new Uint8Array(text.length * 3 + 4);
        assert.equal(utf8Length(text), expected.length);
        assert.equal(encodeUtf8(text, out, 0), expected.length);
        assert.deepEqual(Buffer.from(out.subarray(0, expected.length)), expected);
        assert.equal(decodeUtf8(out, 0, expected.length), expected.toString("utf8"));
      }),
      { numRuns: 500 },
    );
  });

  it("decodes malformed bytes to U+FFFD as Node does", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        assert.equal(decodeUtf8(bytes, 0, bytes.length), Buffer.from(bytes).toString("utf8"));
      }),
      { numRuns: 1000 },
    );
  });
});
