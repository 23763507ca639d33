// LightweightSecureServer: accepts TCP connections, runs the core's server handshake on
// each, and hands the application a Session for each one that verifies.
//
// Scale (10,000 sessions per process is the target): one poll timer per server ticks every
// connection, instead of timers per connection; per connection we hold a socket, a core
// Connection and a SocketDriver (plus a Session once open). Floods: concurrent
// handshakes and sessions are capped; a connection over a cap is destroyed at once,
// counted in `stats.refused` and reported as a 'refused' event, never an exception.
//
// Pressure without a key: when the handshake slots run short, the handshake that goes is the
// longest-silent one of the busiest address, not the newcomer (admission.ts decides; this file
// only acts), and a connection that has sent nothing is dropped after the shorter
// silentHandshakeTimeoutMs. With a key: every send queue counts against one server-wide
// budget, and a session whose queue has not moved for sendStallTimeoutMs ends with
// "send-stalled", so a peer that stops reading holds memory for a bounded time only.
//
// Device identity (profile v2, docs/DEVICE-IDENTITY.md): with `keys` or `keyForDevice` each
// device id has its own key (device-keys.ts decides which key a client gets); setKeys() swaps
// the table while running and ends the sessions whose device lost its key with "revoked".
//
// Events (each also a setOnX callback with the C++ name): 'started', 'stopped',
// 'handshakeStarted' (peer), 'handshakeSuccess' (result, session) and 'session' (session),
// 'handshakeFailed' (result), 'refused' ({peer, reason}), 'error' (error).

import { createServer, type Server, type Socket } from "node:net";
import { totalmem } from "node:os";
import { pollIntervalMs, REASON_HANDSHAKE_TIMEOUT, ROLE_SERVER, validateHandshakeTimeout, validateKeepAlive } from "../firmware/core/index.js";
import { Admission, addressGroup, type Pending } from "./admission.js";
import {
  type Credentials,
  connectionMaker,
  getProfile,
  invalidOption,
  type Profile,
  readSettings,
  type SecureOptions,
  type Settings,
  startCredentials,
  wipeCredentials,
} from "./config.js";
import { type DeviceKeyLookup, DeviceKeys, type DeviceKeyTable } from "./device-keys.js";
import { ERR_INVALID_OPTION, LwstcpError } from "./errors.js";
import { type HandshakeResult, handshakeFailure, handshakeSuccess } from "./handshake-result.js";
import { Notifier } from "./notifier.js";
import { REASON_REVOKED, REASON_SEND_STALLED, REFUSED_HANDSHAKE_LIMIT, REFUSED_SESSION_LIMIT, REFUSED_STOPPING } from "./reasons.js";
import { Session } from "./session.js";
import { type DriverOwner, formatPeer, normalizeAddress, type QueueBudget, SocketDriver } from "./socket-driver.js";

export interface ServerOptions extends SecureOptions {
  /** Address to listen on (default: all interfaces, as the C++ server). */
  host?: string;
  /**
   * Handshake slots (default 4096). A newcomer beyond them is admitted and the longest-silent
   * handshake of the address holding the most pending ones is dropped (reason "handshake-limit").
   */
  maxHandshakes?: number;
  /** Most pending handshakes from one address, an IPv6 /64 counting as one (default 1024); more are refused ("address-limit"). */
  maxHandshakesPerAddress?: number;
  /** Drop a handshake whose peer has sent nothing at all for this long (default 2000 ms; reason "handshake-timeout"). */
  silentHandshakeTimeoutMs?: number;
  /** Sends are refused (ERR_LWSTCP_SEND_QUEUE_FULL) once all sessions' queues together hold this many wire bytes (default: 1/8 of the machine's memory). */
  queueBudgetBytes?: number;
  /** End a session ("send-stalled") whose queued bytes have not been taken by the socket for this long (default 20000 ms; -1 disables). */
  sendStallTimeoutMs?: number;
  /** Most connections (handshaking + open sessions) at once (default 10000); more are refused. */
  maxSessions?: number;
  /** listen() backlog (default 1024; the OS may cap it). */
  backlog?: number;
  /**
   * Profile v2: a key per device id ({ "kitchen-1": key, … }). A client without an id then gets
   * `key` if there is one, else is refused ("unknown-device"), as is an id not in the table.
   */
  keys?: DeviceKeyTable;
  /** Profile v2, instead of `keys`: the key for an id, or undefined; may return a Promise (bounded by the handshake timeout). */
  keyForDevice?: DeviceKeyLookup;
}

