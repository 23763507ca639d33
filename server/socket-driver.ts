// The thin Node driver around one core Connection: moves bytes between a net.Socket and
// the Connection, and turns the core's sink calls into calls on an owner (the server for
// all its connections, or the client). One owner object serves every connection, so a
// connection costs its socket, its Connection and this object, and no closures per event
// beyond the three socket listeners.
//
// Timers are not here: the owner calls `connection.tick()` from one shared poll timer.
//
// Send-queue bookkeeping for the server: every write carries one callback (a method bound once
// per connection), which keeps a server-wide QueueBudget in step with this socket's queue and
// notes when the socket last took bytes, so the owner can end a peer that stopped reading.

import type { Socket } from "node:net";
import {
  type ConnectionSink,
  messagePacketSize,
  REASON_DISCONNECT,
  REASON_LOCAL_DISCONNECT,
  REASON_PEER_CLOSED,
  REASON_SOCKET_ERROR,
  STATE_CLOSED,
} from "../firmware/core/index.js";
import type { ProtocolConnection } from "../firmware/core/lifecycle.js";
import { ConnectionV2 } from "../firmware/core/v2/connection.js";
import { recordSize } from "../firmware/core/v2/constants.js";
import type { ConnectionMaker } from "./config.js";
import { asError, ERR_INTERNAL } from "./errors.js";
import { REASON_INTERNAL_ERROR, REASON_REVOKED } from "./reasons.js";

export interface DriverOwner {
  handshakeSucceeded(driver: SocketDriver): void;
  handshakeFailed(driver: SocketDriver, reason: string): void;
  message(driver: SocketDriver, bytes: Buffer): void;
  ended(driver: SocketDriver, reason: string): void;
  /** The socket is fully closed; the driver is done. */
  closed(driver: SocketDriver): void;
  drain(driver: SocketDriver): void;
  /** A socket error (`soft`: the connection's end reason already tells) or an internal fault. */
  error(driver: SocketDriver, error: Error, soft: boolean): void;
  /** Bytes arrived while `driver.pending` is set (the server's admission entry). */
  heard?(driver: SocketDriver): void;
}

/** Bytes queued on the sockets of one server, against its limit (wire bytes, not yet taken by the kernel). */
export interface QueueBudget {
  used: number;
  readonly limit: number;
}

/** Socket errors that just mean "the peer went away": reported as peer-closed, not as errors. */
const PEER_GONE_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);

/** The 1-byte packets (KeepAlive, Disconnect) as Buffers, by TYPE: written as they are, never copied. */
const ONE_BYTE_PACKETS: Buffer[] = [];

/**
 * Fair reading. A chunk this large means the peer is streaming; such chunks are processed at
 * most one per socket and TURN_BYTES in all per turn of the event loop, and a socket over
 * either waits (its chunk put back) for the next turn. Without it, peers that push at full
 * speed (libuv reads up to 32 chunks per socket per turn) make every turn long, and honest
 * handshakes, which need a few turns, wait behind them. Small chunks are never held back.
 */
const STREAMING_CHUNK_BYTES = 16 * 1024;
/** About 5 ms of XTEA work (decrypt and echo) per turn. */
const TURN_BYTES = 256 * 1024;
let turnBytes = 0;
let turnArmed = false;
const heldBack: Socket[] = [];

function nextTurn(): void {
  turnArmed = false;
  turnBytes = 0;
  for (const socket of heldBack.splice(0)) if (!socket.destroyed) socket.resume();
}

function holdBack(socket: Socket): void {
  socket.pause();
  heldBack.push(socket);
  if (!turnArmed) {
    turnArmed = true;
    setImmediate(nextTurn);
  }
}

/** "ip:port", with IPv4-mapped IPv6 addresses shown as plain IPv4 and IPv6 in brackets. */
export function formatPeer(address: string | undefined, port: number | undefined): string {
  const ip = normalizeAddress(address);
  return (ip.indexOf(":") >= 0 ? "[" + ip + "]" : ip) + ":" + (port ?? 0);
}

