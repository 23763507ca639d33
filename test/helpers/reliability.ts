// Shared pieces of the reliability tests: a guard that fails a test on any uncaught
// exception or unhandled rejection in this process, hand-made packets under any key (to
// misbehave on the wire precisely), a byte reader for raw sockets, a core Connection wired to
// any socket (an honest or scripted peer built from the core alone), a fake server for the
// client-side attacks, and a TCP proxy on 127.0.0.1 that can re-chunk or freeze a stream.

import assert from "node:assert/strict";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import {
  Connection,
  type ConnectionSink,
  computeResponse,
  createHandshakeNumbers,
  createKeySchedule,
  decodeHandshakeNumbers,
  decodeHandshakeSuccess,
  encodeHandshakeNumbers,
  encodeHandshakeSuccess,
  encodeMessage,
  type KeySchedule,
  messagePacketSize,
  parseKey,
  ROLE_CLIENT,
  TYPE_HANDSHAKE_REQUEST,
  TYPE_HANDSHAKE_RESPONSE,
} from "../../firmware/core/index.js";
import { nodeRandom } from "../../server/random.js";
import { testBytes } from "./seed.js";
import { KEY_HEX } from "./server.js";

export { delay, FAST, KEY_HEX, newClient, next, OTHER_KEY_HEX, startServer, until, within } from "./server.js";

// ---- process guard ----

/**
 * Installs process-level 'uncaughtException' and 'unhandledRejection' listeners for the
 * enclosing describe(), and fails the test during which either fired.
 */
export function guardProcess(): void {
  const seen: string[] = [];
  const onUncaught = (error: unknown) => void seen.push("uncaught exception: " + describe(error));
  const onRejection = (reason: unknown) => void seen.push("unhandled rejection: " + describe(reason));
  before(() => {
    process.on("uncaughtException", onUncaught);
    process.on("unhandledRejection", onRejection);
  });
  afterEach(() => {
    const found = seen.splice(0);
    // Failing the hook fails the run, naming the test during which it happened.
    if (found.length) throw new Error(found.join("\n"));
  });
  after(() => {
    process.removeListener("uncaughtException", onUncaught);
    process.removeListener("unhandledRejection", onRejection);
  });
}

function describe(thing: unknown): string {
  return thing instanceof Error ? thing.stack || thing.message : String(thing);
}

// ---- hand-made packets ----

export function schedule(keyHex: string = KEY_HEX): KeySchedule {
  return createKeySchedule(parseKey(keyHex));
}

/** A HandshakeRequest with fresh random numbers under `key`; also returns the numbers. */
export function makeRequest(key: KeySchedule): { packet: Buffer; numbers: Uint32Array } {
  const numbers = createHandshakeNumbers();
  const raw = testBytes(20);
  numbers.set([raw.readUInt32LE(0), raw.readUInt32LE(4), raw.readUInt32LE(8), raw.readUInt32LE(12), raw.readUInt32LE(16)]);
  const packet = Buffer.alloc(25);
  encodeHandshakeNumbers(TYPE_HANDSHAKE_REQUEST, numbers, packet, 0, key, nodeRandom);
  return { packet, numbers };
}

/** The numbers a 25-byte Request (or Response) carries, decrypted under `key` (the packet is not changed). */
export function readNumbers(packet: Uint8Array, key: KeySchedule): Uint32Array {
  const copy = Uint8Array.from(packet);
  const numbers = createHandshakeNumbers();
  decodeHandshakeNumbers(copy, 0, key, numbers);
  return numbers;
}

/** The honest HandshakeResponse to `request` under `key`; `tamper` may change the numbers first. */
export function makeResponse(request: Uint8Array, key: KeySchedule, tamper?: (response: Uint32Array) => void, encryptKey: KeySchedule = key): Buffer {
  const response = createHandshakeNumbers();
  computeResponse(readNumbers(request, key), response);
  if (tamper) tamper(response);
  const packet = Buffer.alloc(25);
  encodeHandshakeNumbers(TYPE_HANDSHAKE_RESPONSE, response, packet, 0, encryptKey, nodeRandom);
  return packet;
}

export function makeSuccess(sessionKey: Uint32Array, key: KeySchedule): Buffer {
  const packet = Buffer.alloc(33);
  encodeHandshakeSuccess(sessionKey, packet, 0, key);
  return packet;
}

/** A RegularMessage carrying `bytes`, sealed under the session key `words`. */
export function makeMessage(bytes: Uint8Array, words: Uint32Array, rounds = 32): Buffer {
  const packet = Buffer.alloc(messagePacketSize(bytes.length));
  encodeMessage(packet, 0, bytes, 0, bytes.length, createKeySchedule(words, rounds), nodeRandom);
  return packet;
}

/** A RegularMessage header with any LENGTH (0 and > 65528 included) and `body` bytes after it. */
export function rawMessageHeader(length: number, body = 0): Buffer {
  const packet = Buffer.alloc(3 + body);
  packet[0] = 0x01;
  packet.writeUInt16BE(length, 1);
  return packet;
}

// ---- raw sockets ----

