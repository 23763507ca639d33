// The buffer core both profiles' framers share (framer.ts for v1, v2/framer.ts): chunk intake
// (Uint8Array; a binary string is accepted too), the copy into the packet buffer, growth for a
// large packet, and failure. Each framer keeps only its next(): how a header's TYPE and
// LENGTH give a packet's size, which is where the profiles differ. The steps are functions
// installed on each framer's prototype (no `extends` in our ES5), so a bundle carries one copy.
//
// Handshake mode: until open(), a framer accepts only the TYPE its connection expects next
// (judged at the first byte) in a buffer of the largest handshake packet, so a peer that has
// not proven the key can make it hold nothing more.

import { copyBytes } from "./bytes.js";
import { REASON_BAD_SIZE, REASON_PROFILE_MISMATCH, REASON_UNKNOWN_TYPE, REASON_WRONG_TYPE } from "./constants.js";
import { TAKES_STRINGS } from "./inputs.js";

/** Initial payload capacity of a session's receive buffer. */
export const DEFAULT_FRAMER_CAPACITY = 264;

/** The fields the shared steps use; a framer class declares them. */
export interface FramerCore {
  /** The packet buffer; a packet starts at `at` in it. */
  packet: Uint8Array;
  /** Why the stream broke; "" while healthy. */
  error: string;
  /** In handshake mode, the only TYPE accepted next; 0 once open: any TYPE. */
  expected: number;
  /** The buffer next() returns to between packets. */
  small: Uint8Array;
  /** Size of the session's small buffer, made by open(). */
  capacity: number;
  /** Where a packet starts in `packet` (head room in front of it, if any, is the record layer's). */
  at: number;
  have: number;
  need: number;
  bytes: Uint8Array | null;
  text: string | null;
  pos: number;
  end: number;
  feed(chunk: Uint8Array | string): void;
  take(): void;
  grow(size: number): void;
  fail(reason: string): number;
}

/**
 * The constructor's shared part. `capacity` is the open session's buffer size; with `expected`
 * (a handshake TYPE) the framer starts in handshake mode with a `handshakeSize`-byte buffer.
 */
export function setUpFramer(f: FramerCore, capacity: number, expected: number | undefined, handshakeSize: number, sessionAt: number): void {
  f.error = "";
  f.have = 0;
  f.need = 1;
  f.bytes = f.text = null;
  f.pos = f.end = 0;
  f.capacity = capacity;
  f.expected = expected || 0;
  f.at = f.expected ? 0 : sessionAt;
  f.small = f.packet = new Uint8Array(f.expected ? handshakeSize : capacity);
}

/** Hands over the next chunk. The previous chunk must have been used up (next() returned 0 or -1). */
function feed(this: FramerCore, chunk: Uint8Array | string): void {
  if (this.pos < this.end && !this.error) throw new Error("framer: feed() before the previous chunk was used up");
  if (TAKES_STRINGS && typeof chunk === "string") {
    this.text = chunk;
    this.bytes = null;
  } else {
    this.bytes = chunk as Uint8Array;
    this.text = null;
  }
  this.pos = 0;
  this.end = chunk.length;
}

/** Copies as much of the chunk as the packet still needs. */
function take(this: FramerCore): void {
  const left = this.end - this.pos;
  let count = this.need - this.have;
  if (count > left) count = left;
  const packet = this.packet;
  const base = this.at;
  let at = base + this.have;
  let from = this.pos;
  const stop = from + count;
  if (!TAKES_STRINGS || this.bytes) {
    copyBytes(this.bytes as Uint8Array, from, packet, at, count);
    at += count;
    from = stop;
  } else {
    // Strings reach the framer only from Node-side callers; the Espruino transport hands bytes.
    const src = this.text as string;
    while (from < stop) packet[at++] = src.charCodeAt(from++);
  }
  this.have = at - base;
  this.pos = from;
}

/** A buffer for a packet of `size` bytes from `at`, keeping what has arrived. */
function grow(this: FramerCore, size: number): void {
  const bigger = new Uint8Array(size);
  const from = this.at;
  copyBytes(this.packet, from, bigger, from, this.have);
  this.packet = bigger;
}

function fail(this: FramerCore, reason: string): number {
  this.error = reason;
  this.bytes = null;
  this.text = null;
  this.pos = this.end = 0;
  return -1;
}

/** Puts the shared steps on a framer's prototype (its class declares them). */
export function installFramerCore(prototype: FramerCore): void {
  prototype.feed = feed;
  prototype.take = take;
  prototype.grow = grow;
  prototype.fail = fail;
}

/** A whole handshake packet's check: its TYPE, then its size ("" when both are right). */
export function checkPacket(packet: Uint8Array, at: number, size: number, type: number, expectedSize: number): string {
  if (packet[at] !== type) return REASON_WRONG_TYPE;
  if (size !== expectedSize) return REASON_BAD_SIZE;
  return "";
}

/**
 * Why a framer stops at a TYPE it does not know: `profile-mismatch` when it is the stream's
 * first byte and in the other profile's range [otherFrom, otherTo] (the peer speaks the other
 * profile), else `unknown-type`. Both profiles' framers use this one rule.
 */
export function unknownTypeReason(first: boolean, type: number, otherFrom: number, otherTo: number): string {
  return first && type >= otherFrom && type <= otherTo ? REASON_PROFILE_MISMATCH : REASON_UNKNOWN_TYPE;
}
