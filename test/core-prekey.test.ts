// Before the session key exists, a peer can make a connection hold nothing larger than the
// largest handshake packet it may receive (33 bytes; 66 for a v2 server, whose ClientHello may
// carry a 32-byte device id), and a TYPE the handshake does not expect fails at its first byte.
// Both profiles, both roles, every handshake step, every TYPE byte, 1-byte chunks.

import assert from "node:assert/strict";
import { type ConnectionSink, STATE_CLOSED } from "../firmware/core/connection.js";
import { HANDSHAKE_SUCCESS_PACKET_SIZE } from "../firmware/core/constants.js";
import { Framer } from "../firmware/core/framer.js";
import { CLIENT_HELLO_SIZE, MAX_CLIENT_HELLO_SIZE, RECORD_AT, TYPE_V2_CLIENT_HELLO_ID } from "../firmware/core/v2/constants.js";
import { FramerV2 } from "../firmware/core/v2/framer.js";
import { internals } from "./helpers/internals.js";
import { pair, type Recorder } from "./helpers/pair.js";
import { pairV2 } from "./helpers/v2.js";

/** The largest handshake packet of either profile without a device id: all a peer without the key may make us hold. */
const PREKEY_LIMIT = 33;
/** A v2 server's limit: the ClientHello with the longest device id. */
const V2_SERVER_LIMIT = MAX_CLIENT_HELLO_SIZE;

interface Engine {
  state: number;
  reason: string;
  isOpen: boolean;
  receive(chunk: Uint8Array): void;
}

/** The buffers a connection holds for its peer: the framer's and the one replies are built in. */
function heldBytes(connection: Engine): number {
  const inside = internals(connection);
  return Math.max(inside.framer.packet.length, inside.out.length);
}

/** Runs `body` counting every Uint8Array made through the global constructor; returns their lengths. */
function uint8ArraysMade(body: () => void): number[] {
  const g = globalThis as unknown as { Uint8Array: Uint8ArrayConstructor };
  const original = g.Uint8Array;
  const made: number[] = [];
  const counting = new Proxy(original, {
    construct(target, args, newTarget) {
      const array = Reflect.construct(target, args, newTarget === counting ? target : newTarget) as Uint8Array;
      made.push(array.length);
      return array;
    },
  });
  g.Uint8Array = counting;
  try {
    body();
  } finally {
    g.Uint8Array = original;
  }
  return made;
}

interface Step {
  name: string;
  /** TYPE the handshake accepts at this step. */
  expected: number;
  /** A connection at this step, with its sink. */
  make(): { connection: Engine; sink: Recorder };
  /** The reason for any other first byte. */
  reason(type: number): string;
  /** Another TYPE this step takes (the v2 server: a ClientHello with an id). */
  alsoExpected?: number;
  /** Most bytes held for the peer at this step (default PREKEY_LIMIT). */
  limit?: number;
}

const isV1Type = (t: number) => t >= 0x01 && t <= 0x06;
const isV2Type = (t: number) => t >= 0x11 && t <= 0x16;
const v1Reason = (t: number) => (isV1Type(t) ? "wrong-type" : "unknown-type");
const v2FirstReason = (t: number) => (isV1Type(t) ? "profile-mismatch" : isV2Type(t) ? "wrong-type" : "unknown-type");
const v2LaterReason = (t: number) => (isV2Type(t) ? "wrong-type" : "unknown-type");