export function normalizeAddress(address: string | undefined): string {
  if (!address) return "unknown";
  return address.startsWith("::ffff:") && address.indexOf(".") > 0 ? address.slice(7) : address;
}

export class SocketDriver implements ConnectionSink {
  readonly socket: Socket;
  /** A connection of the instance's profile, made by the credentials' factory. */
  readonly connection: ProtocolConnection;
  readonly owner: DriverOwner;
  /** Peer as "ip:port" (the server's view) or the server's address (the client's view). */
  peer: string;
  /** The remote IP and port, captured while the socket is alive (they read as undefined after it closes). */
  address: string;
  port: number;
  /** Whatever the owner wants to hang on the connection (the server's Session). */
  attachment: unknown = null;
  /** False after a socket.write returned false, until 'drain': the caller should wait. */
  writable = true;
  socketClosed = false;
  /** The server's budget this socket's queue counts against (null: none, as on the client). */
  budget: QueueBudget | null = null;
  /** The owner's bookkeeping while the handshake is pending (the server's admission entry). */
  pending: unknown = null;
  /** When the socket last took queued bytes, or when its queue last went from empty to not. */
  progressAt = 0;
  /** The handshake succeeded: what is queued when a protocol error ends it is still worth flushing. */
  private opened = false;
  /** This socket's share of budget.used. */
  private accounted = 0;
  private readonly written: (error?: Error | null) => void;
  private readonly closeGraceMs: number;
  private sentCallback: ((error?: Error | null) => void) | undefined = undefined;
  private socketError: Error | null = null;
  private graceTimer: NodeJS.Timeout | null = null;

