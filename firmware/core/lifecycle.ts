// The connection lifecycle both profiles share: states, roles, the sink a driver implements,
// timing defaults and their checks, and the steps that are the same whatever the wire looks
// like — start, receive, tick, disconnect, transportClosed, finish — written once.
//
//   HANDSHAKING ──(handshake done: opened())──▶ OPEN ──(Disconnect sent or received, peer
//        │                                       │     closed, inactivity, protocol error)
//        │ the profile's handshake failures,     ▼
//        │ handshake-timeout, peer-closed       CLOSED   sink.ended(reason)
//        └──────────────────────────────────▶  CLOSED   sink.handshakeFailed(reason)
//
// A profile (connection.ts for v1, v2/connection.ts) keeps only what differs: its handshake,
// its record layer (sending and opening packets), its control packets and what it wipes.
// Espruino runs our ES5 without TypeScript's `extends` helper, so the shared steps are plain
// functions that installLifecycle() puts on each profile's prototype: one copy in a bundle,
// no forwarding call per packet. Every way into CLOSED goes through finish(): the socket is
// closed exactly once, keys are wiped, and exactly one of handshakeFailed / ended is reported.

import type { RandomFill } from "./bytes.js";
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_INACTIVITY_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_INTERVAL_MS,
  NO_INACTIVITY_TIMEOUT,
  REASON_HANDSHAKE_TIMEOUT,
  REASON_INACTIVITY_TIMEOUT,
  REASON_LOCAL_DISCONNECT,
  REASON_PEER_CLOSED,
} from "./constants.js";
import { OWNS_CHUNKS } from "./inputs.js";
import { validateHandshakeTimeout, validateKeepAlive } from "./keys.js";

export const ROLE_SERVER = 0;
export const ROLE_CLIENT = 1;

export const STATE_HANDSHAKING = 0;
export const STATE_OPEN = 1;
export const STATE_CLOSED = 2;

/** Initial payload size of a session's receive and send buffers. */
export const DEFAULT_BUFFER_SIZE = 264;

