// A man in the middle, in memory: every record of an open v2 session is intercepted and
// altered — a bit flipped at every position, truncated at every length, replayed, reordered,
// reflected back to its sender, dropped, or replaced by a forged keep-alive/disconnect — and
// the handshake packets likewise. Each case must be rejected with a stable reason, and nothing
// the attacker touched may be delivered: the receiver hands over exactly the messages before
// the altered record, then closes. The last block shows, with the same attacks, what v1 misses.

import assert from "node:assert/strict";
import { ROLE_CLIENT, ROLE_SERVER } from "../firmware/core/connection.js";
import { parseKey } from "../firmware/core/keys.js";
import { TYPE_V2_DISCONNECT, TYPE_V2_KEEP_ALIVE } from "../firmware/core/v2/constants.js";
import { internals } from "./helpers/internals.js";
import { pair as pairV1 } from "./helpers/pair.js";
import { testBytes } from "./helpers/seed.js";
import { pairV2 } from "./helpers/v2.js";

/** Reasons a tampered record may close the session with; never "disconnect", never a timeout. */
const RECORD_REJECTIONS = ["mac-failed", "bad-length", "zero-length", "unknown-type", "unexpected-handshake-packet"];
const FILLER = "F".repeat(1000);
const TEXTS = ["first", "second: two AES blocks long...", "third"];

type Pair = ReturnType<typeof pairV2>;

function openPair(): Pair {
  const p = pairV2();
  p.server.start();
  p.flush();
  assert.ok(p.server.isOpen && p.client.isOpen);
  return p;
}

/** The client's records for TEXTS, a keep-alive after the second message, and their order. */
function clientRecords(p: Pair): { records: Uint8Array[]; texts: Array<string | null> } {
  const records: Uint8Array[] = [];
  const texts: Array<string | null> = [];
  const take = (text: string | null) => {
    records.push(...p.clientSink.wire.splice(0));
    texts.push(text);
  };
  p.client.sendByteString(TEXTS[0]);
  take(TEXTS[0]);
  p.client.sendByteString(TEXTS[1]);
  take(TEXTS[1]);
  internals(p.client).control(false);
  take(null);
  p.client.sendByteString(TEXTS[2]);
  take(TEXTS[2]);
  return { records, texts };
}

/**
 * Feeds the altered stream to the server, then keeps the genuine client talking (up to 80 KB,
 * more than the largest record a flipped LENGTH can announce) until the server closes.
 */
function deliver(p: Pair, stream: Uint8Array[]): void {
  for (const chunk of stream)
    if (!p.server.isOpen) break;
    else p.server.receive(chunk);
  for (let i = 0; i < 80 && p.server.isOpen; i++) {
    p.client.sendByteString(FILLER);
    for (const chunk of p.clientSink.wire.splice(0)) p.server.receive(chunk);
  }
}

/** The server delivered exactly the messages before the altered record and closed with a rejection. */
function assertRejected(p: Pair, delivered: string[], label: string, reasons = RECORD_REJECTIONS): void {
  assert.equal(p.server.isOpen, false, `${label}: still open`);
  assert.ok(reasons.includes(p.server.reason), `${label}: closed with "${p.server.reason}"`);
  assert.deepEqual(p.serverSink.messages, delivered, `${label}: delivered ${JSON.stringify(p.serverSink.messages)}`);
}

function messagesBefore(texts: Array<string | null>, index: number): string[] {
  return texts.slice(0, index).filter((t): t is string => t !== null);
}

