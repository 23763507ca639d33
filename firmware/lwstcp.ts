// The device library: what `require("lwstcp")` gives on Espruino. The names follow the C++
// LightweightSecureTCP library and our desktop one, so sketches port line by line:
//
//   var lw = require("lwstcp");
//   lw.setHandshakeKey("<64 hex digits>");          // or eight u32 words
//   var c = new lw.LightweightSecureClient("192.168.1.10", 12345);
//   c.setOnHandshakeSuccess(function () { c.sendMessage("1"); });
//   c.setOnMessageReceived(function (text) { print(text); });
//   c.connectToServer();
//
// Callbacks are plain synchronous slots, not `.emit` (Espruino's emit is asynchronous and
// takes at most 4 arguments). An exception thrown by a callback is caught and printed so the
// protocol state stays intact. Messages arrive as binary strings of their bytes (ESP32
// Espruino has no Unicode strings); sendMessage takes such a string or a Uint8Array.
//
// The bundle must stay under 16 KB (the device parses it into RAM), so the many one-line
// setters (setOnX, and the settings shared by client and server) are made by a loop over
// their names instead of being written out; the interfaces below give them their types.

import { currentBoard } from "./board-facts.js";
import { backoffDelayMs, DEFAULT_RECONNECT_FACTOR, DEFAULT_RECONNECT_INITIAL_MS, DEFAULT_RECONNECT_JITTER, DEFAULT_RECONNECT_MAX_MS } from "./core/backoff.js";
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_INACTIVITY_TIMEOUT_MS, DEFAULT_KEEP_ALIVE_INTERVAL_MS, DEFAULT_ROUNDS } from "./core/constants.js";
import { type KeyInput, parseKey, validateHandshakeTimeout, validateKeepAlive } from "./core/keys.js";
import { type ProtocolConnection, ROLE_CLIENT, ROLE_SERVER } from "./core/lifecycle.js";
import { type Profile, parseProfile } from "./core/v2/profile.js";
import { createKeySchedule, type KeySchedule, validateRounds } from "./core/xtea.js";
import { createEntropyPool, type EntropyPool } from "./entropy.js";
import { attachSocket, type ConnectionFactory, type DeviceOptions, type EspruinoSocket, type TransportEvents } from "./transport.js";

type Callback = (a?: any, b?: any) => void;
type TimerId = ReturnType<typeof setTimeout>;

let moduleKey: Uint32Array | undefined;
let moduleRounds = DEFAULT_ROUNDS;
let moduleProfile: Profile = "v1";
/** The Storage module "lwstcp-v2" (the v2 engine, kept out of this bundle for size): loaded by the first setProfile("v2"). */
let v2: { createConnectionV2: ConnectionFactory } | undefined;
let pool: EntropyPool | undefined;

/** Sets the handshake key every client and server uses unless it was given its own. */
export function setHandshakeKey(key: KeyInput): void {
  moduleKey = parseKey(key);
}

/** Sets the XTEA rounds (1..128, default 32) for clients and servers without their own. */
export function setNumberOfRounds(rounds: number): void {
  moduleRounds = validateRounds(rounds);
}

/** Checks a profile name; "v2" loads the Storage module lwstcp-v2 (Espruino's require throws when it is missing). */
function loadProfile(profile: Profile): Profile {
  profile = parseProfile(profile);
  if (profile === "v2" && !v2) v2 = require("lwstcp-v2");
  return profile;
}

/**
 * Sets the profile of clients and servers without their own: "v1" (default, pairs with the C++
 * library) or "v2" (authenticated; needs the Storage module lwstcp-v2 and a v2 peer).
 */
export function setProfile(profile: Profile): void {
  moduleProfile = loadProfile(profile);
}

