// LightweightSecureClient on the device: connects, retries with the core's backoff, and moves
// one connection's events to the application's callbacks.

import { backoffDelayMs, DEFAULT_RECONNECT_FACTOR, DEFAULT_RECONNECT_INITIAL_MS, DEFAULT_RECONNECT_JITTER, DEFAULT_RECONNECT_MAX_MS } from "../core/backoff.js";
import { type ProtocolConnection, ROLE_CLIENT } from "../core/lifecycle.js";
import { attachSocket, type EspruinoSocket } from "../transport.js";
import {
  addSettingsMethods,
  type Callback,
  call,
  callbackSetters,
  entropy,
  errorText,
  isOpen,
  Settings,
  type SettingsMethods,
  send,
  type TimerId,
} from "./settings.js";

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
