// Shared pieces of the server tests: a fresh random key per run (no key is ever committed),
// servers on 127.0.0.1 port 0, bounded waits, and a raw client built from the core alone
// for tests that must misbehave on the wire (garbage, silence).

export { until } from "./until.js";

import type { EventEmitter } from "node:events";
import { connect, type Socket } from "node:net";
import { Connection, type ConnectionSink, createKeySchedule, parseKey, ROLE_CLIENT } from "../../firmware/core/index.js";
import { type ClientOptions, LightweightSecureClient, LightweightSecureServer, type ServerOptions } from "../../server/index.js";
import { nodeRandom } from "../../server/random.js";
import { seededBytes } from "./seed.js";

export const KEY_HEX = seededBytes("server-helpers KEY_HEX", 32).toString("hex");
export const OTHER_KEY_HEX = seededBytes("server-helpers OTHER_KEY_HEX", 32).toString("hex");

/** Short timings so the suite stays fast: keep-alive 50 ms, inactivity 300 ms, handshake 300 ms. */
export const FAST = { keepAliveIntervalMs: 50, inactivityTimeoutMs: 300, handshakeTimeoutMs: 300 };
/** For tests that a session must survive: keep-alive 100 ms against 1 s, so a stall of the test process under 900 ms cannot end it. */
export const KEPT_ALIVE = { keepAliveIntervalMs: 100, inactivityTimeoutMs: 1000, handshakeTimeoutMs: 1000 };

export async function startServer(options: ServerOptions = {}): Promise<LightweightSecureServer> {
  const server = new LightweightSecureServer(0, { host: "127.0.0.1", key: KEY_HEX, ...options });
  await server.start();
  return server;
}

export function newClient(server: LightweightSecureServer | number, options: ClientOptions = {}): LightweightSecureClient {
  const port = typeof server === "number" ? server : server.port;
  return new LightweightSecureClient("127.0.0.1", port, { key: KEY_HEX, ...options });
}

/** Rejects when `promise` has not settled within `ms`: every wait in these tests is bounded. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out after " + ms + " ms waiting for " + what)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The arguments of the next `event` from `emitter`, within `ms`. */
export function next<T extends unknown[] = unknown[]>(emitter: EventEmitter, event: string, ms = 3000): Promise<T> {
  return within(new Promise<T>((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args as T))), ms, "event '" + event + "'");
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A client made of a raw socket and a core Connection, driven by hand: it never ticks (so
 * it sends no KeepAlive) and lets a test write any bytes on the socket.
 */
export interface RawClient {
  socket: Socket;
  connection: Connection;
  /** Resolves "open" after the handshake, or the failure reason. */
  handshake: Promise<string>;
  /** Resolves with the reason when the connection closes after having opened. */
  ended: Promise<string>;
  messages: Buffer[];
}

export function rawClient(port: number, keyHex: string = KEY_HEX): RawClient {
  const socket = connect({ host: "127.0.0.1", port });
  socket.on("error", () => {});
  let handshakeDone!: (value: string) => void;
  let endedDone!: (value: string) => void;
  const messages: Buffer[] = [];
  const sink: ConnectionSink = {
    write: (bytes, length) => {
      if (!socket.destroyed) socket.write(Buffer.from(bytes.subarray(0, length)));
    },
    close: () => socket.destroy(),
    handshakeSucceeded: () => handshakeDone("open"),
    handshakeFailed: (reason) => handshakeDone(reason),
    message: (bytes, at, length) => messages.push(Buffer.from(bytes.subarray(at, at + length))),
    ended: (reason) => endedDone(reason),
  };
  const connection = new Connection(
    ROLE_CLIENT,
    { handshakeKey: createKeySchedule(parseKey(keyHex)), random: nodeRandom, clock: Date.now, keepAliveIntervalMs: 100000, inactivityTimeoutMs: -1 },
    sink,
  );
  socket.on("data", (chunk) => connection.receive(chunk));
  socket.on("close", () => connection.transportClosed());
  connection.start();
  return {
    socket,
    connection,
    handshake: new Promise((resolve) => (handshakeDone = resolve)),
    ended: new Promise((resolve) => (endedDone = resolve)),
    messages,
  };
}