/** The entropy pool, made on first use from the board's RNG register (board-facts.ts). */
function entropy(): EntropyPool {
  if (!pool) {
    const board = currentBoard();
    pool = createEntropyPool(board.facts && board.facts.rngRegister, function (text) {
      console.log(text + " (board " + board.name + ")");
    });
  }
  return pool;
}

/** Calls an application callback; what it throws is printed, never passed into the protocol. */
function call(fn: Callback | undefined, a?: unknown, b?: unknown): void {
  if (fn) {
    try {
      fn(a, b);
    } catch (e) {
      console.log("lwstcp: callback threw: " + e);
    }
  }
}

function errorText(e: any): string {
  return e && e.message ? e.message : String(e);
}

/** Installs `setOn<Name>(fn)` for each name, storing fn as `this.on<Name>`. */
function callbackSetters(type: Function, names: string): void {
  names.split(" ").forEach(function (name) {
    type.prototype["setOn" + name] = function (this: any, fn: Callback) {
      this["on" + name] = fn;
    };
  });
}

/** Key, rounds, profile and timing of one client or server, falling back to the module-wide ones. */
class Settings {
  key: Uint32Array | undefined;
  rounds = 0;
  profile: Profile | undefined;
  /** How options() says to build the connection: undefined for v1, lwstcp-v2's factory for v2. */
  create: ConnectionFactory | undefined;
  keepAliveIntervalMs = DEFAULT_KEEP_ALIVE_INTERVAL_MS;
  inactivityTimeoutMs = DEFAULT_INACTIVITY_TIMEOUT_MS;
  handshakeTimeoutMs = DEFAULT_HANDSHAKE_TIMEOUT_MS;
  private schedule: KeySchedule | undefined;

  /** Connection options for a new connection; throws a clear error when there is no key. */
  options(): DeviceOptions {
    const key = this.key || moduleKey;
    if (!key) throw new Error("lwstcp: no handshake key: call setHandshakeKey first");
    // v2 takes the key itself (rounds mean nothing there); v1 its XTEA schedule.
    const create = (this.create = (this.profile || moduleProfile) === "v2" ? (v2 as { createConnectionV2: ConnectionFactory }).createConnectionV2 : undefined);
    if (!create) this.schedule = createKeySchedule(key, this.rounds || moduleRounds, this.schedule);
    return {
      preSharedKey: key,
      handshakeKey: this.schedule as KeySchedule,
      random: entropy().fill,
      clock: Date.now,
      keepAliveIntervalMs: this.keepAliveIntervalMs,
      inactivityTimeoutMs: this.inactivityTimeoutMs,
      handshakeTimeoutMs: this.handshakeTimeoutMs,
    };
  }
}

/** The per-instance settings methods of client and server (C++ names), shared by both. */
interface SettingsMethods {
  setHandshakeKey(key: KeyInput): void;
  setNumberOfRounds(rounds: number): void;
  /** "v1" or "v2" for this instance (v2 loads the Storage module lwstcp-v2). */
  setProfile(profile: Profile): void;
  /** Keep-alive interval and inactivity timeout in ms (timeout -1 disables the check). */
  setKeepAliveConfig(intervalMs: number, timeoutMs: number): void;
  setHandshakeTimeout(ms: number): void;
}

const settingsMethods: SettingsMethods = {
  setHandshakeKey: function (this: { settings: Settings }, key) {
    this.settings.key = parseKey(key);
  },
  setNumberOfRounds: function (this: { settings: Settings }, rounds) {
    this.settings.rounds = validateRounds(rounds);
  },
  setProfile: function (this: { settings: Settings }, profile) {
    this.settings.profile = loadProfile(profile);
  },
  setKeepAliveConfig: function (this: { settings: Settings }, intervalMs, timeoutMs) {
    validateKeepAlive(intervalMs, timeoutMs);
    this.settings.keepAliveIntervalMs = intervalMs;
    this.settings.inactivityTimeoutMs = timeoutMs;
  },
  setHandshakeTimeout: function (this: { settings: Settings }, ms) {
    validateHandshakeTimeout(ms);
    this.settings.handshakeTimeoutMs = ms;
  },
};