describe("v2 man in the middle: every altered record is rejected, nothing altered is delivered", () => {
  it("a flipped bit at every bit of every byte of every record (data, keep-alive)", () => {
    let cases = 0;
    const reasons = new Map<string, number>();
    const base = clientRecords(openPair());
    for (let r = 0; r < base.records.length; r++) {
      for (let byte = 0; byte < base.records[r].length; byte++) {
        for (let bit = 0; bit < 8; bit++) {
          const p = openPair();
          const { records, texts } = clientRecords(p);
          const altered = records.map((x) => Uint8Array.from(x));
          altered[r][byte] ^= 1 << bit;
          deliver(p, altered);
          assertRejected(p, messagesBefore(texts, r), `record ${r} byte ${byte} bit ${bit}`);
          reasons.set(p.server.reason, (reasons.get(p.server.reason) || 0) + 1);
          cases++;
        }
      }
    }
    assert.equal(cases, 8 * base.records.reduce((n, x) => n + x.length, 0));
    assert.ok((reasons.get("mac-failed") || 0) > cases * 0.8, JSON.stringify([...reasons]));
  });

  it("a flipped bit anywhere in a Disconnect record: never ends as 'disconnect'", () => {
    for (let byte = 0; byte < 19; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const p = openPair();
        internals(p.client).control(true);
        const record = Uint8Array.from(p.clientSink.wire.splice(0)[0]);
        record[byte] ^= 1 << bit;
        deliver(p, [record]);
        assertRejected(p, [], `disconnect byte ${byte} bit ${bit}`);
      }
    }
  });

  it("a record truncated at every length, the stream going on after it", () => {
    const base = clientRecords(openPair());
    for (let r = 0; r < base.records.length; r++) {
      for (let keep = 0; keep < base.records[r].length; keep++) {
        const p = openPair();
        const { records, texts } = clientRecords(p);
        // One more record up front, so that every byte that follows a cut is known here.
        p.client.sendByteString(FILLER);
        const altered = [...records, ...p.clientSink.wire.splice(0)];
        altered[r] = records[r].subarray(0, keep);
        // The bytes cut off may happen to equal the ones that follow them (for one byte, one
        // time in 256): the record then arrives whole and untouched, and the cut falls on the
        // next one.
        const after = Buffer.concat(altered.slice(r + 1));
        const healed = records[r].subarray(keep).every((b, i) => after[i] === b);
        deliver(p, altered);
        assertRejected(p, messagesBefore(texts, healed ? r + 1 : r), `record ${r} cut to ${keep} bytes${healed ? " (healed by the bytes after it)" : ""}`);
      }
    }
  });

  it("replayed, reordered and dropped records fail their tag (implicit sequence numbers)", () => {
    const cases: Array<[string, (rs: Uint8Array[]) => Uint8Array[], number]> = [
      ["record 0 replayed at once", (rs) => [rs[0], rs[0], ...rs.slice(1)], 1],
      ["record 0 replayed at the end", (rs) => [...rs, rs[0]], 4],
      ["keep-alive replayed", (rs) => [...rs.slice(0, 3), rs[2], rs[3]], 3],
      ["records 1 and 3 swapped", (rs) => [rs[0], rs[3], rs[2], rs[1]], 1],
      ["records 0 and 1 swapped", (rs) => [rs[1], rs[0], ...rs.slice(2)], 0],
      ["record 1 dropped", (rs) => [rs[0], ...rs.slice(2)], 1],
      ["keep-alive dropped", (rs) => [rs[0], rs[1], rs[3]], 2],
      ["record 0 dropped", (rs) => rs.slice(1), 0],
    ];
    for (const [label, attack, firstBad] of cases) {
      const p = openPair();
      const { records, texts } = clientRecords(p);
      deliver(p, attack(records));
      assertRejected(p, messagesBefore(texts, firstBad), label, ["mac-failed"]);
    }
  });

  it("a record from an earlier session (same PSK) replayed into a new one fails", () => {
    const old = clientRecords(openPair()).records;
    const p = openPair();
    deliver(p, [old[0]]);
    assertRejected(p, [], "cross-session replay", ["mac-failed"]);
  });

  it("a record reflected back to its sender fails (per-direction keys), both ways", () => {
    const p = openPair();
    p.client.sendByteString("to the server");
    const record = p.clientSink.wire.splice(0)[0];
    p.client.receive(record);
    assert.equal(p.client.reason, "mac-failed");
    assert.deepEqual(p.clientSink.messages, []);
    const q = openPair();
    q.server.sendByteString("to the client");
    q.server.receive(q.serverSink.wire.splice(0)[0]);
    assert.equal(q.server.reason, "mac-failed");
    assert.deepEqual(q.serverSink.messages, []);
  });

  it("forged keep-alive and disconnect records (no key) are rejected, including v1's one-byte signals", () => {
    const forgeries: Array<[string, Uint8Array, string]> = [
      ["forged keep-alive", Uint8Array.from([TYPE_V2_KEEP_ALIVE, 0, 0, ...testBytes(16)]), "mac-failed"],
      ["forged disconnect", Uint8Array.from([TYPE_V2_DISCONNECT, 0, 0, ...testBytes(16)]), "mac-failed"],
      ["all-zero tag disconnect", Uint8Array.from([TYPE_V2_DISCONNECT, 0, 0, ...new Array(16).fill(0)]), "mac-failed"],
      ["v1 KeepAlive byte", Uint8Array.from([0x05]), "unknown-type"],
      ["v1 Disconnect byte", Uint8Array.from([0x06]), "unknown-type"],
    ];
    for (const [label, forged, reason] of forgeries) {
      const p = openPair();
      const { records, texts } = clientRecords(p);
      deliver(p, [records[0], forged, ...records.slice(1)]);
      assertRejected(p, messagesBefore(texts, 1), label, [reason]);
      assert.ok(!p.serverSink.events.includes("ended:disconnect"), label);
    }
    // Toward the client too: a forged Disconnect from "the server".
    const p = openPair();
    p.client.receive(Uint8Array.from([TYPE_V2_DISCONNECT, 0, 0, ...testBytes(16)]));
    assert.deepEqual(p.clientSink.events, ["handshake-success", "ended:mac-failed"]);
  });

  it("a handshake packet with any bit flipped: the client never completes, the side that can tell fails with a reason", () => {
    // A flipped bit in a TYPE byte (ServerHello 0x12, ClientHello 0x13, ServerFinished 0x14) makes
    // another byte, and its receiver names it (an altered body is proof-failed, checked apart):
    const REJECT = [
      "wrong-type", // another v2 handshake TYPE at the wrong step (0x12 for a ClientHello)
      "unknown-type", // a byte of neither profile (0x10, 0x1a, 0x92 …), or a v1 TYPE after the first packet (0x04)
      "profile-mismatch", // a v1 TYPE as the stream's first packet (0x02, 0x03)
      "bad-length", // a record TYPE (0x15, 0x16) whose LENGTH, read from the random nonce or proof, is out of range
      "zero-length", // a data TYPE 0x11 whose LENGTH bytes happen to be 0 (1 in 65536)
      "bad-size", // 0x17 for a ClientHello (one with a device id) whose id length, read from Nc, is 0 or above 32
    ];
    // And handshake-timeout: a TYPE announcing a longer packet (0x13 for a ServerHello) waits for bytes that never come.
    let cases = 0;
    for (const packet of [0, 1, 2]) {
      // ServerHello, ClientHello, ServerFinished
      const size = [17, 33, 17][packet];
      for (let byte = 0; byte < size; byte++) {
        for (let bit = 0; bit < 8; bit++) {
          const p = pairV2();
          p.server.start();
          const tamper = (chunk: Uint8Array, n: number) => {
            if (n !== packet) return chunk;
            const c = Uint8Array.from(chunk);
            c[byte] ^= 1 << bit;
            return c;
          };
          const hello = p.serverSink.wire.splice(0)[0];
          p.client.receive(tamper(hello, 0));
          const clientHello = p.clientSink.wire.splice(0)[0];
          if (clientHello) p.server.receive(tamper(clientHello, 1));
          const finished = p.serverSink.wire.splice(0)[0];
          if (finished) p.client.receive(tamper(finished, 2));
          // A framer still waiting for bytes (a flipped TYPE announcing a longer packet) ends by timeout.
          p.clock.now += 500;
          p.server.tick();
          p.client.tick();
          const label = `packet ${packet} byte ${byte} bit ${bit}`;
          assert.ok(!p.clientSink.events.includes("handshake-success"), `${label}: the client completed`);
          // The server legitimately completes before its own ServerFinished is altered on the way.
          if (packet < 2) assert.ok(!p.serverSink.events.includes("handshake-success"), `${label}: the server completed`);
          // Who notices: the receiver of a bad TYPE; the server for an altered Ns, Nc or client
          // proof (its proof check covers Ns and Nc); the client for an altered server proof.
          const detector = byte === 0 ? (packet === 1 ? p.serverSink : p.clientSink) : packet === 2 ? p.clientSink : p.serverSink;
          const reason = detector.events[0].replace("handshake-failed:", "");
          if (byte > 0) assert.equal(reason, "proof-failed", label);
          else assert.ok(REJECT.includes(reason) || reason === "handshake-timeout", `${label}: ${reason}`);
          assert.deepEqual([...p.serverSink.messages, ...p.clientSink.messages], []);
          cases++;
        }
      }
    }
    assert.equal(cases, 8 * (17 + 33 + 17));
  });

  it("a ClientHello recorded from an earlier handshake is refused by a new server (fresh Ns)", () => {
    const old = pairV2();
    old.server.start();
    old.client.receive(old.serverSink.wire.splice(0)[0]);
    const recorded = old.clientSink.wire.splice(0)[0];
    const p = pairV2();
    p.server.start();
    p.server.receive(recorded);
    assert.deepEqual(p.serverSink.events, ["handshake-failed:proof-failed"]);
  });
});

