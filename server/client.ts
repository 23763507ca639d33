// LightweightSecureClient: connects to a LightweightSecureTCP server (ours or the C++
// one), runs the client handshake, and then sends and receives messages. Callbacks carry
// the C++ client's names; the same outcomes are Node events: 'connected',
// 'handshakeSuccess' (result), 'handshakeFailed' (result), 'message' (text, bytes),
// 'disconnected' (reason), 'dataSent' (message), 'reconnecting' ({attempt, delayMs,
// reason}), 'drain', 'error' (error).
//
// connectToServer() resolves with the HandshakeResult (check `success`), like the C++
// call returning a bool: a refused or failed connection is an outcome, not an exception,
// so an unawaited call cannot crash the process with an unhandled rejection. It rejects
// only for misuse (no handshake key).
//
// With `autoReconnect`, a lost session or a failed attempt is retried after an
// exponentially growing, jittered delay until disconnect() is called; a pending
// connectToServer() promise then resolves at the first success.

import { connect } from "node:net";
import { pollIntervalMs, REASON_LOCAL_DISCONNECT, ROLE_CLIENT, validateKeepAlive } from "../firmware/core/index.js";
import { deviceIdProblem } from "../firmware/core/v2/constants.js";
import { type Backoff, type BackoffOptions, backoffDelay, readBackoff } from "./backoff.js";
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
import { ERR_INVALID_OPTION, LwstcpError } from "./errors.js";
import { type HandshakeResult, handshakeFailure, handshakeSuccess, makeResult } from "./handshake-result.js";
import { type Message, sendMessageOn } from "./message.js";
import { Notifier } from "./notifier.js";
import { type DriverOwner, formatPeer, normalizeAddress, SocketDriver } from "./socket-driver.js";

export interface ClientOptions extends SecureOptions {
  /** Reconnect after a lost session or failed attempt: true for the defaults, or the backoff to use. Off by default. */
  autoReconnect?: boolean | BackoffOptions;
  /** Local address to connect from (default: the OS's choice), e.g. one of several on a multi-homed host. */
  localAddress?: string;
  /**
   * Profile v2: the id this client names itself by in the handshake (1..32 characters
   * 0x21..0x7E, sent in the clear), so a server with per-device keys picks its key. Not with v1.
   */
  deviceId?: string;
}

export interface ReconnectInfo {
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  /** Why the previous connection ended. */
  reason: string;
}

interface Pending {
  promise: Promise<HandshakeResult>;
  resolve: (result: HandshakeResult) => void;
}

export class LightweightSecureClient extends Notifier implements DriverOwner {
  readonly host: string;
  readonly port: number;
  private readonly settings: Settings;
  private readonly backoff: Backoff | null;
  private readonly localAddress: string | undefined;
  /** The id sent in the v2 ClientHello (undefined: none). */
  readonly deviceId: string | undefined;
  private driver: SocketDriver | null = null;
  /** The profile and key material of the current connection. */
  private credentials: Credentials | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** The application wants a session: set by connectToServer, cleared by disconnect. */
  private wanted = false;
  private attempt = 0;
  private pending: Pending | null = null;
  private closeWaiters: Array<() => void> = [];
  private onConnected: (() => void) | null = null;
  private onDisconnected: ((reason: string) => void) | null = null;
  private onMessageReceived: ((text: string, bytes: Buffer) => void) | null = null;
  private onHandshakeSuccess: ((result: HandshakeResult) => void) | null = null;
  private onHandshakeFailed: ((result: HandshakeResult) => void) | null = null;
  private onDataSent: ((message: Message) => void) | null = null;

  constructor(host: string, port: number, options: ClientOptions = {}) {
    super();
    if (typeof host !== "string" || host === "") throw new LwstcpError(ERR_INVALID_OPTION, "host must be a non-empty string");
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new LwstcpError(ERR_INVALID_OPTION, "port must be a whole number from 1 to 65535, got " + String(port));
    this.host = host;
    this.port = port;
    this.settings = readSettings(options);
    const auto = options.autoReconnect;
    this.backoff = auto ? readBackoff(auto === true ? {} : auto) : null;
    if (options.localAddress !== undefined && (typeof options.localAddress !== "string" || options.localAddress === ""))
      throw new LwstcpError(ERR_INVALID_OPTION, "localAddress must be a non-empty string (an IP address of this host)");
    this.localAddress = options.localAddress;
    if (options.deviceId !== undefined) {
      const problem = deviceIdProblem(options.deviceId);
      if (problem) throw new LwstcpError(ERR_INVALID_OPTION, "deviceId: " + problem);
      if (this.settings.profile === "v1") throw new LwstcpError(ERR_INVALID_OPTION, "deviceId needs profile v2: the v1 wire format cannot carry a device id");
    }
    this.deviceId = options.deviceId;
  }