/** Collects everything a socket receives; `read(n)` resolves with the next n bytes (bounded). */
export class ByteReader {
  private buffered = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  closed = false;
  readonly closedPromise: Promise<void>;

  constructor(readonly socket: Socket) {
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.wake();
    });
    this.closedPromise = new Promise((resolve) =>
      socket.once("close", () => {
        this.closed = true;
        this.wake();
        resolve();
      }),
    );
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    if (w) w();
  }

  get available(): number {
    return this.buffered.length;
  }

  async read(n: number, ms = 3000): Promise<Buffer> {
    const deadline = Date.now() + ms;
    while (this.buffered.length < n) {
      if (this.closed) throw new Error("socket closed after " + this.buffered.length + " of " + n + " bytes");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for " + n + " bytes (have " + this.buffered.length + ")");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return Buffer.from(out);
  }

  /** Resolves when the socket has closed (bounded). */
  waitClosed(ms = 3000): Promise<void> {
    return withTimeout(this.closedPromise, ms, "the socket to close");
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timed out after " + ms + " ms waiting for " + what)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Opens a raw socket to 127.0.0.1:port; resolves once connected. */
export function rawSocket(port: number): Promise<{ socket: Socket; reader: ByteReader; peer: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, noDelay: true });
    const reader = new ByteReader(socket);
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.removeListener("error", reject);
      resolve({ socket, reader, peer: "127.0.0.1:" + socket.localPort });
    });
  });
}

/**
 * Does the client side of the handshake by hand on a raw socket (no Connection, no timers):
 * returns the session key the server sent and the raw bytes of the exchange.
 */
export async function handHandshake(port: number, key: KeySchedule = schedule()) {
  const raw = await rawSocket(port);
  const request = await raw.reader.read(25);
  const response = makeResponse(request, key);
  raw.socket.write(response);
  const success = await raw.reader.read(33);
  const sessionKey = new Uint32Array(8);
  const copy = Uint8Array.from(success);
  decodeHandshakeSuccess(copy, 0, key, sessionKey);
  return { ...raw, request, response, success, sessionKey };
}

/** A core Connection driving an existing socket (either role), with its outcomes as promises. */
export interface CorePeer {
  connection: Connection;
  handshake: Promise<string>;
  ended: Promise<string>;
  messages: Buffer[];
}

export function corePeer(
  socket: Socket,
  role: number,
  keyHex: string = KEY_HEX,
  timing: { keepAliveIntervalMs?: number; inactivityTimeoutMs?: number } = {},
): CorePeer {
  let handshakeDone!: (value: string) => void;
  let endedDone!: (value: string) => void;
  const messages: Buffer[] = [];
  const sink: ConnectionSink = {
    write: (bytes, length) => {
      if (!socket.destroyed) socket.write(Buffer.from(bytes.subarray(0, length)));
    },
    close: () => void socket.end(),
    handshakeSucceeded: () => handshakeDone("open"),
    handshakeFailed: (reason) => handshakeDone(reason),
    message: (bytes, at, length) => void messages.push(Buffer.from(bytes.subarray(at, at + length))),
    ended: (reason) => endedDone(reason),
  };
  const connection = new Connection(
    role,
    {
      handshakeKey: schedule(keyHex),
      random: nodeRandom,
      clock: Date.now,
      keepAliveIntervalMs: timing.keepAliveIntervalMs ?? 100000,
      inactivityTimeoutMs: timing.inactivityTimeoutMs ?? -1,
      handshakeTimeoutMs: 10000,
    },
    sink,
  );
  socket.on("error", () => {});
  socket.on("data", (chunk: Buffer) => connection.receive(chunk));
  socket.on("close", () => connection.transportClosed());
  connection.start();
  return {
    connection,
    handshake: new Promise((resolve) => (handshakeDone = resolve)),
    ended: new Promise((resolve) => (endedDone = resolve)),
    messages,
  };
}

export { ROLE_CLIENT };

// ---- a scripted server for client-side attacks ----

