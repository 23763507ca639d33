// One v2 connection's whole protocol — handshake, records, keep-alive, inactivity, Disconnect
// — with no I/O, behind exactly the driver-facing surface and ConnectionSink of the v1
// Connection (../connection.ts), so a driver picks one by its `profile` option and nothing
// else changes. Only the options differ: a 32-byte pre-shared key and the crypto primitives
// instead of an XTEA key schedule.
//
//   HANDSHAKING ──(server proof verified / sent)──▶ OPEN ──(Disconnect record sent or
//        │                                           │     received, peer closed, inactivity,
//        │ failure: profile-mismatch, wrong-type,    ▼     mac-failed, protocol error)
//        │ bad-size, proof-failed, unknown-type,    CLOSED   sink.ended(reason)
//        └ handshake-timeout, peer-closed ────────▶ CLOSED   sink.handshakeFailed(reason)
//
// Every way into CLOSED goes through finish(): the socket is closed exactly once, all keys are
// wiped, and exactly one of handshakeFailed / ended is reported. After a record fails its tag
// nothing more is read from that stream: it is closed, as v1 closes a desynchronised stream.

import type { RandomFill } from "../bytes.js";
import type { ConnectionSink } from "../connection.js";
import { ROLE_CLIENT, ROLE_SERVER, STATE_CLOSED, STATE_HANDSHAKING, STATE_OPEN } from "../connection.js";
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_INACTIVITY_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_INTERVAL_MS,
  KEY_WORDS,
  NO_INACTIVITY_TIMEOUT,
  REASON_DISCONNECT,
  REASON_HANDSHAKE_TIMEOUT,
  REASON_INACTIVITY_TIMEOUT,
  REASON_LOCAL_DISCONNECT,
  REASON_PEER_CLOSED,
  REASON_UNEXPECTED_HANDSHAKE,
} from "../constants.js";
import { validateHandshakeTimeout, validateKeepAlive } from "../keys.js";
import {
  CLIENT_HELLO_SIZE,
  CONTROL_RECORD_SIZE,
  MAX_V2_MESSAGE_LENGTH,
  PSK_SIZE,
  REASON_MAC_FAILED,
  RECORD_AT,
  RECORD_HEADER_SIZE,
  recordSize,
  TYPE_V2_CLIENT_HELLO,
  TYPE_V2_DATA,
  TYPE_V2_DISCONNECT,
  TYPE_V2_KEEP_ALIVE,
  TYPE_V2_SERVER_FINISHED,
  TYPE_V2_SERVER_HELLO,
} from "./constants.js";
import { FramerV2 } from "./framer.js";
import { HandshakeV2, V2_DONE } from "./handshake.js";
import type { V2Primitives } from "./primitives.js";
import { RecordDirection } from "./records.js";

export interface ConnectionV2Options {
  /**
   * The 256-bit pre-shared key: eight u32 words as parseKey() returns them (the same key text
   * as v1; its bytes are the wire order, each word little-endian) or its 32 bytes. Copied.
   */
  preSharedKey: Uint32Array | Uint8Array;
  /** AES-256 and SHA-256: node:crypto on the desktop, Espruino's `crypto` module on the device. */
  primitives: V2Primitives;
  /** Cryptographic randomness for the nonce this side contributes. */
  random: RandomFill;
  /** Milliseconds; the driver's clock. */
  clock: () => number;
  keepAliveIntervalMs?: number;
  /** -1 disables the check. */
  inactivityTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  /** Initial payload size of the receive and send buffers, made when the session opens; they grow only for larger messages. */
  bufferSize?: number;
}

const DEFAULT_BUFFER_SIZE = 264;

function orDefault(value: number | undefined, fallback: number): number {
  return value === undefined ? fallback : value;
}

/** The PSK as 32 bytes: words are laid out little-endian, as keyToHex() prints them. */
export function pskBytes(key: Uint32Array | Uint8Array): Uint8Array {
  const out = new Uint8Array(PSK_SIZE);
  if (key instanceof Uint32Array) {
    if (key.length !== KEY_WORDS) throw new Error("a v2 pre-shared key given as words must have 8 words, got " + key.length);
    for (let i = 0; i < KEY_WORDS; i++) {
      const w = key[i];
      out[i * 4] = w;
      out[i * 4 + 1] = w >>> 8;
      out[i * 4 + 2] = w >>> 16;
      out[i * 4 + 3] = w >>> 24;
    }
  } else {
    if (key.length !== PSK_SIZE) throw new Error("a v2 pre-shared key given as bytes must have 32 bytes, got " + key.length);
    for (let i = 0; i < PSK_SIZE; i++) out[i] = key[i];
  }
  return out;
}