const STEPS: Step[] = [
  {
    name: "v1 server awaiting the Response",
    expected: 0x03,
    make() {
      const p = pair();
      p.server.start();
      return { connection: p.server, sink: p.serverSink };
    },
    reason: v1Reason,
  },
  {
    name: "v1 client awaiting the Request",
    expected: 0x02,
    make() {
      const p = pair();
      return { connection: p.client, sink: p.clientSink };
    },
    // A v2 ServerHello as the first byte: the peer is a v2 server.
    reason: (t) => (t === 0x12 ? "profile-mismatch" : v1Reason(t)),
  },
  {
    name: "v1 client awaiting the Success",
    expected: 0x04,
    make() {
      const p = pair();
      p.server.start();
      for (const chunk of p.serverSink.wire.splice(0)) p.client.receive(chunk);
      assert.equal(p.clientSink.wire.length, 1, "the client answered the Request");
      return { connection: p.client, sink: p.clientSink };
    },
    reason: v1Reason,
  },
  {
    name: "v2 server awaiting the ClientHello",
    expected: 0x13,
    alsoExpected: TYPE_V2_CLIENT_HELLO_ID,
    limit: V2_SERVER_LIMIT,
    make() {
      const p = pairV2();
      p.server.start();
      return { connection: p.server, sink: p.serverSink };
    },
    reason: v2FirstReason,
  },
  {
    name: "v2 client awaiting the ServerHello",
    expected: 0x12,
    make() {
      const p = pairV2();
      return { connection: p.client, sink: p.clientSink };
    },
    reason: v2FirstReason,
  },
  {
    name: "v2 client awaiting the ServerFinished",
    expected: 0x14,
    make() {
      const p = pairV2();
      p.server.start();
      for (const chunk of p.serverSink.wire.splice(0)) p.client.receive(chunk);
      assert.equal(p.clientSink.wire.length, 1, "the client answered the ServerHello");
      return { connection: p.client, sink: p.clientSink };
    },
    reason: v2LaterReason,
  },
];

/** A message header announcing the largest LENGTH (v1 `01 ff f8`, v2 `11 ff f8`) and that many body bytes. */
function hugeMessage(type: number): Uint8Array {
  const bytes = new Uint8Array(3 + 65528 + 16).fill(0x5a);
  bytes.set([type, 0xff, 0xf8]);
  return bytes;
}

/** Feeds `bytes` one at a time until the connection closes; returns how many it took. */
function feedUntilClosed(connection: Engine, bytes: Uint8Array, watch?: () => void): number {
  for (let i = 0; i < bytes.length; i++) {
    connection.receive(bytes.subarray(i, i + 1));
    watch?.();
    if (connection.state === STATE_CLOSED) return i + 1;
  }
  return bytes.length;
}

describe("core: nothing is held for a peer before the key is proven", () => {
  it("the largest handshake packet is 33 bytes in both profiles, 66 for a v2 ClientHello with a 32-byte id", () => {
    assert.equal(Math.max(HANDSHAKE_SUCCESS_PACKET_SIZE, CLIENT_HELLO_SIZE), PREKEY_LIMIT);
    assert.equal(V2_SERVER_LIMIT, 2 + 32 + 16 + 16);
  });

  it("v2 server: a ClientHello with an id is sized from its length byte, 0 or above 32 fail bad-size at that byte, a bad character bad-device-id", () => {
    for (const [n, reason] of [
      [0, "bad-size"],
      [33, "bad-size"],
      [255, "bad-size"],
    ] as const) {
      const p = pairV2();
      p.server.start();
      assert.equal(feedUntilClosed(p.server, Uint8Array.of(TYPE_V2_CLIENT_HELLO_ID, n, 0x41, 0x41)), 2, `n = ${n}`);
      assert.equal(p.server.reason, reason);
    }
    const p = pairV2();
    p.server.start();
    const hello = new Uint8Array(2 + 3 + 32).fill(0x11);
    hello.set([TYPE_V2_CLIENT_HELLO_ID, 3, 0x61, 0x20, 0x62]);
    assert.equal(feedUntilClosed(p.server, hello), hello.length, "a whole packet is read, then its id judged");
    assert.equal(p.server.reason, "bad-device-id");
  });

  for (const step of STEPS) {
    it(`${step.name}: every other TYPE byte fails the connection at that first byte, with its reason`, () => {
      for (let t = 0; t < 256; t++) {
        if (t === step.expected || t === step.alsoExpected) continue;
        const { connection, sink } = step.make();
        const used = feedUntilClosed(connection, Uint8Array.of(t, 0xff, 0xf8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17));
        assert.equal(used, 1, `TYPE 0x${t.toString(16)} took ${used} bytes to judge`);
        assert.equal(connection.reason, step.reason(t), `TYPE 0x${t.toString(16)}`);
        assert.deepEqual(sink.events, ["handshake-failed:" + step.reason(t)]);
        assert.equal(sink.closed, 1);
      }
    });

    const limit = step.limit ?? PREKEY_LIMIT;
    it(`${step.name}: a 64 KB message header and its body allocate nothing over ${limit} bytes`, () => {
      for (const type of [0x01, 0x11]) {
        const { connection } = step.make();
        const attack = hugeMessage(type);
        let held = heldBytes(connection);
        const made = uint8ArraysMade(() => feedUntilClosed(connection, attack, () => (held = Math.max(held, heldBytes(connection)))));
        assert.equal(connection.state, STATE_CLOSED, "the header ends the connection");
        assert.deepEqual(
          made.filter((n) => n > limit),
          [],
          "arrays made for TYPE 0x" + type.toString(16),
        );
        assert.ok(held <= limit, `held ${held} bytes for the peer before the key`);
      }
    });
  }

  for (const [name, make] of [
    ["v1", () => pair()],
    ["v2", () => pairV2()],
  ] as const) {
    it(`${name}: an honest handshake in 1-byte chunks holds at most ${name === "v1" ? PREKEY_LIMIT : V2_SERVER_LIMIT} bytes per side until open; messages then grow the buffers`, () => {
      const p = make();
      const server = p.server as Engine;
      const client = p.client as Engine;
      let most = Math.max(heldBytes(server), heldBytes(client));
      p.server.start();
      const sinks: [Recorder, Engine][] = [
        [p.serverSink, client],
        [p.clientSink, server],
      ];
      while (p.serverSink.wire.length || p.clientSink.wire.length) {
        for (const [sink, to] of sinks) {
          for (const chunk of sink.wire.splice(0)) {
            for (let i = 0; i < chunk.length; i++) {
              to.receive(chunk.subarray(i, i + 1));
              if (!server.isOpen) most = Math.max(most, heldBytes(server));
              if (!client.isOpen) most = Math.max(most, heldBytes(client));
            }
          }
        }
      }
      assert.ok(server.isOpen && client.isOpen, "both open");
      assert.ok(most <= (name === "v1" ? PREKEY_LIMIT : V2_SERVER_LIMIT), `held ${most} bytes before open`);
      const sink = p.serverSink as ConnectionSink & Recorder;
      p.client.sendBytes(new Uint8Array(5000).fill(0x61), 0, 5000);
      for (const chunk of p.clientSink.wire.splice(0)) p.server.receive(chunk);
      assert.deepEqual(
        sink.messages.map((m) => m.length),
        [5000],
      );
    });
  }
});

