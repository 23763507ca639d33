// One open session on the server side: the application's handle on a connection whose
// handshake succeeded. The server's poll timer and socket driver do the work; a Session
// only sends, disconnects and reports. Callbacks carry the C++ Session's names; the same
// outcomes are Node events: 'message' (text, bytes), 'ended' (reason), 'dataSent'
// (message), 'drain', 'error' (error).

import type { Lifecycle } from "../firmware/core/lifecycle.js";
import { ConnectionV2 } from "../firmware/core/v2/connection.js";
import type { Profile } from "./config.js";
import type { Message } from "./message.js";
import { messageBytes, sendMessageOn } from "./message.js";
import { Notifier } from "./notifier.js";
import type { SocketDriver } from "./socket-driver.js";

export type MessageCallback = (text: string, bytes: Buffer) => void;

export class Session extends Notifier {
  /** The peer as "ip:port". */
  readonly peer: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /**
   * The id the device named itself by in the v2 handshake; undefined for v1 (its wire format
   * cannot carry one) and for a v2 peer that sent none.
   */
  deviceId: string | undefined = undefined;
  /** Why the session ended; "" while it is active. */
  endReason = "";
  /** When the handshake succeeded (ms since the epoch). */
  readonly connectedAt = Date.now();
  /**
   * Messages and their payload bytes each way ("in": from the peer). Plain fields a monitor
   * reads when asked, so counting costs two additions per message and nothing else.
   */
  messagesIn = 0;
  bytesIn = 0;
  messagesOut = 0;
  bytesOut = 0;
  private readonly driver: SocketDriver;
  private readonly maxQueuedBytes: number;
  private onMessageCallback: MessageCallback | null = null;
  private onEndedCallback: ((reason: string) => void) | null = null;
  private onDataSentCallback: ((message: Message) => void) | null = null;

  constructor(driver: SocketDriver, parent: Notifier, maxQueuedBytes: number) {
    super();
    this.driver = driver;
    this.parentNotifier = parent;
    this.maxQueuedBytes = maxQueuedBytes;
    this.peer = driver.peer;
    this.remoteAddress = driver.address;
    this.remotePort = driver.port;
  }

  /** What logs, metrics and bridges call this session's device: its id, else its peer address. */
  get name(): string {
    return this.deviceId ?? this.peer;
  }

  get profile(): Profile {
    return this.driver.connection instanceof ConnectionV2 ? "v2" : "v1";
  }

  /** When the peer last sent a packet, KeepAlive included (ms since the epoch): the core's own inactivity clock. */
  get lastSeenAt(): number {
    return (this.driver.connection as Lifecycle).lastReceived;
  }

  /** When the connection was accepted, i.e. when its handshake began (ms since the epoch). */
  get acceptedAt(): number {
    return (this.driver.connection as Lifecycle).startedAt;
  }

  get isActive(): boolean {
    return this.driver.connection.isOpen;
  }

  /** A copy of the session key's eight words (all zero once the session has ended: keys are wiped). */
  get sessionKey(): Uint32Array {
    return Uint32Array.from(this.driver.connection.sessionKey);
  }

  /** Bytes waiting for the socket. */
  get bufferedAmount(): number {
    return this.driver.queuedBytes;
  }

  /**
   * Sends text (as UTF-8) or bytes as one message. Returns false when the caller should
   * wait for 'drain'. Throws ERR_LWSTCP_MESSAGE_SIZE (0 or > 65528 bytes),
   * ERR_LWSTCP_NOT_OPEN, ERR_LWSTCP_SEND_QUEUE_FULL.
   */
  sendMessage(message: Message): boolean {
    const callback = this.onDataSentCallback;
    const wantSent = callback !== null || this.listenerCount("dataSent") > 0;
    const bytes = messageBytes(message);
    const accepted = sendMessageOn(
      this.driver,
      bytes,
      this.maxQueuedBytes,
      wantSent ? () => this.notify(this.onDataSentCallback, "dataSent", message) : undefined,
    );
    this.messagesOut++;
    this.bytesOut += bytes.length;
    return accepted;
  }

  /** Sends Disconnect and closes; 'ended' follows with reason "local-disconnect". Harmless when already ended. */
  disconnect(): void {
    this.driver.connection.disconnect();
  }

  setOnMessageReceived(callback: MessageCallback | null): void {
    this.onMessageCallback = callback;
  }

  setOnSessionEnded(callback: ((reason: string) => void) | null): void {
    this.onEndedCallback = callback;
  }

  setOnDataSent(callback: ((message: Message) => void) | null): void {
    this.onDataSentCallback = callback;
  }

  /** @internal Called by the server. */
  _message(bytes: Buffer): void {
    this.messagesIn++;
    this.bytesIn += bytes.length;
    this.notify(this.onMessageCallback, "message", bytes.toString("utf8"), bytes);
  }

  /** @internal */
  _ended(reason: string): void {
    this.endReason = reason;
    this.notify(this.onEndedCallback, "ended", reason);
  }

  /** @internal */
  _drain(): void {
    this.notify(null, "drain");
  }
}