/** What setKeys() did. */
export interface KeysChange {
  /** Devices in the new table. */
  devices: number;
  /** Open sessions ended "revoked": their device is no longer in the table, or has another key. */
  revoked: number;
}

export const DEFAULT_MAX_HANDSHAKES = 4096;
export const DEFAULT_MAX_SESSIONS = 10000;
/**
 * A quarter of the handshake slots: a fleet behind one NAT reconnecting at once stays far
 * below it (`lwstcp-bench --mode handshake --sessions 100` from one address holds at most
 * 100), while one address alone can never hold every slot. Eviction, not this cap, is what
 * keeps a flood from starving others; this only bounds what one address costs.
 */
export const DEFAULT_MAX_HANDSHAKES_PER_ADDRESS = 1024;
/**
 * 2 s. An honest peer answers our first packet within a round trip plus its compute time:
 * an ESP32 needs up to a few hundred ms for the v1 Response (XTEA in the interpreter) or the
 * v2 ClientHello (native SHA-256), a Wi-Fi round trip adds tens to a few hundred ms, and a
 * lost segment costs one retransmission (Linux's minimum RTO is 200 ms). 2 s covers all of
 * that with margin, and frees a silent connection's slot 2.5 times sooner than the 5 s
 * handshake timeout, which still bounds peers that send something but never finish.
 */
export const DEFAULT_SILENT_HANDSHAKE_TIMEOUT_MS = 2000;
/**
 * 20 s. Longer than TCP needs to recover a lossy Wi-Fi link (six retransmissions from a 200 ms
 * RTO back off to ≈ 12.6 s), shorter than the 30 s inactivity timeout that a peer sending
 * KeepAlives while never reading defeats.
 */
export const DEFAULT_SEND_STALL_TIMEOUT_MS = 20000;
/**
 * One eighth of the machine's memory, for all send queues of one server together: queued
 * Buffers live outside the JS heap, so nothing else bounds them. Each --workers process has
 * its own budget.
 */
export function defaultQueueBudgetBytes(): number {
  return Math.floor(totalmem() / 8);
}

export interface RefusedConnection {
  peer: string;
  reason: string;
}

/** Counters since construction: what a monitor or a flood test reads. */
export interface ServerStats {
  accepted: number;
  refused: number;
  /** Pending handshakes dropped to admit a newcomer from a less busy address. */
  evicted: number;
  /** Sessions ended "send-stalled". */
  stalled: number;
  handshakesSucceeded: number;
  handshakesFailed: number;
  sessionsEnded: number;
}

function limit(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new LwstcpError(ERR_INVALID_OPTION, name + " must be a whole number >= 1, got " + String(value));
  return value;
}

export class LightweightSecureServer extends Notifier implements DriverOwner {
  readonly stats: ServerStats = { accepted: 0, refused: 0, evicted: 0, stalled: 0, handshakesSucceeded: 0, handshakesFailed: 0, sessionsEnded: 0 };
  private readonly requestedPort: number;
  private readonly host: string | undefined;
  private readonly settings: Settings;
  private readonly maxHandshakes: number;
  private readonly maxSessions: number;
  private readonly backlog: number;
  private readonly sendStallTimeoutMs: number;
  private readonly silentTimeoutMs: number;
  private readonly admission: Admission<SocketDriver>;
  private readonly budget: QueueBudget;
  private readonly deviceKeys: DeviceKeys;
  private net: Server | null = null;
  /** The profile and key material while started. */
  private credentials: Credentials | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private silentTimer: NodeJS.Timeout | null = null;
  /** Every connection whose socket is not closed yet. */
  private readonly drivers = new Set<SocketDriver>();
  private readonly openSessions = new Set<Session>();
  private handshaking = 0;
  private stopping: Promise<void> | null = null;
  private onServerStarted: (() => void) | null = null;
  private onServerStopped: (() => void) | null = null;
  private onHandshakeStarted: ((peer: string) => void) | null = null;
  private onHandshakeSuccess: ((result: HandshakeResult, session: Session) => void) | null = null;
  private onHandshakeFailed: ((result: HandshakeResult) => void) | null = null;