function addSettingsMethods(type: Function): void {
  for (const name in settingsMethods) type.prototype[name] = (settingsMethods as any)[name];
}

/** sendMessage of client and session: false (and onError) when not open or the message is invalid. */
function send(owner: { connection: ProtocolConnection | null; onError?: Callback; onDataSent?: Callback }, message: string | Uint8Array): boolean {
  const connection = owner.connection;
  try {
    if (!connection) throw new Error("not connected");
    if (typeof message === "string") connection.sendByteString(message);
    else connection.sendBytes(message, 0, message.length);
  } catch (e) {
    call(owner.onError, "cannot send: " + errorText(e));
    return false;
  }
  call(owner.onDataSent, message.length);
  return true;
}

function isOpen(connection: ProtocolConnection | null): boolean {
  return !!connection && connection.isOpen;
}

// ---------------------------------------------------------------------------------------------
// Client

export interface LightweightSecureClient extends SettingsMethods {
  setOnConnected(fn: () => void): void;
  setOnDisconnected(fn: (reason: string) => void): void;
  setOnMessageReceived(fn: (message: string) => void): void;
  setOnHandshakeSuccess(fn: () => void): void;
  /** `detail`, when present, is the likely cause for people (e.g. a different key after peer-closed). */
  setOnHandshakeFailed(fn: (reason: string, detail?: string) => void): void;
  setOnError(fn: (message: string) => void): void;
  setOnDataSent(fn: (length: number) => void): void;
}

/**
 * Connects to a LightweightSecureTCP server and keeps connecting: after a failed connect, a
 * failed handshake or a lost session it retries with exponential backoff (1 s doubling to
 * 30 s, each delay drawn between half and all of that) until disconnect() is called.
 * A retry holds only one timer; the failed socket and its connection are dropped.
 */
export class LightweightSecureClient {
  private readonly host: string;
  private readonly port: number;
  private readonly settings = new Settings();
  connection: ProtocolConnection | null = null;
  /** The application wants a connection: connectToServer() was called and disconnect() was not. */
  private wanted = false;
  private attempt = 0;
  private retryTimer: TimerId | undefined;
  private autoReconnect = true;
  private reconnectMinMs = DEFAULT_RECONNECT_INITIAL_MS;
  private reconnectMaxMs = DEFAULT_RECONNECT_MAX_MS;
  private onConnected?: Callback;
  private onDisconnected?: Callback;
  private onMessageReceived?: Callback;
  private onHandshakeSuccess?: Callback;
  private onHandshakeFailed?: Callback;
  onError?: Callback;
  onDataSent?: Callback;

  constructor(host: string, port: number) {
    this.host = host;
    this.port = port;
  }

  /** Auto-reconnect is on by default; the delays are the backoff's first and largest step. */
  setAutoReconnect(enabled: boolean, minDelayMs?: number, maxDelayMs?: number): void {
    this.autoReconnect = enabled;
    if (minDelayMs) this.reconnectMinMs = minDelayMs;
    if (maxDelayMs) this.reconnectMaxMs = maxDelayMs;
  }

