// One v2 connection: the HKDF handshake, AES-CBC + HMAC records, and the authenticated
// Keep-Alive and Disconnect records, on the lifecycle both profiles share (../lifecycle.ts:
// states, timing, receive, tick, disconnect, transportClosed, finish), behind the same
// driver-facing surface and ConnectionSink as the v1 Connection. Only the options differ: a
// 32-byte pre-shared key and the crypto primitives instead of an XTEA key schedule.
//
// Device ids: a client with `deviceId` names itself in its ClientHello. A server with
// `keyForDevice` looks the key up per id once the ClientHello is in (the answer may come later:
// the connection waits, holding only the handshake's buffers, and the handshake timeout still
// runs); without it, `preSharedKey` serves every client.
//
// Handshake failures: profile-mismatch, wrong-type, bad-size, bad-device-id, proof-failed, unknown-device, unknown-type (and
// the lifecycle's handshake-timeout, peer-closed); an open session ends on a Disconnect record,
// peer closed, inactivity, mac-failed or a protocol error. After a record fails its tag nothing
// more is read from that stream: it is closed, as v1 closes a desynchronised stream.

import { copyBytes, readU32LE, writeU32LE } from "../bytes.js";
import { KEY_WORDS, REASON_DISCONNECT, REASON_UNEXPECTED_HANDSHAKE } from "../constants.js";
import {
  type ConnectionSink,
  installLifecycle,
  type Lifecycle,
  type LifecycleOptions,
  ROLE_SERVER,
  STATE_CLOSED,
  STATE_OPEN,
  setUpLifecycle,
} from "../lifecycle.js";
import {
  CLIENT_HELLO_ID_HEADER_SIZE,
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
import { HandshakeV2, V2_AWAITING_KEY, V2_DONE } from "./handshake.js";
import type { V2Primitives } from "./primitives.js";
import { RecordDirection } from "./records.js";

export interface ConnectionV2Options extends LifecycleOptions {
  /**
   * The 256-bit pre-shared key: eight u32 words as parseKey() returns them (the same key text
   * as v1; its bytes are the wire order, each word little-endian) or its 32 bytes. Copied.
   */
  preSharedKey?: Uint32Array | Uint8Array;
  /** AES-256 and SHA-256: node:crypto on the desktop, Espruino's `crypto` module on the device. */
  primitives: V2Primitives;
  /** Client: the id sent in the ClientHello (1..32 characters 0x21..0x7E); none sends the id-less ClientHello. */
  deviceId?: string | null;
  /**
   * Server: instead of `preSharedKey`, the key for the id a ClientHello names (null: it named
   * none). Calls `done` with the key, or null when there is none (the handshake then fails
   * `unknown-device`), now or later; a `done` after the connection closed is ignored.
   */
  keyForDevice?: (deviceId: string | null, done: (key: Uint32Array | Uint8Array | null) => void) => void;
}

/** The PSK as 32 bytes: words are laid out little-endian, as keyToHex() prints them. */
export function pskBytes(key: Uint32Array | Uint8Array): Uint8Array {
  const out = new Uint8Array(PSK_SIZE);
  if (key instanceof Uint32Array) {
    if (key.length !== KEY_WORDS) throw new Error("a v2 pre-shared key given as words must have 8 words, got " + key.length);
    for (let i = 0; i < KEY_WORDS; i++) writeU32LE(out, i * 4, key[i]);
  } else {
    if (key.length !== PSK_SIZE) throw new Error("a v2 pre-shared key given as bytes must have 32 bytes, got " + key.length);
    copyBytes(key, 0, out, 0, PSK_SIZE);
  }
  return out;
}

/**
 * The lifecycle's members and shared steps (start, receive, tick, disconnect, transportClosed)
 * are ../lifecycle.ts's Lifecycle, installed on the prototype below; the class adds the profile.
 * Tests reach the internal members through test/helpers/internals.ts.
 */
export interface ConnectionV2 extends Lifecycle<FramerV2, HandshakeV2, ConnectionV2Options> {}

export class ConnectionV2 {
  /**
   * Eight words both sides agree on once open, unique per session (HKDF label "lwstcp v2
   * exporter"); what getSessionKey shows in v2. Not a traffic key. Wiped to zeros when closed.
   */
  readonly sessionKey = new Uint32Array(KEY_WORDS);

  readonly psk: Uint8Array | null;
  /** The client's own id, or on the server the id its peer named (null: none, or not yet known). */
  deviceId: string | null;
  readonly sending: RecordDirection;
  readonly receiving: RecordDirection;
  smallOut: Uint8Array | null = null;
  smallView: Uint8Array | null = null;
  /** Keep-alive and Disconnect are sealed here, so they never disturb a message being built in `out`. */
  readonly controlOut = new Uint8Array(RECORD_AT + CONTROL_RECORD_SIZE);
  readonly controlView: Uint8Array;
  /** out[RECORD_AT ..]: what the sink gets (the head room in front is the record layer's). */
  outView: Uint8Array;

  constructor(role: number, options: ConnectionV2Options, sink: ConnectionSink) {
    setUpLifecycle(this, role, options, sink);
    const server = role === ROLE_SERVER;
    const lookup = server && options.keyForDevice;
    if (!lookup && !options.preSharedKey) throw new Error("a v2 connection needs preSharedKey (or, on a server, keyForDevice)");
    this.psk = lookup ? null : pskBytes(options.preSharedKey as Uint32Array);
    const id = server ? null : options.deviceId || null;
    this.deviceId = id;
    // Until the keys exist, nothing larger than a handshake packet is held for the peer: the
    // framer takes only the expected handshake TYPE, and handshake packets are built at 0 in
    // the largest one this side sends (a ClientHello, with its id if it has one).
    this.framer = new FramerV2(this.bufferSize, role === ROLE_SERVER ? TYPE_V2_CLIENT_HELLO : TYPE_V2_SERVER_HELLO);
    this.sending = new RecordDirection(options.primitives);
    this.receiving = new RecordDirection(options.primitives);
    this.controlView = this.controlOut.subarray(RECORD_AT);
    this.out = this.outView = new Uint8Array(id ? CLIENT_HELLO_ID_HEADER_SIZE - 1 + id.length + CLIENT_HELLO_SIZE : CLIENT_HELLO_SIZE);
    this.handshake = new HandshakeV2(server, options.primitives, this.psk, options.random, id);
  }

  handshakePacket(packet: Uint8Array, size: number): void {
    const handshake = this.handshake as HandshakeV2;
    this.handshakeReply(handshake, handshake.receive(packet, 0, size, this.out, 0));
  }

  /** The key for the peer's id has been looked up (null: none): finish the server's handshake, unless the connection has ended meanwhile. */
  keyFound(handshake: HandshakeV2, key: Uint32Array | Uint8Array | null): void {
    if (this.handshake !== handshake || handshake.state !== V2_AWAITING_KEY) return;
    const psk = key ? pskBytes(key) : null;
    const reply = handshake.resume(psk, this.out, 0);
    if (psk) psk.fill(0);
    this.handshakeReply(handshake, reply);
  }

  handshakeReply(handshake: HandshakeV2, reply: number): void {
    if (reply < 0) return this.finish(handshake.reason);
    if (handshake.state === V2_AWAITING_KEY) {
      this.deviceId = handshake.deviceId;
      const self = this;
      (this.options.keyForDevice as NonNullable<ConnectionV2Options["keyForDevice"]>)(handshake.deviceId, function (key) {
        self.keyFound(handshake, key);
      });
      return;
    }
    if (reply > 0) this.write(reply);
    if (handshake.state !== V2_DONE) {
      // Only the client gets here, having answered the ServerHello.
      this.framer.expected = TYPE_V2_SERVER_FINISHED;
      return;
    }
    const keys = handshake.keys;
    this.deviceId = handshake.deviceId;
    if (handshake.isServer) {
      this.sending.setKeys(keys.s2cEncryption, keys.s2cMac);
      this.receiving.setKeys(keys.c2sEncryption, keys.c2sMac);
    } else {
      this.sending.setKeys(keys.c2sEncryption, keys.c2sMac);
      this.receiving.setKeys(keys.s2cEncryption, keys.s2cMac);
    }
    for (let i = 0; i < KEY_WORDS; i++) this.sessionKey[i] = readU32LE(keys.exporter, i * 4);
    handshake.wipe();
    this.out = this.smallOut = new Uint8Array(RECORD_AT + Math.max(recordSize(this.bufferSize), 64));
    this.outView = this.smallView = this.smallOut.subarray(RECORD_AT);
    this.opened();
  }

  sessionPacket(packet: Uint8Array, size: number): void {
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
    copyBytes(bytes, from, this.prepareSend(length), RECORD_AT + RECORD_HEADER_SIZE, length);
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

  /** Seals and sends an empty record of `type` (Keep-Alive or Disconnect). */
  sendControl(type: number): void {
    const size = this.sending.seal(this.controlOut, type, 0);
    this.sink.write(this.controlView, size);
    this.lastSent = this.options.clock();
  }

  control(closing: boolean): void {
    this.sendControl(closing ? TYPE_V2_DISCONNECT : TYPE_V2_KEEP_ALIVE);
  }

  write(size: number): void {
    this.sink.write(this.outView, size);
    this.lastSent = this.options.clock();
  }

  wipe(): void {
    if (this.handshake) this.handshake.wipe();
    this.sending.wipe();
    this.receiving.wipe();
    if (this.psk) this.psk.fill(0);
  }
}
installLifecycle(ConnectionV2.prototype);
