// LightweightSecureServer and its Sessions on the device: accepts, caps the sessions, ends
// silent sockets, and moves each session's events to the application's callbacks.

import { validateHandshakeTimeout } from "../core/keys.js";
import { type ProtocolConnection, ROLE_SERVER } from "../core/lifecycle.js";
import { attachSocket, type EspruinoSocket, type TransportEvents } from "../transport.js";
import { addSettingsMethods, type Callback, call, callbackSetters, errorText, isOpen, Settings, type SettingsMethods, send } from "./settings.js";

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