  /**
   * Opens the TCP connection and starts the handshake. Returns false when the connect failed
   * at once (Espruino's connect blocks and throws for a closed port or unknown host); a retry
   * is then scheduled if auto-reconnect is on. Throws only for a missing key.
   */
  connectToServer(): boolean {
    const self = this;
    this.wanted = true;
    this.cancelRetry();
    if (this.connection) return true;
    const settings = this.settings;
    const options = settings.options();
    let socket: EspruinoSocket;
    let connected = false;
    try {
      // Never add sock.on("connect") as well: with a connect callback that crashes Espruino.
      socket = require("net").connect({ host: this.host, port: this.port }, function () {
        connected = true;
        call(self.onConnected);
      });
    } catch (e) {
      call(this.onError, "connect to " + this.host + ":" + this.port + " failed: " + errorText(e));
      this.retry();
      return false;
    }
    const finished = function (reason: string, failed: boolean, detail?: string) {
      if (self.connection !== connection) return;
      self.connection = null;
      if (failed) call(self.onHandshakeFailed, reason, detail);
      if (connected) call(self.onDisconnected, reason);
      self.retry();
    };
    const connection = (this.connection = attachSocket(
      socket,
      ROLE_CLIENT,
      options,
      {
        handshakeSucceeded: function () {
          self.attempt = 0;
          call(self.onHandshakeSuccess);
        },
        handshakeFailed: function (reason, detail) {
          finished(reason, true, detail);
        },
        message: function (text) {
          call(self.onMessageReceived, text);
        },
        ended: function (reason) {
          finished(reason, false);
        },
        error: function (text) {
          call(self.onError, text);
        },
      },
      settings.create,
    ));
    return true;
  }

  /** Sends one message (a binary string or bytes, 1..65528 bytes). False when not connected or invalid. */
  sendMessage(message: string | Uint8Array): boolean {
    return send(this, message);
  }

  /** Ends the session (sending Disconnect when open) and stops reconnecting. */
  disconnect(): void {
    this.wanted = false;
    this.cancelRetry();
    if (this.connection) this.connection.disconnect();
  }

  /** True while a session is open (the handshake has completed). */
  isConnected(): boolean {
    return isOpen(this.connection);
  }

  private retry(): void {
    if (!this.wanted || !this.autoReconnect || this.retryTimer) return;
    const self = this;
    this.retryTimer = setTimeout(
      function () {
        self.retryTimer = undefined;
        if (self.wanted) self.connectToServer();
      },
      // 1 s, 2 s, 4 s … capped, each drawn from its upper half: the desktop client's formula.
      backoffDelayMs(
        this.reconnectMinMs,
        this.reconnectMaxMs,
        DEFAULT_RECONNECT_FACTOR,
        DEFAULT_RECONNECT_JITTER,
        this.attempt++,
        entropy().word() / 4294967296,
      ),
    );
  }

  private cancelRetry(): void {
    // clearTimeout(undefined) throws on Espruino, and clearTimeout() clears every timer.
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}

callbackSetters(LightweightSecureClient, "Connected Disconnected MessageReceived HandshakeSuccess HandshakeFailed Error DataSent");
addSettingsMethods(LightweightSecureClient);

// ---------------------------------------------------------------------------------------------
// Server

/** The outcome of a handshake as the server callbacks receive it. */
export interface HandshakeResult {
  success: boolean;
  /** "" on success, else the failure reason ("verify-failed", "handshake-timeout", …). */
  reason: string;
}

export interface Session {
  setOnMessageReceived(fn: (message: string) => void): void;
  setOnSessionEnded(fn: (reason: string) => void): void;
  setOnDataSent(fn: (length: number) => void): void;
  setOnError(fn: (message: string) => void): void;
}

/** One accepted peer. Made by LightweightSecureServer; the application gets it on handshake success. */
export class Session {
  /** Set by the server while the connection lives. */
  connection: ProtocolConnection | null = null;
  onMessageReceived?: Callback;
  onSessionEnded?: Callback;
  onDataSent?: Callback;
  onError?: Callback;

