// The lwstcp device module as require("lwstcp") gives it on Espruino, as types. A module of types
// only, so the desktop tests can import it next to firmware/lwstcp.ts and hold the two together
// (test/device-types.test.ts); applications get it through the globals in index.d.ts.

/** 64 hex digits (spaces and a 0x prefix allowed), 32 bytes, or eight 32-bit words. */
export type KeyInput = string | Uint8Array | ArrayLike<number>;
/** "v1" (default; pairs with the C++ library) or "v2" (authenticated; needs the Storage module lwstcp-v2). */
export type Profile = "v1" | "v2";
/** A message: a binary string (one char per byte) or its bytes. */
export type Message = string | Uint8Array;

/**
 * Why a handshake failed or a session ended. The desktop server's refusals (handshake-limit,
 * session-limit, server-stopping) reach the device as peer-closed.
 */
export type Reason =
  | "wrong-type"
  | "bad-size"
  | "verify-failed"
  | "handshake-timeout"
  | "unknown-type"
  | "zero-length"
  | "bad-length"
  | "unexpected-handshake-packet"
  | "peer-closed"
  | "disconnect"
  | "local-disconnect"
  | "inactivity-timeout"
  | "socket-error"
  | "profile-mismatch"
  | "proof-failed"
  | "mac-failed"
  | "unknown-device"
  | "bad-device-id";

/** Settings a client or server takes for itself; unset ones come from the module-wide setters. */
export interface SettingsMethods {
  setHandshakeKey(key: KeyInput): void;
  /** XTEA rounds, 1..128 (default 32). */
  setNumberOfRounds(rounds: number): void;
  setProfile(profile: Profile): void;
  /**
   * Profile v2, clients: the id sent in the handshake (1-32 printable ASCII characters, no
   * spaces), so a server with per-device keys picks this device's key. A server ignores it.
   * Like setProfile("v2"), it loads the Storage module lwstcp-v2 (require throws when it is missing).
   */
  setDeviceId(id: string): void;
  /** Keep-alive interval and inactivity timeout in ms (timeout -1 disables the check). */
  setKeepAliveConfig(intervalMs: number, timeoutMs: number): void;
  setHandshakeTimeout(ms: number): void;
}

/**
 * Connects to a LightweightSecureTCP server and keeps connecting: after a failed connect, a failed
 * handshake or a lost session it retries with backoff until disconnect() is called.
 */
export interface LightweightSecureClient extends SettingsMethods {
  /** Auto-reconnect is on by default; the delays are the backoff's first and largest step (ms). */
  setAutoReconnect(enabled: boolean, minDelayMs?: number, maxDelayMs?: number): void;
  /** Starts connecting; false when the socket could not be opened (a retry is then scheduled). */
  connectToServer(): boolean;
  /** False when there is no open session or the message is empty or too long. */
  sendMessage(message: Message): boolean;
  /** Sends Disconnect, closes, and stops reconnecting. */
  disconnect(): void;
  isConnected(): boolean;
  setOnConnected(fn: () => void): void;
  setOnDisconnected(fn: (reason: Reason | string) => void): void;
  /** The message as a binary string. */
  setOnMessageReceived(fn: (message: string) => void): void;
  setOnHandshakeSuccess(fn: () => void): void;
  /** `detail`, when present, is the likely cause for people (e.g. a different key after peer-closed). */
  setOnHandshakeFailed(fn: (reason: Reason | string, detail?: string) => void): void;
  setOnError(fn: (message: string) => void): void;
  setOnDataSent(fn: (length: number) => void): void;
}

/** The outcome of a handshake as the server callbacks receive it. */
export interface HandshakeResult {
  success: boolean;
  /** "" on success, else the failure reason (one of Reason). */
  reason: string;
}

/** One accepted peer; the application gets it on handshake success. */
export interface Session {
  sendMessage(message: Message): boolean;
  /** Sends Disconnect and closes. */
  disconnect(): void;
  isActive(): boolean;
  setOnMessageReceived(fn: (message: string) => void): void;
  setOnSessionEnded(fn: (reason: Reason | string) => void): void;
  setOnDataSent(fn: (length: number) => void): void;
  setOnError(fn: (message: string) => void): void;
}

export interface LightweightSecureServer extends SettingsMethods {
  /** Connections held at once (default 4: each costs RAM). */
  setMaxSessions(count: number): void;
  /** Drops a connection that has sent nothing within `ms` (default 1500). */
  setSilentTimeout(ms: number): void;
  /** Listens on the port; false (and onError) when listening failed. Throws only for a missing key. */
  start(): boolean;
  stop(): void;
  setOnHandshakeStarted(fn: () => void): void;
  setOnHandshakeSuccess(fn: (result: HandshakeResult, session: Session) => void): void;
  setOnHandshakeFailed(fn: (result: HandshakeResult) => void): void;
  setOnError(fn: (message: string) => void): void;
}

/** What require("lwstcp") returns. */
export interface Module {
  /** The handshake key of every client and server that was not given its own. */
  setHandshakeKey(key: KeyInput): void;
  setNumberOfRounds(rounds: number): void;
  /** "v2" loads the Storage module lwstcp-v2 (require throws when it is missing). */
  setProfile(profile: Profile): void;
  /** Profile v2: the device id of every client that was not given its own (1-32 printable ASCII characters, no spaces); loads lwstcp-v2. */
  setDeviceId(id: string): void;
  LightweightSecureClient: new (host: string, port: number) => LightweightSecureClient;
  LightweightSecureServer: new (port: number) => LightweightSecureServer;
  /** Sessions are made by the server; the class is exported for instanceof. */
  Session: new () => Session;
}
