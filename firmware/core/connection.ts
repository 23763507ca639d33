// One v1 connection: the three-packet XTEA handshake, XTEA-encrypted messages, and the
// one-byte Keep-Alive and Disconnect, on the lifecycle both profiles share (lifecycle.ts:
// states, timing, receive, tick, disconnect, transportClosed, finish). No I/O: a driver (the
// Node server and client, the Espruino transport) feeds it received chunks, calls tick() from
// a timer, and implements ConnectionSink to move bytes and hear outcomes.
//
// Handshake failures: wrong-type, bad-size, verify-failed, unknown-type (and the lifecycle's
// handshake-timeout, peer-closed); an open session ends on Disconnect, peer closed, inactivity,
// or a protocol error.

import { copyBytes } from "./bytes.js";
import {
  HANDSHAKE_SUCCESS_PACKET_SIZE,
  MAX_MESSAGE_LENGTH,
  MESSAGE_HEADER_SIZE,
  paddedLength,
  REASON_DISCONNECT,
  REASON_UNEXPECTED_HANDSHAKE,
  TYPE_DISCONNECT,
  TYPE_HANDSHAKE_REQUEST,
  TYPE_HANDSHAKE_RESPONSE,
  TYPE_HANDSHAKE_SUCCESS,
  TYPE_KEEP_ALIVE,
  TYPE_MESSAGE,
} from "./constants.js";
import { Framer } from "./framer.js";
import { HANDSHAKE_DONE, Handshake } from "./handshake.js";
import { OWNS_CHUNKS, TAKES_STRINGS } from "./inputs.js";
import {
  type ConnectionSink,
  installLifecycle,
  type Lifecycle,
  type LifecycleOptions,
  ROLE_SERVER,
  STATE_CLOSED,
  STATE_OPEN,
  setUpLifecycle,
} from "./lifecycle.js";
import { messageLength, messagePacketSize, sealCheckedMessage, validateMessageLength } from "./packets.js";
import { createKeySchedule, decryptBlocks, type KeySchedule, wipeKeySchedule } from "./xtea.js";

// The lifecycle's names, where v1's drivers and tests have always found them.
export {
  type ConnectionSink,
  pollIntervalMs,
  ROLE_CLIENT,
  ROLE_SERVER,
  STATE_CLOSED,
  STATE_HANDSHAKING,
  STATE_OPEN,
} from "./lifecycle.js";

export interface ConnectionOptions extends LifecycleOptions {
  /** The pre-shared handshake key, expanded for the agreed number of rounds (sessions use the same rounds). */
  handshakeKey: KeySchedule;
}

const KEEP_ALIVE_PACKET = new Uint8Array([TYPE_KEEP_ALIVE]);
const DISCONNECT_PACKET = new Uint8Array([TYPE_DISCONNECT]);

/**
 * The lifecycle's members and shared steps (start, receive, tick, disconnect, transportClosed)
 * are lifecycle.ts's Lifecycle, installed on the prototype below; the class adds the profile.
 * Tests reach the internal members through test/helpers/internals.ts.
 */
export interface Connection extends Lifecycle<Framer, Handshake, ConnectionOptions> {}

export class Connection {
  /** The session key once open (wiped to zeros when closed). */
  readonly sessionKey: Uint32Array;

  smallOut: Uint8Array | null = null;
  session: KeySchedule | null = null;

  constructor(role: number, options: ConnectionOptions, sink: ConnectionSink) {
    setUpLifecycle(this, role, options, sink);
    // Until the key is proven, nothing larger than a handshake packet is held for the peer:
    // the framer takes only the expected handshake TYPE, and replies fit in 33 bytes.
    this.framer = new Framer(this.bufferSize, role === ROLE_SERVER ? TYPE_HANDSHAKE_RESPONSE : TYPE_HANDSHAKE_REQUEST);
    this.out = new Uint8Array(HANDSHAKE_SUCCESS_PACKET_SIZE);
    this.handshake = new Handshake(role === ROLE_SERVER, options.handshakeKey, options.random);
    this.sessionKey = this.handshake.sessionKey;
  }

  handshakePacket(packet: Uint8Array, size: number): void {
    const machine = this.handshake as Handshake;
    const reply = machine.receive(packet, 0, size, this.out, 0);
    if (reply < 0) return this.finish(machine.reason);
    if (reply > 0) this.write(reply);
    if (machine.state === HANDSHAKE_DONE) {
      this.session = createKeySchedule(this.sessionKey, this.options.handshakeKey.rounds);
      this.out = this.smallOut = new Uint8Array(Math.max(this.bufferSize, 64));
      this.opened();
    } else {
      // Only the client gets here, having answered the Request.
      this.framer.expected = TYPE_HANDSHAKE_SUCCESS;
    }
  }