export class ConnectionV2 {
  state = STATE_HANDSHAKING;
  /** Why the connection closed; "" while it is not closed. */
  reason = "";
  /**
   * Eight words both sides agree on once open, unique per session (HKDF label "lwstcp v2
   * exporter"); what getSessionKey shows in v2. Not a traffic key. Wiped to zeros when closed.
   */
  readonly sessionKey = new Uint32Array(KEY_WORDS);
  readonly role: number;
  readonly keepAliveIntervalMs: number;
  readonly inactivityTimeoutMs: number;
  readonly handshakeTimeoutMs: number;

  private readonly options: ConnectionV2Options;
  private readonly sink: ConnectionSink;
  private readonly psk: Uint8Array;
  private readonly framer: FramerV2;
  private readonly sending: RecordDirection;
  private readonly receiving: RecordDirection;
  private readonly bufferSize: number;
  private smallOut: Uint8Array | null = null;
  private smallView: Uint8Array | null = null;
  /** Keep-alive and Disconnect are sealed here, so they never disturb a message being built in `out`. */
  private readonly controlOut = new Uint8Array(RECORD_AT + CONTROL_RECORD_SIZE);
  private readonly controlView: Uint8Array;
  private out: Uint8Array;
  /** out[RECORD_AT ..]: what the sink gets (the head room in front is the record layer's). */
  private outView: Uint8Array;
  private handshake: HandshakeV2 | null;
  private startedAt: number;
  private lastSent: number;
  private lastReceived: number;

  constructor(role: number, options: ConnectionV2Options, sink: ConnectionSink) {
    if (role !== ROLE_SERVER && role !== ROLE_CLIENT) throw new Error("role must be ROLE_SERVER or ROLE_CLIENT, got " + role);
    this.role = role;
    this.options = options;
    this.sink = sink;
    this.keepAliveIntervalMs = orDefault(options.keepAliveIntervalMs, DEFAULT_KEEP_ALIVE_INTERVAL_MS);
    this.inactivityTimeoutMs = orDefault(options.inactivityTimeoutMs, DEFAULT_INACTIVITY_TIMEOUT_MS);
    this.handshakeTimeoutMs = orDefault(options.handshakeTimeoutMs, DEFAULT_HANDSHAKE_TIMEOUT_MS);
    validateKeepAlive(this.keepAliveIntervalMs, this.inactivityTimeoutMs);
    validateHandshakeTimeout(this.handshakeTimeoutMs);
    this.psk = pskBytes(options.preSharedKey);
    this.bufferSize = options.bufferSize || DEFAULT_BUFFER_SIZE;
    // Until the keys exist, nothing larger than a handshake packet is held for the peer: the
    // framer takes only the expected handshake TYPE, and handshake packets are built at 0 in 33 bytes.
    this.framer = new FramerV2(this.bufferSize, role === ROLE_SERVER ? TYPE_V2_CLIENT_HELLO : TYPE_V2_SERVER_HELLO);
    this.sending = new RecordDirection(options.primitives);
    this.receiving = new RecordDirection(options.primitives);
    this.controlView = this.controlOut.subarray(RECORD_AT);
    this.out = this.outView = new Uint8Array(CLIENT_HELLO_SIZE);
    this.handshake = new HandshakeV2(role === ROLE_SERVER, options.primitives, this.psk, options.random);
    this.startedAt = this.lastSent = this.lastReceived = options.clock();
  }

  get isOpen(): boolean {
    return this.state === STATE_OPEN;
  }

  /** Begins the handshake: the server sends its ServerHello; the client waits for it. */
  start(): void {
    this.startedAt = this.options.clock();
    const handshake = this.handshake;
    if (handshake && handshake.isServer && this.state === STATE_HANDSHAKING) this.write(handshake.start(this.out, 0));
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
    const handshake = this.handshake as HandshakeV2;
    const reply = handshake.receive(packet, 0, size, this.out, 0);
    if (reply < 0) return this.finish(handshake.reason);
    if (reply > 0) this.write(reply);
    if (handshake.state !== V2_DONE) {
      // Only the client gets here, having answered the ServerHello.
      this.framer.expected = TYPE_V2_SERVER_FINISHED;
      return;
    }
    const keys = handshake.keys;
    if (handshake.isServer) {
      this.sending.setKeys(keys.s2cEncryption, keys.s2cMac);
      this.receiving.setKeys(keys.c2sEncryption, keys.c2sMac);
    } else {
      this.sending.setKeys(keys.c2sEncryption, keys.c2sMac);
      this.receiving.setKeys(keys.s2cEncryption, keys.s2cMac);
    }
    const exporter = keys.exporter;
    for (let i = 0; i < KEY_WORDS; i++) {
      this.sessionKey[i] = (exporter[i * 4] | (exporter[i * 4 + 1] << 8) | (exporter[i * 4 + 2] << 16) | (exporter[i * 4 + 3] << 24)) >>> 0;
    }
    handshake.wipe();
    this.handshake = null;
    this.framer.open();
    this.out = this.smallOut = new Uint8Array(RECORD_AT + Math.max(recordSize(this.bufferSize), 64));
    this.outView = this.smallView = this.smallOut.subarray(RECORD_AT);
    this.state = STATE_OPEN;
    this.lastReceived = this.options.clock();
    this.sink.handshakeSucceeded();
  }

