// LightweightSecureServer: accepts TCP connections, runs the core's server handshake on
// each, and hands the application a Session for each one that verifies.
//
// Scale (issue 7 wants 10,000 sessions per process): one poll timer per server ticks every
// connection, instead of timers per connection; per connection we hold a socket, a core
// Connection and a SocketDriver (plus a Session once open). Floods (issue 6): concurrent
// handshakes and sessions are capped; a connection over a cap is destroyed at once,
// counted in `stats.refused` and reported as a 'refused' event, never an exception.
//
// Events (each also a setOnX callback with the C++ name): 'started', 'stopped',
// 'handshakeStarted' (peer), 'handshakeSuccess' (result, session) and 'session' (session),
// 'handshakeFailed' (result), 'refused' ({peer, reason}), 'error' (error).

import { createServer, type Server, type Socket } from "node:net";
import { pollIntervalMs, ROLE_SERVER, validateHandshakeTimeout, validateKeepAlive } from "../firmware/core/index.js";
import {
  type Credentials,
  connectionOptions,
  getProfile,
  invalidOption,
  type Profile,
  readSettings,
  type SecureOptions,
  type Settings,
  startCredentials,
  wipeCredentials,
} from "./config.js";
import { ERR_INVALID_OPTION, LwstcpError } from "./errors.js";
import { type HandshakeResult, handshakeFailure, handshakeSuccess } from "./handshake-result.js";
import { Notifier } from "./notifier.js";
import { REFUSED_HANDSHAKE_LIMIT, REFUSED_SESSION_LIMIT, REFUSED_STOPPING } from "./reasons.js";
import { Session } from "./session.js";
import { type DriverOwner, formatPeer, SocketDriver } from "./socket-driver.js";

export interface ServerOptions extends SecureOptions {
  /** Address to listen on (default: all interfaces, as the C++ server). */
  host?: string;
  /** Most connections in the handshake at once (default 4096); more are refused. */
  maxHandshakes?: number;
  /** Most connections (handshaking + open sessions) at once (default 10000); more are refused. */
  maxSessions?: number;
  /** listen() backlog (default 1024; the OS may cap it). */
  backlog?: number;
}

export const DEFAULT_MAX_HANDSHAKES = 4096;
export const DEFAULT_MAX_SESSIONS = 10000;

export interface RefusedConnection {
  peer: string;
  reason: string;
}

/** Counters since construction: what a monitor or a flood test reads. */
export interface ServerStats {
  accepted: number;
  refused: number;
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
  readonly stats: ServerStats = { accepted: 0, refused: 0, handshakesSucceeded: 0, handshakesFailed: 0, sessionsEnded: 0 };
  private readonly requestedPort: number;
  private readonly host: string | undefined;
  private readonly settings: Settings;
  private readonly maxHandshakes: number;
  private readonly maxSessions: number;
  private readonly backlog: number;
  private net: Server | null = null;
  /** The profile and key material while started. */
  private credentials: Credentials | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
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

  /** Starts listening. Rejects with ERR_LWSTCP_NO_HANDSHAKE_KEY when no key was given, or with the listen error. */
  start(): Promise<void> {
    if (this.net) return Promise.reject(new LwstcpError(ERR_INVALID_OPTION, "the server is already started"));
    let credentials: Credentials;
    try {
      credentials = startCredentials(this.settings, "LightweightSecureServer");
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
        wipeCredentials(this.credentials);
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
    this.pollTimer = setInterval(() => this.poll(), pollIntervalMs(s.keepAliveIntervalMs, s.inactivityTimeoutMs, s.handshakeTimeoutMs));
    // The listening socket keeps the process alive; the timer alone must not.
    this.pollTimer.unref();
  }

  private poll(): void {
    for (const driver of this.drivers) {
      try {
        driver.connection.tick();
      } catch (thrown) {
        driver.fault(thrown);
      }
    }
  }

  private accept(socket: Socket): void {
    const peer = formatPeer(socket.remoteAddress, socket.remotePort);
    let refusal = "";
    if (this.stopping || !this.credentials) refusal = REFUSED_STOPPING;
    else if (this.handshaking >= this.maxHandshakes) refusal = REFUSED_HANDSHAKE_LIMIT;
    else if (this.handshaking + this.openSessions.size >= this.maxSessions) refusal = REFUSED_SESSION_LIMIT;
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
      driver = new SocketDriver(socket, ROLE_SERVER, connectionOptions(this.credentials as Credentials, s), this, s.closeGraceMs, peer);
    } catch (thrown) {
      socket.on("error", () => {});
      socket.destroy();
      this.reportError(thrown as Error);
      return;
    }
    this.drivers.add(driver);
    this.handshaking++;
    this.notify(this.onHandshakeStarted, "handshakeStarted", peer);
    try {
      driver.connection.start();
    } catch (thrown) {
      driver.fault(thrown);
    }
  }

  // ---- DriverOwner ----

  handshakeSucceeded(driver: SocketDriver): void {
    this.handshaking--;
    this.stats.handshakesSucceeded++;
    const session = new Session(driver, this, this.settings.maxQueuedBytes);
    driver.attachment = session;
    this.openSessions.add(session);
    this.notify(this.onHandshakeSuccess, "handshakeSuccess", handshakeSuccess(driver), session);
    this.notify(null, "session", session);
  }

  handshakeFailed(driver: SocketDriver, reason: string): void {
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
