import assert from "node:assert/strict";
import fc from "fast-check";
import { MAX_PACKET_SIZE } from "../firmware/core/constants.js";
import { Framer } from "../firmware/core/framer.js";

function frameAll(framer: Framer, chunks: (Uint8Array | string)[]): { packets: number[][]; result: number } {
  const packets: number[][] = [];
  let result = 0;
  for (const chunk of chunks) {
    framer.feed(chunk);
    for (;;) {
      result = framer.next();
      if (result <= 0) break;
      packets.push([...framer.packet.subarray(0, result)]);
    }
    if (result < 0) break;
  }
  return { packets, result };
}

/** A valid packet of each kind with arbitrary body bytes (the framer does not decrypt). */
const anyPacket = fc.oneof(
  fc.constantFrom([5], [6]),
  fc.uint8Array({ minLength: 24, maxLength: 24 }).map((b) => [2, ...b]),
  fc.uint8Array({ minLength: 24, maxLength: 24 }).map((b) => [3, ...b]),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => [4, ...b]),
  fc
    .integer({ min: 1, max: 600 })
    .chain((len) => fc.uint8Array({ minLength: (len + 7) & ~7, maxLength: (len + 7) & ~7 }).map((b) => [1, len >> 8, len & 255, ...b])),
);

function split(stream: number[], cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, stream.length]) {
    chunks.push(Uint8Array.from(stream.slice(at, p)));
    at = p;
  }
  return chunks;
}

describe("stream framer", () => {
  it("returns the same packets however TCP splits or merges the stream", () => {
    fc.assert(
      fc.property(fc.array(anyPacket, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 }), (packets, cuts) => {
        const stream = packets.flat();
        assert.deepEqual(frameAll(new Framer(64), split(stream, cuts)).packets, packets);
        assert.deepEqual(
          frameAll(
            new Framer(64),
            stream.map((b) => Uint8Array.of(b)),
          ).packets,
          packets,
          "one byte at a time",
        );
      }),
      { numRuns: 300 },
    );
  });

  it("accepts Espruino's binary-string chunks the same way", () => {
    const stream = [1, 0, 9, ...new Array(16).fill(0xff), 5, 6];
    const text = String.fromCharCode(...stream);
    const { packets } = frameAll(new Framer(), [text.slice(0, 2), text.slice(2, 11), text.slice(11)]);
    assert.deepEqual(packets, [stream.slice(0, 19), [5], [6]]);
  });

  it("grows to the announced LENGTH for a 65528-byte message, then returns to its small buffer", () => {
    const framer = new Framer(64);
    const small = framer.packet;
    const big = new Uint8Array(MAX_PACKET_SIZE);
    big.set([1, 0xff, 0xf8]);
    const { packets } = frameAll(framer, [big.subarray(0, 1000), big.subarray(1000), Uint8Array.of(5)]);
    assert.equal(packets.length, 2);
    assert.equal(packets[0].length, MAX_PACKET_SIZE);
    assert.equal(framer.packet, small, "the large buffer is dropped once a small packet follows");
  });

  it("fails with a stable reason on an unknown TYPE, LENGTH 0 and LENGTH over 65528, and stays failed", () => {
    for (const [bytes, reason] of [
      [[0x00], "unknown-type"],
      [[0x07], "unknown-type"],
      [[5, 0xff], "unknown-type"],
      [[1, 0, 0], "zero-length"],
      [[1, 0xff, 0xf9], "bad-length"],
      [[1, 0xff, 0xff], "bad-length"],
    ] as [number[], string][]) {
      const framer = new Framer();
      const { result } = frameAll(framer, [Uint8Array.from(bytes)]);
      assert.equal(result, -1);
      assert.equal(framer.error, reason);
      framer.feed(Uint8Array.of(5));
      assert.equal(framer.next(), -1, "a broken stream is never resynchronised");
    }
  });

  it("refuses a new chunk while the previous one still holds packets", () => {
    const framer = new Framer();
    framer.feed(Uint8Array.of(5, 5));
    assert.equal(framer.next(), 1);
    assert.throws(() => framer.feed(Uint8Array.of(5)), /before the previous chunk was used up/);
  });
});