  sendMessage(message: string | Uint8Array): boolean {
    return send(this, message);
  }
  /** Sends Disconnect and closes. */
  disconnect(): void {
    if (this.connection) this.connection.disconnect();
  }
  isActive(): boolean {
    return isOpen(this.connection);
  }
}

callbackSetters(Session, "MessageReceived SessionEnded DataSent Error");

export interface LightweightSecureServer extends SettingsMethods {
  setOnHandshakeStarted(fn: () => void): void;
  setOnHandshakeSuccess(fn: (result: HandshakeResult, session: Session) => void): void;
  setOnHandshakeFailed(fn: (result: HandshakeResult) => void): void;
  setOnError(fn: (message: string) => void): void;
}

export class LightweightSecureServer {
  private readonly port: number;
  private readonly settings = new Settings();
  private server: any = null;
  private readonly sessions: Session[] = [];
  private maxSessions = 4;
  /**
   * A connection that has sent nothing this long (ms) is dropped, well before the handshake
   * timeout: with only four slots, silent peers would otherwise lock honest ones out for 5 s
   * each. An honest client's first packet comes one round trip after our Request plus its
   * compute time: under 300 ms of Wi-Fi or Internet round trip and a few hundred ms for an
   * ESP32 client (v1 ≈ 40-70 ms of cipher work, v2 a few hundred), so 1.5 s leaves it twice
   * that and more.
   */
  private silentTimeoutMs = 1500;
  private onHandshakeStarted?: Callback;
  private onHandshakeSuccess?: Callback;
  private onHandshakeFailed?: Callback;
  private onError?: Callback;

  constructor(port: number) {
    this.port = port;
  }

  /** Connections (handshaking or open) held at once; more are closed on accept. Default 4: each costs RAM. */
  setMaxSessions(count: number): void {
    this.maxSessions = count;
  }

  /** Drops a connection that has sent nothing within `ms` (default 1500; at most the handshake timeout counts). */
  setSilentTimeout(ms: number): void {
    validateHandshakeTimeout(ms);
    this.silentTimeoutMs = ms;
  }

  /** Listens on the port. Returns false (and reports onError) when listening failed. Throws only for a missing key. */
  start(): boolean {
    if (this.server) return true;
    this.settings.options(); // a missing key is a programming error: say so now, not per peer
    const self = this;
    try {
      this.server = require("net").createServer(function (socket: EspruinoSocket) {
        self.accept(socket);
      });
      this.server.listen(this.port);
    } catch (e) {
      this.server = null;
      call(this.onError, "listen on " + this.port + " failed: " + errorText(e));
      return false;
    }
    return true;
  }

  /** Disconnects every session and stops listening. */
  stop(): void {
    while (this.sessions.length) {
      const session = this.sessions[0];
      this.forget(session);
      if (session.connection) session.connection.disconnect();
    }
    if (this.server) this.server.close();
    this.server = null;
  }

  private accept(socket: EspruinoSocket): void {
    const self = this;
    if (this.sessions.length >= this.maxSessions) {
      call(this.onError, "refused a connection: at " + this.maxSessions + " sessions");
      socket.end();
      return;
    }
    const session = new Session();
    const closed = function () {
      self.forget(session);
      session.connection = null;
    };
    const events: TransportEvents = {
      handshakeSucceeded: function () {
        call(self.onHandshakeSuccess, { success: true, reason: "" }, session);
      },
      handshakeFailed: function (reason) {
        closed();
        call(self.onHandshakeFailed, { success: false, reason: reason });
      },
      message: function (text) {
        call(session.onMessageReceived, text);
      },
      ended: function (reason) {
        closed();
        call(session.onSessionEnded, reason);
      },
      error: function (text) {
        call(session.onError, text);
        call(self.onError, text);
      },
    };
    this.sessions.push(session);
    const settings = this.settings;
    const connection = (session.connection = attachSocket(socket, ROLE_SERVER, settings.options(), events, settings.create, this.silentTimeoutMs));
    call(this.onHandshakeStarted);
    connection.start();
  }

  private forget(session: Session): void {
    const i = this.sessions.indexOf(session);
    if (i >= 0) this.sessions.splice(i, 1);
  }
}

callbackSetters(LightweightSecureServer, "HandshakeStarted HandshakeSuccess HandshakeFailed Error");
addSettingsMethods(LightweightSecureServer);