describe("the same attacks against v1: what it cannot catch (documented in SECURITY.md)", () => {
  const open = () => {
    const p = pairV1();
    p.server.start();
    p.flush();
    assert.ok(p.server.isOpen && p.client.isOpen);
    return p;
  };

  it("a flipped ciphertext bit is delivered as an altered message", () => {
    const p = open();
    p.client.sendByteString("pay 10 euros");
    const record = Uint8Array.from(p.clientSink.wire.splice(0)[0]);
    record[3] ^= 1;
    p.server.receive(record);
    assert.equal(p.serverSink.messages.length, 1);
    assert.notEqual(p.serverSink.messages[0], "pay 10 euros");
    assert.ok(p.server.isOpen, "v1 cannot notice");
  });

  it("a replayed message is delivered twice, and an injected one-byte Disconnect ends the session", () => {
    const p = open();
    p.client.sendByteString("open the door");
    const record = p.clientSink.wire.splice(0)[0];
    p.server.receive(record);
    p.server.receive(record);
    assert.deepEqual(p.serverSink.messages, ["open the door", "open the door"]);
    p.server.receive(Uint8Array.from([0x06]));
    assert.deepEqual(p.serverSink.events, ["handshake-success", "ended:disconnect"]);
  });

  it("(the v2 side of the comparison uses the same key text)", () => {
    // Both profiles accept the same 64-hex-digit key; only the profile differs.
    const p = pairV2({ preSharedKey: parseKey("00".repeat(32)) });
    assert.equal(p.server.role, ROLE_SERVER);
    assert.equal(p.client.role, ROLE_CLIENT);
  });
});