  sessionPacket(packet: Uint8Array, size: number): void {
    const type = packet[0];
    if (type === TYPE_MESSAGE) {
      // The framer has checked TYPE, LENGTH and size already.
      decryptBlocks(this.session as KeySchedule, packet, MESSAGE_HEADER_SIZE, size - MESSAGE_HEADER_SIZE);
      this.sink.message(packet, MESSAGE_HEADER_SIZE, messageLength(packet, 0));
    } else if (type === TYPE_KEEP_ALIVE) {
      // Receiving it already refreshed lastReceived.
    } else if (type === TYPE_DISCONNECT) {
      this.finish(REASON_DISCONNECT);
    } else {
      this.finish(REASON_UNEXPECTED_HANDSHAKE);
    }
  }

  /**
   * Sends `bytes[from .. from + length)` as one message (a binary string too: one byte per
   * char). Throws when not open or the length is invalid. One function for both, so the device's
   * sendMessage reaches the seal in as few calls as possible: each costs Espruino about as much
   * as ciphering 1/100 of a block (docs/PERFORMANCE.md).
   */
  sendBytes(bytes: Uint8Array | string, from: number, length: number): number {
    if (this.state !== STATE_OPEN) throw new Error(this.state === STATE_CLOSED ? "the session is closed" : "the handshake has not completed");
    validateMessageLength(length);
    // Not inlined by terser: an inlined function with statements becomes a function expression,
    // which Espruino creates anew on every call.
    const size = /*#__NOINLINE__*/ messagePacketSize(length);
    const out = size > this.out.length ? (this.out = new Uint8Array(size)) : this.out;
    if (TAKES_STRINGS && typeof bytes === "string") for (let i = 0; i < length; i++) out[MESSAGE_HEADER_SIZE + i] = bytes.charCodeAt(from + i);
    else copyBytes(bytes as Uint8Array, from, out, MESSAGE_HEADER_SIZE, length);
    this.write(/*#__NOINLINE__*/ sealCheckedMessage(out, 0, length, this.session as KeySchedule, this.options.random));
    this.out = this.smallOut as Uint8Array;
    return size;
  }

  /** Sends a binary string (one byte per char, as Espruino's ESP32 build holds text) as one message. */
  sendByteString(text: string): number {
    return this.sendBytes(text, 0, text.length);
  }

  write(size: number): void {
    this.sink.write(this.out, size);
    this.lastSent = this.options.clock();
  }

  control(closing: boolean): void {
    this.sink.write(closing ? DISCONNECT_PACKET : KEEP_ALIVE_PACKET, 1);
    this.lastSent = this.options.clock();
  }

  wipe(): void {
    if (this.session) wipeKeySchedule(this.session);
    this.session = null;
  }
}
installLifecycle(Connection.prototype);

/**
 * On the device, a chunk that is exactly one whole message, with nothing of another pending, is
 * opened where it lies: the framer would copy it out and return it unchanged, and on Espruino
 * its copy and calls cost a sixth of a 16-byte message's receive (docs/PERFORMANCE.md). It is
 * deciphered inside the chunk, which only a driver that never reads a chunk again allows.
 */
function openInPlace(this: Connection, input: Uint8Array | string): boolean {
  const f = this.framer;
  // Installed on the device only, whose transport hands bytes (inputs.ts).
  const chunk = input as Uint8Array;
  if (this.state === STATE_OPEN && chunk[0] === TYPE_MESSAGE && !f.have && f.pos === f.end && !f.error) {
    const length = (chunk[1] << 8) | chunk[2];
    // messagePacketSize written out (terser inlines paddedLength, not it): one call fewer.
    if (length && length <= MAX_MESSAGE_LENGTH && chunk.length === MESSAGE_HEADER_SIZE + paddedLength(length)) {
      this.lastReceived = this.options.clock();
      // sessionPacket's message branch, without its TYPE dispatch.
      decryptBlocks(this.session as KeySchedule, chunk, MESSAGE_HEADER_SIZE, chunk.length - MESSAGE_HEADER_SIZE);
      this.sink.message(chunk, MESSAGE_HEADER_SIZE, length);
      return true;
    }
  }
  return false;
}
if (OWNS_CHUNKS) Connection.prototype.openInPlace = openInPlace;
