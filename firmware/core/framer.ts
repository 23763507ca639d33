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
// Chunks may be Uint8Arrays (Node) or binary strings (Espruino's `data` events), so the
// device never converts a chunk before framing it.

import {
  fixedPacketSize,
  HANDSHAKE_SUCCESS_PACKET_SIZE,
  MAX_MESSAGE_LENGTH,
  MESSAGE_HEADER_SIZE,
  paddedLength,
  REASON_BAD_LENGTH,
  REASON_UNKNOWN_TYPE,
  REASON_WRONG_TYPE,
  REASON_ZERO_LENGTH,
  TYPE_MESSAGE,
} from "./constants.js";

const DEFAULT_CAPACITY = 264;

export class Framer {
  /** After next() returned n > 0: the packet's bytes are packet[0 .. n). */
  packet: Uint8Array;
  /** Why the stream broke ("unknown-type", "wrong-type", "zero-length", "bad-length"); "" while healthy. */
  error = "";
  /** In handshake mode, the only TYPE accepted next (its connection sets it per step); 0 once open: any TYPE. */
  expected: number;
  private small: Uint8Array;
  private readonly capacity: number;
  private have = 0;
  private need = 1;
  private bytes: Uint8Array | null = null;
  private text: string | null = null;
  private pos = 0;
  private end = 0;

  /** With `expected` (a handshake TYPE) the framer starts in handshake mode; without, it frames an open session. */
  constructor(initialCapacity?: number, expected?: number) {
    this.capacity = Math.max(initialCapacity || DEFAULT_CAPACITY, 64);
    this.expected = expected || 0;
    this.small = this.packet = new Uint8Array(this.expected ? HANDSHAKE_SUCCESS_PACKET_SIZE : this.capacity);
  }

  /** The session key exists: any TYPE may follow, and messages get the session's buffers. */
  open(): void {
    if (!this.expected) return;
    this.expected = 0;
    // Called between packets (have is 0): next() moves over to the new buffer.
    this.small = new Uint8Array(this.capacity);
  }

  /** Hands over the next chunk. The previous chunk must have been used up (next() returned 0 or -1). */
  feed(chunk: Uint8Array | string): void {
    if (this.pos < this.end && !this.error) throw new Error("framer: feed() before the previous chunk was used up");
    if (typeof chunk === "string") {
      this.text = chunk;
      this.bytes = null;
    } else {
      this.bytes = chunk;
      this.text = null;
    }
    this.pos = 0;
    this.end = chunk.length;
  }

  /** Size of the next whole packet (> 0), 0 when more bytes are needed, -1 when the stream is broken. */
  next(): number {
    if (this.error) return -1;
    if (this.have === 0 && this.packet !== this.small) this.packet = this.small;
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
        if (size === 0) return this.fail(REASON_UNKNOWN_TYPE);
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

  private take(): void {
    const count = Math.min(this.need - this.have, this.end - this.pos);
    const packet = this.packet;
    let at = this.have;
    let from = this.pos;
    const stop = from + count;
    if (this.bytes) {
      const src = this.bytes;
      while (from < stop) packet[at++] = src[from++];
    } else {
      const src = this.text as string;
      while (from < stop) packet[at++] = src.charCodeAt(from++);
    }
    this.have = at;
    this.pos = from;
  }

  private grow(size: number): void {
    const bigger = new Uint8Array(size);
    for (let i = 0; i < this.have; i++) bigger[i] = this.packet[i];
    this.packet = bigger;
  }

  private fail(reason: string): number {
    this.error = reason;
    this.bytes = null;
    this.text = null;
    this.pos = this.end = 0;
    return -1;
  }
}