  /** True while the session is open (handshake done, not ended). */
  get isConnected(): boolean {
    return this.driver !== null && this.driver.connection.isOpen;
  }

  /** The profile of the current connection; without one, the profile the next would use. */
  get profile(): Profile {
    return this.credentials ? this.credentials.profile : (this.settings.profile ?? getProfile());
  }

  /** A copy of the session key's words while connected; zeros otherwise. */
  get sessionKey(): Uint32Array {
    return this.driver ? Uint32Array.from(this.driver.connection.sessionKey) : new Uint32Array(8);
  }

  get bufferedAmount(): number {
    return this.driver ? this.driver.queuedBytes : 0;
  }

  /** Keep-alive interval and inactivity timeout (-1 disables it) for the next connection. */
  setKeepAliveConfig(intervalMs: number, timeoutMs: number): void {
    invalidOption(() => validateKeepAlive(intervalMs, timeoutMs));
    this.settings.keepAliveIntervalMs = intervalMs;
    this.settings.inactivityTimeoutMs = timeoutMs;
  }

  /**
   * Connects and runs the handshake. Resolves with the HandshakeResult (success or the
   * failure's reason); with autoReconnect, resolves at the first success or when
   * disconnect() gives up. Rejects only with ERR_LWSTCP_NO_HANDSHAKE_KEY.
   */
  connectToServer(): Promise<HandshakeResult> {
    if (this.isConnected) return Promise.resolve(handshakeSuccess(this.driver as SocketDriver));
    if (this.pending) return this.pending.promise;
    try {
      wipeCredentials(this.startCredentials());
    } catch (err) {
      return Promise.reject(err);
    }
    let resolve!: (result: HandshakeResult) => void;
    const promise = new Promise<HandshakeResult>((r) => {
      resolve = r;
    });
    this.pending = { promise, resolve };
    this.wanted = true;
    this.attempt = 0;
    this.open();
    return promise;
  }

  /**
   * Sends text (as UTF-8) or bytes as one message. Returns false when the caller should
   * wait for 'drain'. Throws ERR_LWSTCP_MESSAGE_SIZE, ERR_LWSTCP_NOT_OPEN, ERR_LWSTCP_SEND_QUEUE_FULL.
   */
  sendMessage(message: Message): boolean {
    const wantSent = this.onDataSent !== null || this.listenerCount("dataSent") > 0;
    return sendMessageOn(this.driver, message, this.settings.maxQueuedBytes, wantSent ? () => this.notify(this.onDataSent, "dataSent", message) : undefined);
  }

  /**
   * Sends Disconnect (when open), closes, and stops reconnecting. Resolves when the socket
   * has closed; safe to call at any time.
   */
  disconnect(): Promise<void> {
    this.wanted = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const driver = this.driver;
    const closed = driver && !driver.socketClosed ? new Promise<void>((r) => this.closeWaiters.push(r)) : Promise.resolve();
    if (driver) driver.connection.disconnect();
    this.settle(makeResult(formatPeer(this.host, this.port), this.host, this.port, REASON_LOCAL_DISCONNECT));
    return closed;
  }

  private startCredentials(): Credentials {
    const credentials = startCredentials(this.settings, "LightweightSecureClient", { deviceId: this.deviceId });
    if (this.deviceId !== undefined && credentials.profile !== "v2") {
      wipeCredentials(credentials);
      throw new LwstcpError(ERR_INVALID_OPTION, "deviceId needs profile v2: the v1 wire format cannot carry a device id");
    }
    return credentials;
  }