  constructor(port: number, options: ServerOptions = {}) {
    super();
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new LwstcpError(ERR_INVALID_OPTION, "port must be a whole number from 0 to 65535, got " + String(port));
    this.requestedPort = port;
    this.host = options.host;
    this.settings = readSettings(options);
    this.maxHandshakes = limit("maxHandshakes", options.maxHandshakes, DEFAULT_MAX_HANDSHAKES);
    this.maxSessions = limit("maxSessions", options.maxSessions, DEFAULT_MAX_SESSIONS);
    this.backlog = limit("backlog", options.backlog, 1024);
    this.silentTimeoutMs = limit("silentHandshakeTimeoutMs", options.silentHandshakeTimeoutMs, DEFAULT_SILENT_HANDSHAKE_TIMEOUT_MS);
    this.admission = new Admission({
      maxHandshakes: this.maxHandshakes,
      maxPerGroup: limit("maxHandshakesPerAddress", options.maxHandshakesPerAddress, DEFAULT_MAX_HANDSHAKES_PER_ADDRESS),
      silentTimeoutMs: this.silentTimeoutMs,
    });
    this.budget = { used: 0, limit: limit("queueBudgetBytes", options.queueBudgetBytes, defaultQueueBudgetBytes()) };
    this.deviceKeys = new DeviceKeys(options.keys, options.keyForDevice);
    this.deviceKeys.onError = (error) => this.reportError(error);
    const stall = options.sendStallTimeoutMs;
    this.sendStallTimeoutMs = stall === -1 ? -1 : limit("sendStallTimeoutMs (or -1)", stall, DEFAULT_SEND_STALL_TIMEOUT_MS);
  }

  /** The profile in use while started; before, the one start() would use. */
  get profile(): Profile {
    return this.credentials ? this.credentials.profile : (this.settings.profile ?? getProfile());
  }

  /** The port listened on (the OS's choice when constructed with port 0); 0 before start. */
  get port(): number {
    const address = this.net && this.net.address();
    return address && typeof address === "object" ? address.port : 0;
  }

  get isRunning(): boolean {
    return this.net !== null && this.net.listening && !this.stopping;
  }

  get sessionCount(): number {
    return this.openSessions.size;
  }

  get handshakeCount(): number {
    return this.handshaking;
  }

  /** Wire bytes waiting in all send queues together (what queueBudgetBytes caps). */
  get queuedBytes(): number {
    return this.budget.used;
  }

  /** The server-wide send-queue budget in bytes. */
  get queueBudgetBytes(): number {
    return this.budget.limit;
  }

  /** The open sessions, as a snapshot. */
  get sessions(): Session[] {
    return Array.from(this.openSessions);
  }

  /**
   * Keep-alive interval and inactivity timeout (-1 disables it) for connections accepted
   * from now on, validated as PROTOCOL.md says.
   */
  setKeepAliveConfig(intervalMs: number, timeoutMs: number): void {
    invalidOption(() => validateKeepAlive(intervalMs, timeoutMs));
    this.settings.keepAliveIntervalMs = intervalMs;
    this.settings.inactivityTimeoutMs = timeoutMs;
    this.restartPollTimer();
  }

  setHandshakeTimeout(timeoutMs: number): void {
    invalidOption(() => validateHandshakeTimeout(timeoutMs));
    this.settings.handshakeTimeoutMs = timeoutMs;
    this.restartPollTimer();
  }

  /**
   * Replaces the per-device keys (profile v2) without dropping sessions: a bad table throws
   * ERR_LWSTCP_INVALID_OPTION and changes nothing; each open session whose device is no longer
   * in the table, or has another key in it, is sent Disconnect and ends with reason "revoked".
   */
  setKeys(keys: DeviceKeyTable): KeysChange {
    if (this.profile !== "v2") throw new LwstcpError(ERR_INVALID_OPTION, "setKeys needs profile v2: the v1 wire format cannot carry a device id");
    this.deviceKeys.setTable(keys);
    let revoked = 0;
    for (const driver of Array.from(this.drivers)) {
      const session = driver.attachment as Session | null;
      if (!session || !driver.connection.isOpen || this.deviceKeys.stillGranted(driver, session.deviceId ?? null)) continue;
      revoked++;
      try {
        driver.connection.disconnect(REASON_REVOKED);
      } catch (thrown) {
        driver.fault(thrown);
      }
    }
    return { devices: this.deviceKeys.size, revoked };
  }

