// One connection's whole protocol — handshake, framing, messages, keep-alive, inactivity,
// Disconnect — with no I/O. A driver (the Node server and client, the Espruino transport)
// feeds it received chunks, calls tick() from a timer, and implements ConnectionSink to
// move bytes and hear outcomes. The same code therefore runs on the desktop and the device.
//
//   HANDSHAKING ──(handshake verified)──▶ OPEN ──(Disconnect sent or received, peer closed,
//        │                                  │     inactivity timeout, protocol error)
//        │ failure: wrong-type, bad-size,    ▼
//        │ verify-failed, handshake-timeout, CLOSED   sink.ended(reason)
//        └ peer-closed, unknown-type ──────▶ CLOSED   sink.handshakeFailed(reason)
//
// Every way into CLOSED goes through finish(): the socket is closed exactly once, keys are
// wiped, and exactly one of handshakeFailed / ended is reported.

import type { RandomFill } from "./bytes.js";
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_INACTIVITY_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_INTERVAL_MS,
  HANDSHAKE_SUCCESS_PACKET_SIZE,
  MESSAGE_HEADER_SIZE,
  NO_INACTIVITY_TIMEOUT,
  REASON_DISCONNECT,
  REASON_HANDSHAKE_TIMEOUT,
  REASON_INACTIVITY_TIMEOUT,
  REASON_LOCAL_DISCONNECT,
  REASON_PEER_CLOSED,
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
import { validateHandshakeTimeout, validateKeepAlive } from "./keys.js";
import { messageLength, messagePacketSize, sealMessage, validateMessageLength } from "./packets.js";
import { createKeySchedule, decryptBlocks, type KeySchedule, wipeKeySchedule } from "./xtea.js";

export const ROLE_SERVER = 0;
export const ROLE_CLIENT = 1;

export const STATE_HANDSHAKING = 0;
export const STATE_OPEN = 1;
export const STATE_CLOSED = 2;

export interface ConnectionOptions {
  /** The pre-shared handshake key, expanded for the agreed number of rounds (sessions use the same rounds). */
  handshakeKey: KeySchedule;
  /** Cryptographic randomness: nonces, numbers, session keys, padding. */
  random: RandomFill;
  /** Milliseconds; the driver's clock (Date.now on both platforms). */
  clock: () => number;
  keepAliveIntervalMs?: number;
  /** -1 disables the check. */
  inactivityTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  /** Initial size of the receive and send buffers, made when the session opens; they grow only for larger messages. */
  bufferSize?: number;
}

/** Implemented by drivers. None of these may throw: drivers catch what application callbacks throw. */
export interface ConnectionSink {
  /** Send `bytes[0 .. length)`. The buffer is reused after the call: copy or convert it now. */
  write(bytes: Uint8Array, length: number): void;
  /** Close the socket. Called exactly once, before the closing event. */
  close(): void;
  handshakeSucceeded(): void;
  handshakeFailed(reason: string): void;
  /** A message arrived: `bytes[at .. at + length)`, valid only during the call. */
  message(bytes: Uint8Array, at: number, length: number): void;
  /** The open session ended. */
  ended(reason: string): void;
}

const DEFAULT_BUFFER_SIZE = 264;
const KEEP_ALIVE_PACKET = new Uint8Array([TYPE_KEEP_ALIVE]);
const DISCONNECT_PACKET = new Uint8Array([TYPE_DISCONNECT]);

function orDefault(value: number | undefined, fallback: number): number {
  return value === undefined ? fallback : value;
}

/** A timer period that notices every deadline of these settings promptly without busy polling. */
export function pollIntervalMs(keepAliveIntervalMs: number, inactivityTimeoutMs: number, handshakeTimeoutMs: number): number {
  let shortest = Math.min(keepAliveIntervalMs, handshakeTimeoutMs);
  if (inactivityTimeoutMs !== NO_INACTIVITY_TIMEOUT) shortest = Math.min(shortest, inactivityTimeoutMs);
  return Math.max(5, Math.min(1000, Math.floor(shortest / 4)));
}