  constructor(socket: Socket, role: number, connect: ConnectionMaker, owner: DriverOwner, closeGraceMs: number, peer: string) {
    this.socket = socket;
    this.owner = owner;
    this.closeGraceMs = closeGraceMs;
    this.peer = peer;
    this.address = normalizeAddress(socket.remoteAddress);
    this.port = socket.remotePort || 0;
    this.connection = connect(role, this);
    this.written = () => {
      this.progressAt = Date.now();
      this.account();
    };
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error: Error) => {
      this.socketError = error;
    });
    socket.on("close", () => this.onClose());
    socket.on("drain", () => {
      this.writable = true;
      this.owner.drain(this);
    });
  }

  /** The socket's error, if it failed. */
  get lastError(): Error | null {
    return this.socketError;
  }

  /** Bytes handed to the socket that the kernel has not taken yet. */
  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  /** Bytes a message of `length` bytes puts on the wire (header, padding, v2 IV and tag included). */
  wireSize(length: number): number {
    return this.connection instanceof ConnectionV2 ? recordSize(length) : messagePacketSize(length);
  }

  /** How long bytes have waited in the queue with none taken (0 when it is empty). */
  stalledFor(now: number): number {
    return this.socket.writableLength > 0 ? now - this.progressAt : 0;
  }

  /** Ends the connection at once with `reason`: nothing queued is delivered. */
  abort(reason: string): void {
    this.connection.transportClosed(reason);
    this.socket.destroy();
  }

  private account(): void {
    const budget = this.budget;
    if (!budget || this.socketClosed) return;
    const queued = this.socket.writableLength;
    budget.used += queued - this.accounted;
    this.accounted = queued;
  }

  /**
   * Sends one message. `onSent` (optional) runs once the packet has been handed to the
   * kernel. Returns false when the socket's buffer is full: the packet is queued and the
   * caller should wait for 'drain'. Throws the core's errors (not open, bad length).
   */
  send(bytes: Uint8Array, onSent?: (error?: Error | null) => void): boolean {
    this.sentCallback = onSent;
    try {
      this.connection.sendBytes(bytes, 0, bytes.length);
    } finally {
      this.sentCallback = undefined;
    }
    return this.writable;
  }

  private onData(chunk: Buffer): void {
    const streaming = chunk.length >= STREAMING_CHUNK_BYTES;
    if (streaming) {
      if (turnBytes >= TURN_BYTES) {
        // Over this turn's share: back into the socket's buffer, read again next turn.
        holdBack(this.socket);
        this.socket.unshift(chunk);
        return;
      }
      turnBytes += chunk.length;
    }
    if (this.pending !== null && this.owner.heard) this.owner.heard(this);
    try {
      this.connection.receive(chunk);
    } catch (thrown) {
      // The core should never throw on input; if it does, only this connection pays.
      this.fault(thrown);
    }
    if (streaming && !this.socket.destroyed) holdBack(this.socket);
  }

  /** Drops this connection after an unexpected exception, and reports it. */
  fault(thrown: unknown): void {
    this.owner.error(this, asError(thrown, ERR_INTERNAL, "internal error on connection " + this.peer), false);
    this.connection.transportClosed(REASON_INTERNAL_ERROR);
    this.socket.destroy();
  }

  private onClose(): void {
    if (this.budget) this.budget.used -= this.accounted;
    this.accounted = 0;
    this.socketClosed = true;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = null;
    const error = this.socketError;
    const peerGone = !error || PEER_GONE_CODES.has((error as NodeJS.ErrnoException).code || "");
    // A connection the protocol already closed has nothing left to report.
    if (this.connection.state !== STATE_CLOSED) {
      if (error && !peerGone) this.owner.error(this, error, true);
      this.connection.transportClosed(peerGone ? REASON_PEER_CLOSED : REASON_SOCKET_ERROR);
    }
    this.owner.closed(this);
  }

  // ---- ConnectionSink: called by the core, must not throw ----

  write(bytes: Uint8Array, length: number): void {
    const socket = this.socket;
    if (socket.destroyed || socket.writableEnded) return;
    let data: Buffer;
    if (length === 1) {
      // KeepAlive and Disconnect: one shared, never-changed Buffer per TYPE instead of a copy
      // per packet (10,000 idle sessions send thousands of KeepAlives a second).
      const type = bytes[0];
      data = ONE_BYTE_PACKETS[type] || (ONE_BYTE_PACKETS[type] = Buffer.from([type]));
    } else {
      data = Buffer.allocUnsafe(length);
      data.set(length === bytes.length ? bytes : bytes.subarray(0, length));
    }
    if (socket.writableLength === 0) this.progressAt = Date.now();
    const sent = this.sentCallback;
    const written = this.written;
    if (!socket.write(data, sent ? (error) => (written(), sent(error)) : written)) this.writable = false;
    this.account();
  }

  close(): void {
    const reason = this.connection.reason;
    if (reason === REASON_LOCAL_DISCONNECT || reason === REASON_DISCONNECT || reason === REASON_REVOKED) {
      // A clean end: let the queued bytes (our Disconnect included) reach the peer, but do
      // not wait forever for a peer that stopped reading.
      this.socket.end();
      this.graceTimer = setTimeout(() => this.socket.destroy(), this.closeGraceMs);
      this.graceTimer.unref();
    } else if (this.opened && this.socket.writableLength > 0) {
      // A protocol error after valid messages: what was sealed for them is on its way (an echo,
      // say), so let it go out, bounded by the grace time; nothing after the error is read.
      this.socket.end();
      this.graceTimer = setTimeout(() => this.socket.destroy(), this.closeGraceMs);
      this.graceTimer.unref();
    } else {
      // A failure before the session: nothing queued is worth delivering, and a flood should cost us nothing more.
      this.socket.destroy();
    }
  }

  handshakeSucceeded(): void {
    this.opened = true;
    this.owner.handshakeSucceeded(this);
  }

  handshakeFailed(reason: string): void {
    this.owner.handshakeFailed(this, reason);
  }

  message(bytes: Uint8Array, at: number, length: number): void {
    // The core reuses its buffer after this call: the application gets its own copy.
    const copy = Buffer.allocUnsafe(length);
    copy.set(bytes.subarray(at, at + length));
    this.owner.message(this, copy);
  }

  ended(reason: string): void {
    this.owner.ended(this, reason);
  }
}