/** The options every profile takes besides its key material. */
export interface LifecycleOptions {
  /** Cryptographic randomness: nonces, session keys, padding. */
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

/** The driver-facing surface of a connection of either profile. */
export interface ProtocolConnection {
  readonly state: number;
  readonly reason: string;
  readonly isOpen: boolean;
  readonly sessionKey: Uint32Array;
  readonly role: number;
  readonly keepAliveIntervalMs: number;
  readonly inactivityTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  start(): void;
  receive(chunk: Uint8Array | string): void;
  tick(): void;
  sendBytes(bytes: Uint8Array, from: number, length: number): number;
  sendByteString(text: string): number;
  /** `reason` (default local-disconnect) is what the session's end reports. */
  disconnect(reason?: string): void;
  transportClosed(reason?: string): void;
}

/** Builds a connection of one profile; what a chosen profile carries to every driver. */
export type ConnectionFactory<O> = (role: number, options: O, sink: ConnectionSink) => ProtocolConnection;

/** The pull framer both profiles' framers are (framer-core.ts). */
export interface LifecycleFramer {
  packet: Uint8Array;
  error: string;
  feed(chunk: Uint8Array | string): void;
  next(): number;
  open(): void;
}

/** A profile's handshake as the lifecycle starts it: `start` writes the server's first packet into `out` at 0. */
export interface LifecycleHandshake {
  readonly isServer: boolean;
  start(out: Uint8Array, at: number): number;
}

/**
 * What the shared steps read and write on a profile's connection, and the steps each profile
 * supplies. Members beyond ProtocolConnection are internal to the core (the bundle mangles them).
 */
export interface Lifecycle<
  F extends LifecycleFramer = LifecycleFramer,
  H extends LifecycleHandshake = LifecycleHandshake,
  O extends LifecycleOptions = LifecycleOptions,
> extends ProtocolConnection {
  state: number;
  /** state === STATE_OPEN, kept as a field: a getter costs the device bundle ~90 bytes. */
  isOpen: boolean;
  reason: string;
  role: number;
  keepAliveIntervalMs: number;
  inactivityTimeoutMs: number;
  handshakeTimeoutMs: number;
  sessionKey: Uint32Array;
  options: O;
  sink: ConnectionSink;
  bufferSize: number;
  framer: F;
  /** Present while handshaking. */
  handshake: H | null;
  out: Uint8Array;
  startedAt: number;
  lastSent: number;
  lastReceived: number;
  /** A whole packet while handshaking: answer it, fail, or call opened(). */
  handshakePacket(packet: Uint8Array, size: number): void;
  /** A whole packet of the open session. */
  sessionPacket(packet: Uint8Array, size: number): void;
  /**
   * On the device (inputs.ts): handles a chunk that is exactly one whole packet of the open
   * session where it lies, without the framer; false when the chunk is not such a packet.
   */
  openInPlace?(chunk: Uint8Array | string): boolean;
  /** Sends `out`'s first `size` bytes and notes the time. */
  write(size: number): void;
  /** Sends the profile's Keep-Alive, or its Disconnect when `closing`, and notes the time. */
  control(closing: boolean): void;
  /** Forgets the profile's secrets (session keys, handshake state). */
  wipe(): void;
  finish(reason: string, socketGone?: boolean): void;
  opened(): void;
}

function orDefault(value: number | undefined, fallback: number): number {
  return value === undefined ? fallback : value;
}

/** A timer period that notices every deadline of these settings promptly without busy polling. */
export function pollIntervalMs(keepAliveIntervalMs: number, inactivityTimeoutMs: number, handshakeTimeoutMs: number): number {
  let shortest = Math.min(keepAliveIntervalMs, handshakeTimeoutMs);
  if (inactivityTimeoutMs !== NO_INACTIVITY_TIMEOUT) shortest = Math.min(shortest, inactivityTimeoutMs);
  return Math.max(5, Math.min(1000, Math.floor(shortest / 4)));
}

/** The constructor's shared part: role, timings (defaulted and checked), buffers' size, clocks. */
export function setUpLifecycle(c: Lifecycle, role: number, options: LifecycleOptions, sink: ConnectionSink): void {
  if (role !== ROLE_SERVER && role !== ROLE_CLIENT) throw new Error("role must be ROLE_SERVER or ROLE_CLIENT, got " + role);
  c.state = STATE_HANDSHAKING;
  c.isOpen = false;
  c.reason = "";
  c.role = role;
  c.options = options;
  c.sink = sink;
  c.keepAliveIntervalMs = orDefault(options.keepAliveIntervalMs, DEFAULT_KEEP_ALIVE_INTERVAL_MS);
  c.inactivityTimeoutMs = orDefault(options.inactivityTimeoutMs, DEFAULT_INACTIVITY_TIMEOUT_MS);
  c.handshakeTimeoutMs = orDefault(options.handshakeTimeoutMs, DEFAULT_HANDSHAKE_TIMEOUT_MS);
  validateKeepAlive(c.keepAliveIntervalMs, c.inactivityTimeoutMs);
  validateHandshakeTimeout(c.handshakeTimeoutMs);
  c.bufferSize = options.bufferSize || DEFAULT_BUFFER_SIZE;
  c.startedAt = c.lastSent = c.lastReceived = options.clock();
}

/** Begins the handshake: the server sends its first packet; the client waits for it. */
function start(this: Lifecycle): void {
  this.startedAt = this.options.clock();
  const handshake = this.handshake;
  if (handshake && handshake.isServer && this.state === STATE_HANDSHAKING) this.write(handshake.start(this.out, 0));
}

/** Feeds bytes received from the socket (a Uint8Array, or a binary string on Espruino). */
function receive(this: Lifecycle, chunk: Uint8Array | string): void {
  if (this.state === STATE_CLOSED) return;
  // Asked from here, not by wrapping receive: on the 2v29 interpreter a receive that wrapped
  // this one kept every closed connection's socket alive (seen: 357 JsVars a reconnect).
  if (OWNS_CHUNKS && this.openInPlace && this.openInPlace(chunk)) return;
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

/**
 * Checks the clock: handshake timeout, inactivity timeout, and keep-alive due. Drivers call it
 * every pollIntervalMs(); calling it more often is harmless.
 */
function tick(this: Lifecycle): void {
  const now = this.options.clock();
  if (this.state === STATE_HANDSHAKING) {
    if (now - this.startedAt >= this.handshakeTimeoutMs) this.finish(REASON_HANDSHAKE_TIMEOUT);
  } else if (this.state === STATE_OPEN) {
    if (this.inactivityTimeoutMs !== NO_INACTIVITY_TIMEOUT && now - this.lastReceived >= this.inactivityTimeoutMs) {
      this.finish(REASON_INACTIVITY_TIMEOUT);
    } else if (now - this.lastSent >= this.keepAliveIntervalMs) {
      this.control(false);
    }
  }
}

/** Ends the connection on purpose: an open session sends its Disconnect first. */
function disconnect(this: Lifecycle, reason?: string): void {
  if (this.state === STATE_CLOSED) return;
  if (this.state === STATE_OPEN) this.control(true);
  this.finish(reason || REASON_LOCAL_DISCONNECT);
}

/** The socket closed or failed underneath us (`reason` defaults to peer-closed). */
function transportClosed(this: Lifecycle, reason?: string): void {
  if (this.state !== STATE_CLOSED) this.finish(reason || REASON_PEER_CLOSED, true);
}

/** The handshake is done and the profile holds its session keys: frame the session. */
function opened(this: Lifecycle): void {
  this.handshake = null;
  this.framer.open();
  this.state = STATE_OPEN;
  this.isOpen = true;
  this.lastReceived = this.options.clock();
  this.sink.handshakeSucceeded();
}

function finish(this: Lifecycle, reason: string, socketGone?: boolean): void {
  const wasOpen = this.state === STATE_OPEN;
  this.state = STATE_CLOSED;
  this.isOpen = false;
  this.reason = reason;
  this.wipe();
  this.handshake = null;
  this.sessionKey.fill(0);
  if (!socketGone) this.sink.close();
  if (wasOpen) this.sink.ended(reason);
  else this.sink.handshakeFailed(reason);
}

/** Puts the shared steps on a profile's prototype (its class declares them). */
export function installLifecycle(prototype: Lifecycle): void {
  prototype.start = start;
  prototype.receive = receive;
  prototype.tick = tick;
  prototype.disconnect = disconnect;
  prototype.transportClosed = transportClosed;
  prototype.opened = opened;
  prototype.finish = finish;
}