export interface FakeServer {
  port: number;
  /** Every accepted socket, in order. */
  sockets: Socket[];
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1 that runs `script` on each connection (errors in the script are swallowed after closing the socket). */
export async function fakeServer(script: (socket: Socket, reader: ByteReader, index: number) => Promise<void> | void): Promise<FakeServer> {
  const sockets: Socket[] = [];
  const server: Server = createServer({ noDelay: true }, (socket) => {
    const index = sockets.length;
    sockets.push(socket);
    const reader = new ByteReader(socket);
    Promise.resolve()
      .then(() => script(socket, reader, index))
      .catch(() => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// ---- a TCP proxy on 127.0.0.1 ----

export type ProxyMode = "pass" | "bytes" | "batch";

/**
 * Forwards each connection to 127.0.0.1:target. Modes: "pass" forwards chunks as they come;
 * "bytes" forwards one byte per write, waiting for each write to complete and a turn of the
 * event loop between bytes; "batch" holds what arrives and forwards it in one write once the
 * direction has been quiet for `batchMs`. `freeze()` stops forwarding in both directions while
 * keeping every socket open (a half-open path: no FIN, no RST), `thaw()` resumes.
 */
export class TcpProxy {
  port = 0;
  mode: ProxyMode;
  frozen = false;
  /** Writes made toward the server and toward the client. */
  writesToServer = 0;
  writesToClient = 0;
  private server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly held: Array<() => void> = [];

  constructor(
    private readonly target: number,
    mode: ProxyMode = "pass",
    private readonly batchMs = 40,
  ) {
    this.mode = mode;
    this.server = createServer({ noDelay: true }, (inbound) => this.accept(inbound));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  private accept(inbound: Socket): void {
    const outbound = connect({ host: "127.0.0.1", port: this.target, noDelay: true });
    for (const s of [inbound, outbound]) {
      this.sockets.add(s);
      s.on("error", () => {});
      s.on("close", (hadError: boolean) => {
        this.sockets.delete(s);
        // A reset on one side is passed on at once, unless the path is frozen (a FIN is
        // passed on by pipe() after what it holds has been forwarded).
        if (hadError && !this.frozen) (s === inbound ? outbound : inbound).destroy();
      });
    }
    this.pipe(inbound, outbound, true);
    this.pipe(outbound, inbound, false);
  }

  private pipe(from: Socket, to: Socket, toServer: boolean): void {
    const queue: Buffer[] = [];
    let pumping = false;
    let batchTimer: NodeJS.Timeout | null = null;
    const count = () => (toServer ? this.writesToServer++ : this.writesToClient++);
    const write = (data: Buffer) =>
      new Promise<void>((resolve) => {
        if (to.destroyed) return resolve();
        count();
        to.write(data, () => resolve());
      });
    let ended = false;
    const pump = async () => {
      if (pumping) return;
      pumping = true;
      try {
        while (queue.length) {
          if (this.frozen) {
            await new Promise<void>((resolve) => this.held.push(resolve));
            continue;
          }
          const chunk = queue.shift() as Buffer;
          if (this.mode === "bytes") {
            for (let i = 0; i < chunk.length; i++) {
              await write(chunk.subarray(i, i + 1));
              await new Promise((resolve) => setImmediate(resolve));
            }
          } else {
            await write(chunk);
          }
        }
      } finally {
        pumping = false;
      }
      if (ended && !queue.length && !batchTimer) to.end();
    };
    from.on("end", () => {
      ended = true;
      if (batchTimer) {
        clearTimeout(batchTimer);
        batchTimer = null;
      }
      void pump();
    });
    from.on("data", (chunk: Buffer) => {
      if (this.mode === "batch") {
        queue.length ? (queue[0] = Buffer.concat([queue[0], chunk])) : queue.push(chunk);
        if (batchTimer) clearTimeout(batchTimer);
        batchTimer = setTimeout(() => {
          batchTimer = null;
          void pump();
        }, this.batchMs);
        return;
      }
      queue.push(chunk);
      void pump();
    });
  }

  freeze(): void {
    this.frozen = true;
  }

  thaw(): void {
    this.frozen = false;
    for (const resolve of this.held.splice(0)) resolve();
  }

  close(): Promise<void> {
    this.thaw();
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Asserts `reason` is one of `allowed`, naming the case. */
export function assertReasonIn(reason: string, allowed: readonly string[], what: string): void {
  assert.ok(allowed.includes(reason), what + ": reason '" + reason + "' not in [" + allowed.join(", ") + "]");
}

/** Runs `tasks` with at most `width` at once. */
export async function inBatches<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < count) {
      const i = nextIndex++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
  return results;
}

// ---- a peer that holds the key and stops reading ----

export interface Pusher {
  socket: Socket;
  peer: string;
  /** Resolves with the bytes it wrote, once the server has closed it or its time is up. */
  done: Promise<number>;
}

/**
 * An authenticated peer that never reads: after a hand-made handshake it writes one sealed
 * message of `size` bytes over and over (v1 has no sequence numbers, so a replay is a valid
 * message) until `total` bytes went out, then a KeepAlive every `keepAliveMs`, until the
 * server closes the connection or `maxMs` have passed (then it closes itself).
 */
export async function nonReadingPusher(
  port: number,
  opts: { total: number; size: number; keepAliveMs: number; maxMs: number; keyHex?: string },
): Promise<Pusher> {
  const hand = await handHandshake(port, schedule(opts.keyHex ?? KEY_HEX));
  const { socket, reader } = hand;
  socket.pause();
  const packet = makeMessage(testBytes(opts.size), hand.sessionKey);
  const deadline = Date.now() + opts.maxMs;
  const gone = () => reader.closed || socket.destroyed || Date.now() > deadline;
  const done = (async () => {
    let pushed = 0;
    while (pushed < opts.total && !gone()) {
      pushed += packet.length;
      socket.write(packet);
      // Our own backpressure, without a listener per wait.
      while (socket.writableLength > 256 * 1024 && !gone()) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    while (!gone()) {
      socket.write(Buffer.from([0x05]));
      await Promise.race([reader.closedPromise, new Promise((resolve) => setTimeout(resolve, opts.keepAliveMs))]);
    }
    socket.destroy();
    return pushed;
  })();
  return { socket, peer: hand.peer, done };
}
