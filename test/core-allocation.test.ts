// The hot path — cipher, codec, framer, and a Connection's send/receive — must allocate
// nothing once set up (Espruino pays for every temporary). The constructors are wrapped
// on globalThis, where the core's `new Uint8Array(...)` looks them up at call time, and
// the typed-array methods that make new arrays are counted too.
import assert from "node:assert/strict";
import { Connection, type ConnectionSink, ROLE_CLIENT, ROLE_SERVER } from "../firmware/core/connection.js";
import { Framer } from "../firmware/core/framer.js";
import { parseKey } from "../firmware/core/keys.js";
import { encodeMessage, openMessage } from "../firmware/core/packets.js";
import { createKeySchedule, decryptBlocks, encryptBlocks } from "../firmware/core/xtea.js";
import { vectors } from "./helpers/vectors.js";

const CONSTRUCTORS = ["Array", "ArrayBuffer", "DataView", "Uint8Array", "Uint16Array", "Uint32Array", "Int32Array", "Float64Array", "Object"] as const;
const TYPED_METHODS = ["slice", "subarray", "map", "filter"] as const;

/** Runs `body` with every array-making constructor and method counted; returns the counts. */
function countAllocations(body: () => void): Record<string, number> {
  const g = globalThis as unknown as Record<string, unknown>;
  const counts: Record<string, number> = {};
  const originals = new Map<string, unknown>();
  for (const name of CONSTRUCTORS) {
    const original = g[name] as new (...args: unknown[]) => unknown;
    originals.set(name, original);
    g[name] = new Proxy(original, {
      construct(target, args, newTarget) {
        counts[name] = (counts[name] ?? 0) + 1;
        return Reflect.construct(target, args, newTarget === g[name] ? target : newTarget);
      },
      apply(target, self, args) {
        counts[name] = (counts[name] ?? 0) + 1;
        return Reflect.apply(target, self, args);
      },
    });
  }
  const typedProto = Object.getPrototypeOf(Uint8Array.prototype) as Record<string, (...a: unknown[]) => unknown>;
  const methods = new Map<string, (...a: unknown[]) => unknown>();
  for (const name of TYPED_METHODS) {
    const original = typedProto[name];
    methods.set(name, original);
    typedProto[name] = function (this: unknown, ...args: unknown[]) {
      counts["TypedArray." + name] = (counts["TypedArray." + name] ?? 0) + 1;
      return original.apply(this, args);
    };
  }
  try {
    body();
  } finally {
    for (const [name, original] of originals) g[name] = original;
    for (const [name, original] of methods) typedProto[name] = original;
  }
  return counts;
}

describe("allocation-free hot path", () => {
  it("the counter itself sees allocations (so a zero below means something)", () => {
    const counts = countAllocations(() => {
      new Uint8Array(4);
      Uint8Array.of(1).subarray(0);
    });
    assert.equal(counts.Uint8Array, 2, "new Uint8Array and Uint8Array.of");
    assert.equal(counts["TypedArray.subarray"], 1);
  });

  it("10,000 encrypt + decrypt + encode + decode + frame calls construct nothing", () => {
    const key = createKeySchedule(parseKey(vectors.messages[0].sessionKey));
    const message = new Uint8Array(100).fill(42);
    const packet = new Uint8Array(200);
    const framer = new Framer(264);
    let seed = 1;
    const random = (buf: Uint8Array, at: number, length: number) => {
      for (let i = 0; i < length; i++) buf[at + i] = seed = (seed * 1103515245 + 12345) & 0xff;
    };
    let checksum = 0;
    const counts = countAllocations(() => {
      for (let i = 0; i < 10000; i++) {
        encryptBlocks(key, packet, 0, 64);
        decryptBlocks(key, packet, 0, 64);
        const size = encodeMessage(packet, 0, message, 0, 1 + (i % 100), key, random);
        framer.feed(packet.subarray(0, 0)); // an empty chunk is allowed and harmless
        checksum += framer.next();
        checksum += openMessage(packet, 0, size, key);
      }
    });
    // subarray(0, 0) above is the test's own call, 10,000 times; nothing else may appear.
    assert.deepEqual(counts, { "TypedArray.subarray": 10000 });
    assert.ok(checksum > 0);
  });

  it("10,000 messages through a pair of open Connections construct nothing", () => {
    const handshakeKey = createKeySchedule(parseKey(vectors.handshakeKey));
    let now = 0;
    const toServer: Uint8Array[] = [];
    const toClient: Uint8Array[] = [];
    const wire = new Uint8Array(300);
    let received = 0;
    const sink = (outbox: Uint8Array[]): ConnectionSink => ({
      write: (bytes, length) => {
        // A real driver copies here; this one reuses one buffer so the test measures only the core.
        for (let i = 0; i < length; i++) wire[i] = bytes[i];
        outbox.push(wire.subarray(0, length));
      },
      close: () => {},
      handshakeSucceeded: () => {},
      handshakeFailed: (reason) => assert.fail(reason),
      message: (_bytes, _at, length) => void (received += length),
      ended: () => {},
    });
    const options = { handshakeKey, random: (b: Uint8Array, a: number, l: number) => void b.fill(7, a, a + l), clock: () => now };
    const server = new Connection(ROLE_SERVER, options, sink(toClient));
    const client = new Connection(ROLE_CLIENT, options, sink(toServer));
    server.start();
    while (toClient.length || toServer.length) {
      if (toClient.length) client.receive(toClient.shift() as Uint8Array);
      if (toServer.length) server.receive(toServer.shift() as Uint8Array);
    }
    assert.ok(server.isOpen && client.isOpen);
    const payload = new Uint8Array(200).fill(1);
    const counts = countAllocations(() => {
      for (let i = 0; i < 10000; i++) {
        now++;
        client.sendBytes(payload, 0, 1 + (i % 200));
        server.receive(toServer.pop() as Uint8Array);
        client.tick();
      }
    });
    // The only subarray calls are the test sink's own, one per packet written.
    assert.deepEqual(Object.keys(counts), ["TypedArray.subarray"]);
    assert.equal(
      received,
      Array.from({ length: 10000 }, (_, i) => 1 + (i % 200)).reduce((a, b) => a + b, 0),
    );
  });
});