export class Connection {
  state = STATE_HANDSHAKING;
  /** state === STATE_OPEN, kept as a field: a getter costs the device bundle ~90 bytes. */
  isOpen = false;
  /** Why the connection closed; "" while it is not closed. */
  reason = "";
  /** The session key once open (wiped to zeros when closed). */
  readonly sessionKey: Uint32Array;
  readonly role: number;
  readonly keepAliveIntervalMs: number;
  readonly inactivityTimeoutMs: number;
  readonly handshakeTimeoutMs: number;

  private readonly options: ConnectionOptions;
  private readonly sink: ConnectionSink;
  private readonly framer: Framer;
  private readonly bufferSize: number;
  private smallOut: Uint8Array | null = null;
  private out: Uint8Array;
  /** Present while handshaking. */
  private handshake: Handshake | null;
  private session: KeySchedule | null = null;
  private startedAt: number;
  private lastSent: number;
  private lastReceived: number;

  constructor(role: number, options: ConnectionOptions, sink: ConnectionSink) {
    this.role = role;
    this.options = options;
    this.sink = sink;
    this.keepAliveIntervalMs = orDefault(options.keepAliveIntervalMs, DEFAULT_KEEP_ALIVE_INTERVAL_MS);
    this.inactivityTimeoutMs = orDefault(options.inactivityTimeoutMs, DEFAULT_INACTIVITY_TIMEOUT_MS);
    this.handshakeTimeoutMs = orDefault(options.handshakeTimeoutMs, DEFAULT_HANDSHAKE_TIMEOUT_MS);
    validateKeepAlive(this.keepAliveIntervalMs, this.inactivityTimeoutMs);
    validateHandshakeTimeout(this.handshakeTimeoutMs);
    const size = (this.bufferSize = options.bufferSize || DEFAULT_BUFFER_SIZE);
    // Until the key is proven, nothing larger than a handshake packet is held for the peer:
    // the framer takes only the expected handshake TYPE, and replies fit in 33 bytes.
    this.framer = new Framer(size, role === ROLE_SERVER ? TYPE_HANDSHAKE_RESPONSE : TYPE_HANDSHAKE_REQUEST);
    this.out = new Uint8Array(HANDSHAKE_SUCCESS_PACKET_SIZE);
    this.handshake = new Handshake(role === ROLE_SERVER, options.handshakeKey, options.random);
    this.sessionKey = this.handshake.sessionKey;
    this.startedAt = this.lastSent = this.lastReceived = options.clock();
  }

  /** Begins the handshake: the server sends its HandshakeRequest; the client waits for it. */
  start(): void {
    this.startedAt = this.options.clock();
    const handshake = this.handshake;
    if (handshake && handshake.isServer) this.write(handshake.start(this.out, 0));
  }

  /** Feeds bytes received from the socket (a Uint8Array, or a binary string on Espruino). */
  receive(chunk: Uint8Array | string): void {
    if (this.state === STATE_CLOSED) return;
    const framer = this.framer;
    framer.feed(chunk);
    for (;;) {
      const size = framer.next();
      if (size === 0) return;
      if (size < 0) return this.finish(framer.error);
      this.lastReceived = this.options.clock();
      if (this.state === STATE_HANDSHAKING) this.handshakePacket(framer.packet, size);
      else this.sessionPacket(framer.packet, size);
      if (this.state === STATE_CLOSED) return;
    }
  }

