// Two core connections of one profile wired back to back in memory, with a hand-driven clock:
// the protocol engine exercised without sockets or timers (the driver tests use real sockets).
// pairOf(V1) and pairOf(V2) are the same harness; PROFILES lists both for suites that run
// one table of cases against each.
import { randomFillSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Connection, type ConnectionOptions } from "../../firmware/core/connection.js";
import { parseKey } from "../../firmware/core/keys.js";
import { type ConnectionSink, type LifecycleOptions, ROLE_CLIENT, ROLE_SERVER } from "../../firmware/core/lifecycle.js";
import { ConnectionV2, type ConnectionV2Options } from "../../firmware/core/v2/connection.js";
import { createKeySchedule } from "../../firmware/core/xtea.js";
import { nodePrimitives } from "../../server/crypto-v2.js";
import { testBytes } from "./seed.js";
import { hex, repoRoot, vectors } from "./vectors.js";

/** The v2 vectors' pre-shared key: the v2 pair holds it unless a test gives another. */
const V2_PSK_HEX: string = JSON.parse(readFileSync(join(repoRoot, "test", "vectors", "lwstcp-v2.json"), "utf8")).psk;

export interface Recorder extends ConnectionSink {
  events: string[];
  messages: string[];
  wire: Uint8Array[];
  closed: number;
}

export function recorder(): Recorder {
  const r: Recorder = {
    events: [],
    messages: [],
    wire: [],
    closed: 0,
    write: (bytes, length) => void r.wire.push(bytes.slice(0, length)),
    close: () => void r.closed++,
    handshakeSucceeded: () => void r.events.push("handshake-success"),
    handshakeFailed: (reason) => void r.events.push("handshake-failed:" + reason),
    message: (bytes, at, length) => void r.messages.push(Buffer.from(bytes.subarray(at, at + length)).toString("utf8")),
    ended: (reason) => void r.events.push("ended:" + reason),
  };
  return r;
}

export const cryptoRandom = (buf: Uint8Array, at: number, length: number): void => void randomFillSync(buf, at, length);

/** One profile as the harness and the lifecycle table need it. */
export interface ProfileKit<C, O extends LifecycleOptions> {
  name: "v1" | "v2";
  /** The options of one side holding `keyHex` (default: the shared test key). */
  options(lifecycle: LifecycleOptions, keyHex?: string): O;
  create(role: number, options: O, sink: ConnectionSink): C;
  /** What the server reports when the client holds another key. */
  wrongKeyReason: string;
  /** A whole Keep-Alive packet sent before any key exists (a handshake failure). */
  earlyKeepAlive: Uint8Array;
  /** Broken input inside an open session and the reason it ends the session with. */
  sessionGarbage: Array<[Uint8Array, string]>;
}

export const V1: ProfileKit<Connection, ConnectionOptions> = {
  name: "v1",
  options: (lifecycle, keyHex = vectors.handshakeKey) => ({ ...lifecycle, handshakeKey: createKeySchedule(parseKey(keyHex)) }),
  create: (role, options, sink) => new Connection(role, options, sink),
  wrongKeyReason: "verify-failed",
  earlyKeepAlive: Uint8Array.of(5),
  sessionGarbage: [
    [Uint8Array.of(2, ...new Uint8Array(24), 5), "unexpected-handshake-packet"],
    [Uint8Array.of(9, 1, 0, 1), "unknown-type"],
    [Uint8Array.of(1, 0, 0), "zero-length"],
  ],
};

export const V2: ProfileKit<ConnectionV2, ConnectionV2Options> = {
  name: "v2",
  options: (lifecycle, keyHex) => ({ ...lifecycle, preSharedKey: keyHex ? parseKey(keyHex) : hex(V2_PSK_HEX), primitives: nodePrimitives }),
  create: (role, options, sink) => new ConnectionV2(role, options, sink),
  wrongKeyReason: "proof-failed",
  earlyKeepAlive: Uint8Array.of(0x15, 0, 0, ...new Uint8Array(16)),
  sessionGarbage: [
    [Uint8Array.of(0x12, ...new Uint8Array(16)), "unexpected-handshake-packet"],
    [Uint8Array.of(0x17, 1, 0, 1), "unknown-type"],
    [Uint8Array.of(0x11, 0, 0), "zero-length"],
  ],
};

/** Random bytes from the test's seeded stream (test/helpers/seed.ts). */
const seededRandom = (buf: Uint8Array, at: number, length: number): void => buf.set(testBytes(length), at);

/** Both profiles, for one table of lifecycle cases. */
export const PROFILES = [V1, V2] as Array<ProfileKit<Connection | ConnectionV2, LifecycleOptions>>;

/**
 * A server and a client of `kit`'s profile with the shared test key (the client's `keyHex` may
 * differ), a clock at 1000 ms that the test moves, and `flush` to deliver until both are quiet.
 */
export function pairOf<C extends { receive(chunk: Uint8Array): void }, O extends LifecycleOptions>(
  kit: ProfileKit<C, O>,
  overrides: Partial<O> = {},
  clientOverrides: Partial<O> = {},
  clientKeyHex?: string,
) {
  const clock = { now: 1000 };
  const lifecycle: LifecycleOptions = {
    // The run's seed decides nonces and padding, so a case that fails fails again with its seed.
    random: seededRandom,
    clock: () => clock.now,
    keepAliveIntervalMs: 100,
    inactivityTimeoutMs: 1000,
    handshakeTimeoutMs: 500,
  };
  const serverSink = recorder();
  const clientSink = recorder();
  const server = kit.create(ROLE_SERVER, { ...kit.options(lifecycle), ...overrides }, serverSink);
  const client = kit.create(ROLE_CLIENT, { ...kit.options(lifecycle, clientKeyHex), ...overrides, ...clientOverrides }, clientSink);
  /** Moves everything written so far to the other side, until both are quiet. */
  const flush = () => {
    while (serverSink.wire.length || clientSink.wire.length) {
      for (const chunk of serverSink.wire.splice(0)) client.receive(chunk);
      for (const chunk of clientSink.wire.splice(0)) server.receive(chunk);
    }
  };
  return { clock, server, client, serverSink, clientSink, flush };
}

/** The v1 pair (the client may hold another key). */
export function pair(overrides: Partial<ConnectionOptions> = {}, clientKeyHex?: string) {
  return pairOf(V1, overrides, {}, clientKeyHex);
}

/** The v2 pair; `clientOverrides` apply to the client only. */
export function pairV2(overrides: Partial<ConnectionV2Options> = {}, clientOverrides: Partial<ConnectionV2Options> = {}) {
  return pairOf(V2, overrides, clientOverrides);
}