  private open(): void {
    let credentials: Credentials;
    try {
      credentials = this.startCredentials();
    } catch (err) {
      // The key was cleared between attempts: stop, and say why.
      this.wanted = false;
      this.reportError(err as Error);
      this.settle(makeResult(formatPeer(this.host, this.port), this.host, this.port, "no-key", (err as Error).message));
      return;
    }
    wipeCredentials(this.credentials);
    this.credentials = credentials;
    const s = this.settings;
    const socket = connect({ host: this.host, port: this.port, noDelay: true, localAddress: this.localAddress });
    const driver = new SocketDriver(socket, ROLE_CLIENT, connectionMaker(credentials, s), this, s.closeGraceMs, formatPeer(this.host, this.port));
    this.driver = driver;
    socket.once("connect", () => {
      driver.address = normalizeAddress(socket.remoteAddress);
      driver.port = socket.remotePort || this.port;
      driver.peer = formatPeer(socket.remoteAddress, socket.remotePort);
      this.notify(this.onConnected, "connected");
    });
    // The handshake timeout runs from here, so it also bounds a TCP connect that hangs.
    driver.connection.start();
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = setInterval(() => this.poll(driver), pollIntervalMs(s.keepAliveIntervalMs, s.inactivityTimeoutMs, s.handshakeTimeoutMs));
    // The socket keeps the process alive while connected; the timer alone must not.
    this.pollTimer.unref();
  }

  private poll(driver: SocketDriver): void {
    try {
      driver.connection.tick();
    } catch (thrown) {
      driver.fault(thrown);
    }
  }

  private settle(result: HandshakeResult): void {
    const pending = this.pending;
    this.pending = null;
    if (pending) pending.resolve(result);
  }

  private retryOrSettle(reason: string, result: HandshakeResult | null): void {
    if (this.wanted && this.backoff && reason !== REASON_LOCAL_DISCONNECT) {
      const delayMs = backoffDelay(this.backoff, this.attempt);
      this.attempt++;
      // Deliberately not unref'd: the application asked to stay connected.
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null;
        if (this.wanted) this.open();
      }, delayMs);
      this.notify(null, "reconnecting", { attempt: this.attempt, delayMs, reason } satisfies ReconnectInfo);
      return;
    }
    this.wanted = false;
    if (result) this.settle(result);
  }

  // ---- DriverOwner ----

  handshakeSucceeded(driver: SocketDriver): void {
    this.attempt = 0;
    const result = handshakeSuccess(driver);
    this.notify(this.onHandshakeSuccess, "handshakeSuccess", result);
    this.settle(result);
  }

  handshakeFailed(driver: SocketDriver, reason: string): void {
    const result = handshakeFailure(driver, reason);
    this.notify(this.onHandshakeFailed, "handshakeFailed", result);
    this.retryOrSettle(reason, result);
  }

  message(_driver: SocketDriver, bytes: Buffer): void {
    this.notify(this.onMessageReceived, "message", bytes.toString("utf8"), bytes);
  }

  ended(_driver: SocketDriver, reason: string): void {
    this.notify(this.onDisconnected, "disconnected", reason);
    this.retryOrSettle(reason, null);
  }

  closed(driver: SocketDriver): void {
    if (driver !== this.driver) return;
    this.driver = null;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    wipeCredentials(this.credentials);
    this.credentials = null;
    const waiters = this.closeWaiters;
    this.closeWaiters = [];
    for (const waiter of waiters) waiter();
  }

  drain(): void {
    this.notify(null, "drain");
  }

  error(_driver: SocketDriver, error: Error, soft: boolean): void {
    this.reportError(error, soft);
  }

  // ---- C++-named callbacks ----

  setOnConnected(callback: (() => void) | null): void {
    this.onConnected = callback;
  }

  setOnDisconnected(callback: ((reason: string) => void) | null): void {
    this.onDisconnected = callback;
  }

  setOnMessageReceived(callback: ((text: string, bytes: Buffer) => void) | null): void {
    this.onMessageReceived = callback;
  }

  setOnHandshakeSuccess(callback: ((result: HandshakeResult) => void) | null): void {
    this.onHandshakeSuccess = callback;
  }

  setOnHandshakeFailed(callback: ((result: HandshakeResult) => void) | null): void {
    this.onHandshakeFailed = callback;
  }

  setOnDataSent(callback: ((message: Message) => void) | null): void {
    this.onDataSent = callback;
  }
}