  private sessionPacket(packet: Uint8Array, size: number): void {
    const type = packet[RECORD_AT];
    if (type !== TYPE_V2_DATA && type !== TYPE_V2_KEEP_ALIVE && type !== TYPE_V2_DISCONNECT) {
      return this.finish(REASON_UNEXPECTED_HANDSHAKE);
    }
    const length = this.receiving.open(packet, size);
    if (length < 0) return this.finish(REASON_MAC_FAILED);
    if (type === TYPE_V2_DATA) this.sink.message(packet, RECORD_AT + RECORD_HEADER_SIZE, length);
    else if (type === TYPE_V2_DISCONNECT) this.finish(REASON_DISCONNECT);
    // A keep-alive only refreshes lastReceived, which receive() already did.
  }

  /** Sends `bytes[from .. from + length)` as one message. Throws when not open or the length is invalid. */
  sendBytes(bytes: Uint8Array, from: number, length: number): number {
    const out = this.prepareSend(length);
    const at = RECORD_AT + RECORD_HEADER_SIZE;
    for (let i = 0; i < length; i++) out[at + i] = bytes[from + i];
    return this.seal(length);
  }

  /** Sends a binary string (one byte per char, as Espruino's ESP32 build holds text) as one message. */
  sendByteString(text: string): number {
    const length = text.length;
    const out = this.prepareSend(length);
    const at = RECORD_AT + RECORD_HEADER_SIZE;
    for (let i = 0; i < length; i++) out[at + i] = text.charCodeAt(i);
    return this.seal(length);
  }

  private prepareSend(length: number): Uint8Array {
    if (this.state !== STATE_OPEN)
      throw new Error(this.state === STATE_CLOSED ? "cannot send: the session is closed" : "cannot send before the handshake has completed");
    if (!(length >= 1)) throw new Error("a message must have at least 1 byte; empty messages are invalid");
    if (length > MAX_V2_MESSAGE_LENGTH) throw new Error("a message can have at most " + MAX_V2_MESSAGE_LENGTH + " bytes, got " + length);
    const size = RECORD_AT + recordSize(length);
    if (size > this.out.length) {
      // Only a message larger than bufferSize allocates; the next send returns to the small buffer.
      this.out = new Uint8Array(size);
      this.outView = this.out.subarray(RECORD_AT);
    }
    return this.out;
  }

  private seal(length: number): number {
    const size = this.sending.seal(this.out, TYPE_V2_DATA, length);
    this.write(size);
    this.out = this.smallOut as Uint8Array;
    this.outView = this.smallView as Uint8Array;
    return size;
  }

  private sendControl(type: number): void {
    const size = this.sending.seal(this.controlOut, type, 0);
    this.sink.write(this.controlView, size);
    this.lastSent = this.options.clock();
  }

  /**
   * Checks the clock: handshake timeout, inactivity timeout, and keep-alive due. Drivers call
   * it every pollIntervalMs(); calling it more often is harmless.
   */
  tick(): void {
    const now = this.options.clock();
    if (this.state === STATE_HANDSHAKING) {
      if (now - this.startedAt >= this.handshakeTimeoutMs) this.finish(REASON_HANDSHAKE_TIMEOUT);
    } else if (this.state === STATE_OPEN) {
      if (this.inactivityTimeoutMs !== NO_INACTIVITY_TIMEOUT && now - this.lastReceived >= this.inactivityTimeoutMs) {
        this.finish(REASON_INACTIVITY_TIMEOUT);
      } else if (now - this.lastSent >= this.keepAliveIntervalMs) {
        this.sendControl(TYPE_V2_KEEP_ALIVE);
      }
    }
  }

  /** Ends the connection on purpose: an open session sends an authenticated Disconnect first. */
  disconnect(): void {
    if (this.state === STATE_CLOSED) return;
    if (this.state === STATE_OPEN) this.sendControl(TYPE_V2_DISCONNECT);
    this.finish(REASON_LOCAL_DISCONNECT);
  }

  /** The socket closed or failed underneath us (`reason` defaults to peer-closed). */
  transportClosed(reason?: string): void {
    if (this.state !== STATE_CLOSED) this.finish(reason || REASON_PEER_CLOSED, true);
  }

  private write(size: number): void {
    this.sink.write(this.outView, size);
    this.lastSent = this.options.clock();
  }

  private finish(reason: string, socketGone?: boolean): void {
    const wasOpen = this.state === STATE_OPEN;
    this.state = STATE_CLOSED;
    this.reason = reason;
    if (this.handshake) this.handshake.wipe();
    this.handshake = null;
    this.sending.wipe();
    this.receiving.wipe();
    this.sessionKey.fill(0);
    this.psk.fill(0);
    if (!socketGone) this.sink.close();
    if (wasOpen) this.sink.ended(reason);
    else this.sink.handshakeFailed(reason);
  }
}
