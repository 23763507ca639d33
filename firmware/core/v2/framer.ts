// Stream framer for the v2 TYPEs (0x11-0x16). Same pull style, chunk handling and handshake
// mode as the v1 Framer (../framer.ts): feed(chunk), then next() until it returns 0 (more bytes
// needed) or -1 (the stream is broken, `error` says why). Once open, a positive return n means
// a whole record is at packet[RECORD_AT .. RECORD_AT + n): the 72 bytes in front are head room
// the record layer uses to check the tag in place (records.ts), so a received record is never
// copied again. Before open() (handshake mode) only the `expected` TYPE is accepted, judged at
// its first byte (a ClientHello may come with or without a device id), and the packet is at
// packet[0 .. n) of a 66-byte buffer: a peer that has not proven the key makes the framer hold
// nothing larger than the largest ClientHello.
//
// Sizes by TYPE: ServerHello 17, ClientHello 33, ClientHello with an id of n bytes 34 + n (n read
// from its second byte, 1..32, else bad-size), ServerFinished 17; records 3 + ceil16(LENGTH)
// + 16, where data needs 1 <= LENGTH <= 65528 and keep-alive/disconnect need LENGTH 0. LENGTH
// is authenticated only later, by the tag; these checks just bound what the framer will buffer.
// A v1 TYPE as the very first byte of the stream is reported as `profile-mismatch`. Chunk
// intake, the byte copy, growth and failure are ../framer-core.ts's, shared with v1.

import { REASON_BAD_LENGTH, REASON_BAD_SIZE, REASON_WRONG_TYPE, REASON_ZERO_LENGTH } from "../constants.js";
import { DEFAULT_FRAMER_CAPACITY, type FramerCore, installFramerCore, setUpFramer, unknownTypeReason } from "../framer-core.js";
import {
  CLIENT_HELLO_ID_HEADER_SIZE,
  CLIENT_HELLO_SIZE,
  FIRST_V1_TYPE,
  LAST_V1_TYPE,
  MAX_CLIENT_HELLO_SIZE,
  MAX_DEVICE_ID_LENGTH,
  MAX_V2_MESSAGE_LENGTH,
  NONCE_SIZE,
  PROOF_SIZE,
  RECORD_AT,
  RECORD_HEADER_SIZE,
  recordSize,
  SERVER_FINISHED_SIZE,
  SERVER_HELLO_SIZE,
  TYPE_V2_CLIENT_HELLO,
  TYPE_V2_CLIENT_HELLO_ID,
  TYPE_V2_DATA,
  TYPE_V2_DISCONNECT,
  TYPE_V2_KEEP_ALIVE,
  TYPE_V2_SERVER_FINISHED,
  TYPE_V2_SERVER_HELLO,
} from "./constants.js";

/** Size of a v2 handshake packet, RECORD_HEADER_SIZE for a record (sized by its LENGTH), 0 for an unknown TYPE. */
function sizeByType(type: number): number {
  switch (type) {
    case TYPE_V2_SERVER_HELLO:
      return SERVER_HELLO_SIZE;
    case TYPE_V2_CLIENT_HELLO:
      return CLIENT_HELLO_SIZE;
    case TYPE_V2_SERVER_FINISHED:
      return SERVER_FINISHED_SIZE;
    case TYPE_V2_DATA:
    case TYPE_V2_KEEP_ALIVE:
    case TYPE_V2_DISCONNECT:
      return RECORD_HEADER_SIZE;
    default:
      return 0;
  }
}

// The fields and the shared steps (feed, take, grow, fail) are FramerCore's, installed on the
// prototype below. After next() returned n > 0, the packet is packet[RECORD_AT .. RECORD_AT + n)
// once open, packet[0 .. n) in handshake mode.
export interface FramerV2 extends FramerCore {}

export class FramerV2 {
  private first = true;

  /** With `expected` (a handshake TYPE) the framer starts in handshake mode; without, it frames an open session. */
  constructor(initialCapacity?: number, expected?: number) {
    setUpFramer(
      this,
      RECORD_AT + Math.max(initialCapacity || DEFAULT_FRAMER_CAPACITY, 64),
      expected,
      expected === TYPE_V2_CLIENT_HELLO ? MAX_CLIENT_HELLO_SIZE : CLIENT_HELLO_SIZE,
      RECORD_AT,
    );
  }

  /** The session keys exist: any TYPE may follow, and records get the session's buffers. */
  open(): void {
    if (!this.expected) return;
    this.expected = 0;
    // Called between packets (have is 0): next() moves over to the new buffer.
    this.at = RECORD_AT;
    this.small = new Uint8Array(this.capacity);
  }

  /** Bytes of an incomplete packet held so far (0 between packets). */
  get buffered(): number {
    return this.have;
  }

  /** Size of the next whole packet (> 0), 0 when more bytes are needed, -1 when the stream is broken. */
  next(): number {
    if (this.error) return -1;
    // Assigned, never compared: Espruino compares two typed arrays by joining each into text
    // (docs/ESPRUINO.md), and the assignment is cheaper than even a length compare.
    if (this.have === 0) this.packet = this.small;
    for (;;) {
      if (this.have < this.need) {
        this.take();
        if (this.have < this.need) return 0;
      }
      const type = this.packet[this.at];
      if (this.have === 1) {
        // A ClientHello with an id exists only where the server expects a ClientHello; elsewhere 0x17 is unknown, as before ids.
        const size = type === TYPE_V2_CLIENT_HELLO_ID && this.expected === TYPE_V2_CLIENT_HELLO ? CLIENT_HELLO_ID_HEADER_SIZE : sizeByType(type);
        if (size === 0) {
          return this.fail(unknownTypeReason(this.first, type, FIRST_V1_TYPE, LAST_V1_TYPE));
        }
        if (this.expected && type !== this.expected && size !== CLIENT_HELLO_ID_HEADER_SIZE) return this.fail(REASON_WRONG_TYPE);
        this.need = size;
        continue;
      }
      if (type === TYPE_V2_CLIENT_HELLO_ID && this.need === CLIENT_HELLO_ID_HEADER_SIZE) {
        const idLength = this.packet[this.at + 1];
        if (idLength < 1 || idLength > MAX_DEVICE_ID_LENGTH) return this.fail(REASON_BAD_SIZE);
        this.need = CLIENT_HELLO_ID_HEADER_SIZE + idLength + NONCE_SIZE + PROOF_SIZE;
        if (this.at + this.need > this.packet.length) this.grow(this.at + this.need);
        continue;
      }
      if (this.need === RECORD_HEADER_SIZE && this.have === RECORD_HEADER_SIZE && sizeByType(type) === RECORD_HEADER_SIZE) {
        const length = (this.packet[RECORD_AT + 1] << 8) | this.packet[RECORD_AT + 2];
        if (type === TYPE_V2_DATA) {
          if (length === 0) return this.fail(REASON_ZERO_LENGTH);
          if (length > MAX_V2_MESSAGE_LENGTH) return this.fail(REASON_BAD_LENGTH);
        } else if (length !== 0) {
          return this.fail(REASON_BAD_LENGTH);
        }
        this.need = recordSize(length);
        if (RECORD_AT + this.need > this.packet.length) this.grow(RECORD_AT + this.need);
        continue;
      }
      const size = this.have;
      this.have = 0;
      this.need = 1;
      this.first = false;
      return size;
    }
  }
}
installFramerCore(FramerV2.prototype);