  private handshakePacket(packet: Uint8Array, size: number): void {
    const machine = this.handshake as Handshake;
    const reply = machine.receive(packet, 0, size, this.out, 0);
    if (reply < 0) return this.finish(machine.reason);
    if (reply > 0) this.write(reply);
    if (machine.state === HANDSHAKE_DONE) {
      this.session = createKeySchedule(this.sessionKey, this.options.handshakeKey.rounds);
      this.handshake = null;
      this.framer.open();
      this.out = this.smallOut = new Uint8Array(Math.max(this.bufferSize, 64));
      this.state = STATE_OPEN;
      this.isOpen = true;
      this.lastReceived = this.options.clock();
      this.sink.handshakeSucceeded();
    } else {
      // Only the client gets here, having answered the Request.
      this.framer.expected = TYPE_HANDSHAKE_SUCCESS;
    }
  }

  private sessionPacket(packet: Uint8Array, size: number): void {
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

  /** Sends `bytes[from .. from + length)` as one message. Throws when not open or the length is invalid. */
  sendBytes(bytes: Uint8Array, from: number, length: number): number {
    return this.send(bytes, from, length);
  }

  /** Sends a binary string (one byte per char, as Espruino's ESP32 build holds text) as one message. */
  sendByteString(text: string): number {
    return this.send(text, 0, text.length);
  }

  private send(data: Uint8Array | string, from: number, length: number): number {
    if (this.state !== STATE_OPEN) throw new Error(this.state === STATE_CLOSED ? "the session is closed" : "the handshake has not completed");
    validateMessageLength(length);
    const size = messagePacketSize(length);
    const out = size > this.out.length ? (this.out = new Uint8Array(size)) : this.out;
    if (typeof data === "string") for (let i = 0; i < length; i++) out[MESSAGE_HEADER_SIZE + i] = data.charCodeAt(from + i);
    else for (let i = 0; i < length; i++) out[MESSAGE_HEADER_SIZE + i] = data[from + i];
    this.write(sealMessage(out, 0, length, this.session as KeySchedule, this.options.random));
    this.out = this.smallOut as Uint8Array;
    return size;
  }

  /**
   * Checks the clock: handshake timeout, inactivity timeout, and keep-alive due. Drivers
   * call it every pollIntervalMs(); calling it more often is harmless.
   */
  tick(): void {
    const now = this.options.clock();
    if (this.state === STATE_HANDSHAKING) {
      if (now - this.startedAt >= this.handshakeTimeoutMs) this.finish(REASON_HANDSHAKE_TIMEOUT);
    } else if (this.state === STATE_OPEN) {
      if (this.inactivityTimeoutMs !== NO_INACTIVITY_TIMEOUT && now - this.lastReceived >= this.inactivityTimeoutMs) {
        this.finish(REASON_INACTIVITY_TIMEOUT);
      } else if (now - this.lastSent >= this.keepAliveIntervalMs) {
        this.sink.write(KEEP_ALIVE_PACKET, 1);
        this.lastSent = now;
      }
    }
  }

  /** Ends the connection on purpose: an open session sends Disconnect first. */
  disconnect(): void {
    if (this.state === STATE_CLOSED) return;
    if (this.state === STATE_OPEN) this.sink.write(DISCONNECT_PACKET, 1);
    this.finish(REASON_LOCAL_DISCONNECT);
  }

  /** The socket closed or failed underneath us (`reason` defaults to peer-closed). */
  transportClosed(reason?: string): void {
    if (this.state !== STATE_CLOSED) this.finish(reason || REASON_PEER_CLOSED, true);
  }

  private write(size: number): void {
    this.sink.write(this.out, size);
    this.lastSent = this.options.clock();
  }

  private finish(reason: string, socketGone?: boolean): void {
    const wasOpen = this.state === STATE_OPEN;
    this.state = STATE_CLOSED;
    this.isOpen = false;
    this.reason = reason;
    if (this.session) wipeKeySchedule(this.session);
    this.session = null;
    this.sessionKey.fill(0);
    this.handshake = null;
    if (!socketGone) this.sink.close();
    if (wasOpen) this.sink.ended(reason);
    else this.sink.handshakeFailed(reason);
  }
}