  /** Starts listening. Rejects with ERR_LWSTCP_NO_HANDSHAKE_KEY when no key was given, or with the listen error. */
  start(): Promise<void> {
    if (this.net) return Promise.reject(new LwstcpError(ERR_INVALID_OPTION, "the server is already started"));
    let credentials: Credentials;
    try {
      credentials = startCredentials(this.settings, "LightweightSecureServer", { deviceKeys: this.deviceKeys });
    } catch (err) {
      return Promise.reject(err);
    }
    this.credentials = credentials;
    const net = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.net = net;
    return new Promise<void>((resolve, reject) => {
      const failed = (error: Error) => {
        this.net = null;
        wipeCredentials(credentials);
        this.deviceKeys.wipe();
        this.credentials = null;
        reject(error);
      };
      net.once("error", failed);
      net.listen({ port: this.requestedPort, host: this.host, backlog: this.backlog }, () => {
        net.removeListener("error", failed);
        net.on("error", (error) => this.reportError(error));
        this.restartPollTimer();
        this.notify(this.onServerStarted, "started");
        resolve();
      });
    });
  }

  /**
   * Stops accepting, sends Disconnect to every session (handshakes in progress are
   * aborted), and resolves when every socket has closed (bounded by closeGraceMs).
   */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    const net = this.net;
    if (!net) return Promise.resolve();
    this.stopping = new Promise<void>((resolve) => {
      net.close(() => {
        if (this.pollTimer) clearInterval(this.pollTimer);
        this.pollTimer = null;
        if (this.silentTimer) clearInterval(this.silentTimer);
        this.silentTimer = null;
        wipeCredentials(this.credentials);
        this.deviceKeys.wipe();
        this.credentials = null;
        this.net = null;
        this.stopping = null;
        this.notify(this.onServerStopped, "stopped");
        resolve();
      });
      for (const driver of this.drivers) {
        try {
          driver.connection.disconnect();
        } catch (thrown) {
          driver.fault(thrown);
        }
      }
    });
    return this.stopping;
  }

  private restartPollTimer(): void {
    if (!this.net) return;
    if (this.pollTimer) clearInterval(this.pollTimer);
    const s = this.settings;
    let interval = pollIntervalMs(s.keepAliveIntervalMs, s.inactivityTimeoutMs, s.handshakeTimeoutMs);
    if (this.sendStallTimeoutMs > 0) interval = Math.min(interval, Math.max(5, Math.floor(this.sendStallTimeoutMs / 4)));
    this.pollTimer = setInterval(() => this.poll(), interval);
    // The listening socket keeps the process alive; the timer alone must not.
    this.pollTimer.unref();
    if (!this.silentTimer) {
      // Only walks the connections that have sent nothing, oldest first: cheap at any rate.
      this.silentTimer = setInterval(() => this.dropSilent(), Math.max(5, Math.min(1000, Math.floor(this.silentTimeoutMs / 4))));
      this.silentTimer.unref();
    }
  }

  private poll(): void {
    const stallMs = this.sendStallTimeoutMs;
    const now = Date.now();
    for (const driver of this.drivers) {
      try {
        driver.connection.tick();
        if (stallMs > 0 && driver.connection.isOpen && driver.stalledFor(now) >= stallMs) {
          this.stats.stalled++;
          driver.abort(REASON_SEND_STALLED);
        }
      } catch (thrown) {
        driver.fault(thrown);
      }
    }
  }

  private dropSilent(): void {
    for (const driver of this.admission.takeSilent(Date.now())) {
      driver.pending = null;
      try {
        driver.abort(REASON_HANDSHAKE_TIMEOUT);
      } catch (thrown) {
        driver.fault(thrown);
      }
    }
  }

  private accept(socket: Socket): void {
    const peer = formatPeer(socket.remoteAddress, socket.remotePort);
    const group = addressGroup(normalizeAddress(socket.remoteAddress));
    let refusal = "";
    if (this.stopping || !this.credentials) refusal = REFUSED_STOPPING;
    else if (this.handshaking + this.openSessions.size >= this.maxSessions) refusal = REFUSED_SESSION_LIMIT;
    else refusal = this.admission.refusal(group);
    if (refusal) {
      this.stats.refused++;
      // A refused socket may still report an error (a reset); it must not go unhandled.
      socket.on("error", () => {});
      socket.destroy();
      this.notify(null, "refused", { peer, reason: refusal } satisfies RefusedConnection);
      return;
    }
    this.stats.accepted++;
    const s = this.settings;
    let driver: SocketDriver;
    try {
      driver = new SocketDriver(socket, ROLE_SERVER, connectionMaker(this.credentials as Credentials, s), this, s.closeGraceMs, peer);
    } catch (thrown) {
      socket.on("error", () => {});
      socket.destroy();
      this.reportError(thrown as Error);
      return;
    }
    driver.budget = this.budget;
    const verdict = this.admission.admit(driver, group, Date.now());
    driver.pending = verdict.admitted;
    this.drivers.add(driver);
    this.handshaking++;
    const evicted = verdict.evicted;
    if (evicted) {
      this.stats.evicted++;
      evicted.pending = null;
      try {
        evicted.abort(REFUSED_HANDSHAKE_LIMIT);
      } catch (thrown) {
        evicted.fault(thrown);
      }
    }
    this.notify(this.onHandshakeStarted, "handshakeStarted", peer);
    try {
      driver.connection.start();
    } catch (thrown) {
      driver.fault(thrown);
    }
  }

  private release(driver: SocketDriver): void {
    const pending = driver.pending as Pending<SocketDriver> | null;
    driver.pending = null;
    if (pending) this.admission.release(pending);
  }

  // ---- DriverOwner ----

  heard(driver: SocketDriver): void {
    this.admission.heard(driver.pending as Pending<SocketDriver>, Date.now());
  }

  handshakeSucceeded(driver: SocketDriver): void {
    this.release(driver);
    this.handshaking--;
    this.stats.handshakesSucceeded++;
    const session = new Session(driver, this, this.settings.maxQueuedBytes);
    session.deviceId = (driver.connection as { deviceId?: string | null }).deviceId ?? undefined;
    driver.attachment = session;
    this.openSessions.add(session);
    this.notify(this.onHandshakeSuccess, "handshakeSuccess", handshakeSuccess(driver), session);
    this.notify(null, "session", session);
  }

  handshakeFailed(driver: SocketDriver, reason: string): void {
    this.release(driver);
    this.handshaking--;
    this.stats.handshakesFailed++;
    this.notify(this.onHandshakeFailed, "handshakeFailed", handshakeFailure(driver, reason));
  }

  message(driver: SocketDriver, bytes: Buffer): void {
    (driver.attachment as Session)._message(bytes);
  }

  ended(driver: SocketDriver, reason: string): void {
    const session = driver.attachment as Session;
    this.openSessions.delete(session);
    this.stats.sessionsEnded++;
    session._ended(reason);
  }

  closed(driver: SocketDriver): void {
    this.drivers.delete(driver);
  }

  drain(driver: SocketDriver): void {
    const session = driver.attachment as Session | null;
    if (session) session._drain();
  }

  error(driver: SocketDriver, error: Error, soft: boolean): void {
    if (!(error as LwstcpError).peer) (error as LwstcpError).peer = driver.peer;
    const session = driver.attachment as Session | null;
    if (session) session.reportError(error, soft);
    else this.reportError(error, soft);
  }

  // ---- C++-named callbacks ----

  setOnServerStarted(callback: (() => void) | null): void {
    this.onServerStarted = callback;
  }

  setOnServerStopped(callback: (() => void) | null): void {
    this.onServerStopped = callback;
  }

  setOnHandshakeStarted(callback: ((peer: string) => void) | null): void {
    this.onHandshakeStarted = callback;
  }

  setOnHandshakeSuccess(callback: ((result: HandshakeResult, session: Session) => void) | null): void {
    this.onHandshakeSuccess = callback;
  }

  setOnHandshakeFailed(callback: ((result: HandshakeResult) => void) | null): void {
    this.onHandshakeFailed = callback;
  }
}
