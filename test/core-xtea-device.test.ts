// The two forms of the XTEA block routines — xtea-blocks.ts (V8: two blocks side by side,
// int32 values) and xtea-blocks-device.ts (Espruino: += accumulation, s[i++], what the firmware
// bundle is built from) — held to the same C++ vectors and the same plain reference, and to
// each other on every block count and offset (the V8 form has a paired path and a lone block).
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseKey } from "../firmware/core/keys.js";
import { createKeySchedule } from "../firmware/core/xtea.js";
import * as v8Form from "../firmware/core/xtea-blocks.js";
import * as deviceForm from "../firmware/core/xtea-blocks-device.js";
import { referenceEncrypt } from "./helpers/reference-xtea.js";
import { hex, toHex, vectors } from "./helpers/vectors.js";

const forms = { "V8 form (xtea-blocks.ts)": v8Form, "device form (xtea-blocks-device.ts)": deviceForm };

describe("XTEA block routines, both forms", () => {
  for (const [name, form] of Object.entries(forms)) {
    describe(name, () => {
      it("reproduces every C++ vector, and decrypts it back", () => {
        for (const v of vectors.xtea256) {
          const schedule = createKeySchedule(parseKey(v.key), v.rounds);
          const buf = hex(v.plaintext);
          form.encryptBlocks(schedule, buf, 0, buf.length);
          assert.equal(toHex(buf), v.ciphertext, `${v.rounds} rounds`);
          form.decryptBlocks(schedule, buf, 0, buf.length);
          assert.equal(toHex(buf), v.plaintext);
        }
      });

      it("matches the plain reference for random keys, rounds (1..128), lengths and offsets", () => {
        fc.assert(
          fc.property(
            fc.array(fc.nat({ max: 0xffffffff }), { minLength: 8, maxLength: 8 }),
            fc.integer({ min: 1, max: 128 }),
            fc.integer({ min: 1, max: 7 }).chain((blocks) => fc.uint8Array({ minLength: blocks * 8, maxLength: blocks * 8 })),
            fc.integer({ min: 0, max: 9 }),
            (key, rounds, data, offset) => {
              const schedule = createKeySchedule(parseKey(key), rounds);
              const buf = new Uint8Array(offset + data.length + 3).fill(0xee);
              buf.set(data, offset);
              form.encryptBlocks(schedule, buf, offset, data.length);
              assert.equal(toHex(buf.subarray(offset, offset + data.length)), toHex(referenceEncrypt(key, rounds, data)));
              assert.ok(
                buf.subarray(0, offset).every((b) => b === 0xee) && buf.subarray(offset + data.length).every((b) => b === 0xee),
                "bytes outside the range untouched",
              );
              form.decryptBlocks(schedule, buf, offset, data.length);
              assert.equal(toHex(buf.subarray(offset, offset + data.length)), toHex(data));
            },
          ),
          { numRuns: 200 },
        );
      });

      it("rejects partial blocks and ranges outside the buffer", () => {
        const schedule = createKeySchedule(parseKey(vectors.handshakeKey));
        assert.throws(() => form.encryptBlocks(schedule, new Uint8Array(12), 0, 12), /whole 8-byte blocks/);
        assert.throws(() => form.decryptBlocks(schedule, new Uint8Array(16), 8, 16), /whole 8-byte blocks/);
      });
    });
  }

  it("both forms give the same bytes for 0..9 blocks", () => {
    const schedule = createKeySchedule(parseKey(vectors.handshakeKey), 32);
    for (let blocks = 0; blocks <= 9; blocks++) {
      const a = Uint8Array.from({ length: blocks * 8 }, (_, i) => (i * 37 + 11) & 255);
      const b = a.slice();
      v8Form.encryptBlocks(schedule, a, 0, a.length);
      deviceForm.encryptBlocks(schedule, b, 0, b.length);
      assert.equal(toHex(a), toHex(b), `${blocks} blocks`);
    }
  });
});
