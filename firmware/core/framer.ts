// Stream framer: turns TCP chunks, split and merged anywhere, into whole packets.
//
// Pull style, like ws's receiver loop: `feed(chunk)` hands over the next chunk, then
// `next()` is called until it returns 0 (the chunk is used up, more bytes needed) or -1
// (the stream is broken; `error` holds the reason). A positive return is the size of a
// whole packet now at `packet[0 .. size)`, valid until the following call.
//
// Until the connection calls open(), the framer is in handshake mode: it accepts only the
// one TYPE the handshake expects next, judged at the packet's first byte, and holds a buffer
// of the largest handshake packet (33 bytes). A peer that has not proven the key can make it
// hold nothing more: a message header there is a wrong TYPE, not a LENGTH to allocate for.
// Once open, the buffer starts small and grows only to the size a message's LENGTH
// announces, then returns to the small one, so a device holds 64 KB only while a 64 KB
// message arrives.
// Chunks are Uint8Arrays (the Espruino transport views each binary-string `data` chunk as one
// without copying it; a string is accepted too); that intake, the copy, growth and failure are
// framer-core.ts's, shared with the v2 framer.

import {
  fixedPacketSize,
  HANDSHAKE_SUCCESS_PACKET_SIZE,
  MAX_MESSAGE_LENGTH,
  MESSAGE_HEADER_SIZE,
  paddedLength,
  REASON_BAD_LENGTH,
  REASON_WRONG_TYPE,
  REASON_ZERO_LENGTH,
  TYPE_HANDSHAKE_REQUEST,
  TYPE_MESSAGE,
  TYPE_V2_SERVER_HELLO,
} from "./constants.js";
import { DEFAULT_FRAMER_CAPACITY, type FramerCore, installFramerCore, setUpFramer, unknownTypeReason } from "./framer-core.js";

// The fields and the shared steps (feed, take, grow, fail) are FramerCore's, installed on the
// prototype below. After next() returned n > 0, the packet is packet[0 .. n).
export interface Framer extends FramerCore {}

export class Framer {
  /** With `expected` (a handshake TYPE) the framer starts in handshake mode; without, it frames an open session. */
  constructor(initialCapacity?: number, expected?: number) {
    setUpFramer(this, Math.max(initialCapacity || DEFAULT_FRAMER_CAPACITY, 64), expected, HANDSHAKE_SUCCESS_PACKET_SIZE, 0);
  }

  /** The session key exists: any TYPE may follow, and messages get the session's buffers. */
  open(): void {
    if (!this.expected) return;
    this.expected = 0;
    // Called between packets (have is 0): next() moves over to the new buffer.
    this.small = new Uint8Array(this.capacity);
  }

  /** Size of the next whole packet (> 0), 0 when more bytes are needed, -1 when the stream is broken. */
  next(): number {
    if (this.error) return -1;
    if (this.have === 0) {
      // Assigned, not compared: Espruino's === on two typed arrays joins both into strings
      // (docs/PERFORMANCE.md), and even a length compare costs more than the assignment.
      this.packet = this.small;
      if (this.pos === this.end) return 0;
      // A message whose header is in the chunk is taken in one copy: on Espruino each take()
      // costs as much as ciphering a tenth of a block. The header is read again from the
      // packet below, so a bad LENGTH still fails there.
      const chunk = this.bytes;
      const p = this.pos;
      if (chunk && !this.expected && this.end - p >= MESSAGE_HEADER_SIZE && chunk[p] === TYPE_MESSAGE) {
        const length = (chunk[p + 1] << 8) | chunk[p + 2];
        this.need = length && length <= MAX_MESSAGE_LENGTH ? MESSAGE_HEADER_SIZE + paddedLength(length) : MESSAGE_HEADER_SIZE;
        if (this.need > this.packet.length) this.grow(this.need);
      }
    }
    for (;;) {
      if (this.have < this.need) {
        this.take();
        if (this.have < this.need) return 0;
      }
      if (this.have === 1) {
        const type = this.packet[0];
        if (type === TYPE_MESSAGE) {
          if (this.expected) return this.fail(REASON_WRONG_TYPE);
          this.need = MESSAGE_HEADER_SIZE;
          continue;
        }
        const size = fixedPacketSize(type);
        // A client's first packet must be the Request: a v2 ServerHello there is the other profile.
        if (size === 0) return this.fail(unknownTypeReason(this.expected === TYPE_HANDSHAKE_REQUEST, type, TYPE_V2_SERVER_HELLO, TYPE_V2_SERVER_HELLO));
        if (this.expected && type !== this.expected) return this.fail(REASON_WRONG_TYPE);
        this.need = size;
        if (size > 1) continue;
      } else if (this.need === MESSAGE_HEADER_SIZE && this.packet[0] === TYPE_MESSAGE) {
        const length = (this.packet[1] << 8) | this.packet[2];
        if (length === 0) return this.fail(REASON_ZERO_LENGTH);
        if (length > MAX_MESSAGE_LENGTH) return this.fail(REASON_BAD_LENGTH);
        this.need = MESSAGE_HEADER_SIZE + paddedLength(length);
        if (this.need > this.packet.length) this.grow(this.need);
        continue;
      }
      const size = this.have;
      this.have = 0;
      this.need = 1;
      return size;
    }
  }
}
installFramerCore(Framer.prototype);