describe("core: the framers' handshake mode", () => {
  const feedAll = (framer: Framer | FramerV2, bytes: number[]) => {
    const sizes: number[] = [];
    for (const b of bytes) {
      framer.feed(Uint8Array.of(b));
      for (;;) {
        const n = framer.next();
        if (n <= 0) break;
        sizes.push(n);
      }
      if (framer.error) break;
    }
    return sizes;
  };

  it("v1: takes only the expected TYPE in a 33-byte buffer; after open() frames messages of any size", () => {
    const framer = new Framer(264, 0x04);
    assert.equal(framer.packet.length, 33);
    assert.deepEqual(feedAll(framer, [0x04, ...new Array(32).fill(9)]), [33]);
    framer.open();
    assert.deepEqual(feedAll(framer, [0x01, 0x03, 0xe8, ...new Array(1000).fill(7), 0x05]), [1003, 1]);
    const wrong = new Framer(264, 0x03);
    feedAll(wrong, [0x01, 0xff, 0xf8]);
    assert.equal(wrong.error, "wrong-type");
    assert.equal(wrong.packet.length, 33);
  });

  it("v2: takes only the expected TYPE at packet[0] of a 33-byte buffer (66 on a server); after open() frames records at RECORD_AT", () => {
    const framer = new FramerV2(264, 0x12);
    assert.equal(framer.packet.length, 33);
    assert.deepEqual(feedAll(framer, [0x12, ...new Array(16).fill(9)]), [17]);
    assert.equal(framer.packet[0], 0x12);
    framer.expected = 0x14;
    assert.deepEqual(feedAll(framer, [0x14, ...new Array(16).fill(8)]), [17]);
    framer.open();
    assert.deepEqual(feedAll(framer, [0x11, 0x03, 0xe8, ...new Array(1008 + 16).fill(7)]), [1027]);
    assert.equal(framer.packet[RECORD_AT], 0x11);
    const wrong = new FramerV2(264, 0x13);
    feedAll(wrong, [0x11, 0xff, 0xf8]);
    assert.equal(wrong.error, "wrong-type");
    // The server's buffer holds a ClientHello with the longest id.
    assert.equal(wrong.packet.length, MAX_CLIENT_HELLO_SIZE);
  });
});
