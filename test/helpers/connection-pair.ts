// Two core Connections wired back to back in memory, with a hand-driven clock: the
// protocol engine exercised without sockets or timers (the driver tests use real sockets).
import { randomFillSync } from "node:crypto";
import { Connection, type ConnectionOptions, type ConnectionSink, ROLE_CLIENT, ROLE_SERVER } from "../../firmware/core/connection.js";
import { parseKey } from "../../firmware/core/keys.js";
import { createKeySchedule } from "../../firmware/core/xtea.js";
import { vectors } from "./vectors.js";

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

export function pair(overrides: Partial<ConnectionOptions> = {}, clientKey = vectors.handshakeKey) {
  const clock = { now: 1000 };
  const base = {
    handshakeKey: createKeySchedule(parseKey(vectors.handshakeKey)),
    random: cryptoRandom,
    clock: () => clock.now,
    keepAliveIntervalMs: 100,
    inactivityTimeoutMs: 1000,
    handshakeTimeoutMs: 500,
    ...overrides,
  };
  const serverSink = recorder();
  const clientSink = recorder();
  const server = new Connection(ROLE_SERVER, base, serverSink);
  const client = new Connection(ROLE_CLIENT, { ...base, handshakeKey: createKeySchedule(parseKey(clientKey)) }, clientSink);
  /** Moves everything written so far to the other side, until both are quiet. */
  const flush = () => {
    while (serverSink.wire.length || clientSink.wire.length) {
      for (const chunk of serverSink.wire.splice(0)) client.receive(chunk);
      for (const chunk of clientSink.wire.splice(0)) server.receive(chunk);
    }
  };
  return { clock, server, client, serverSink, clientSink, flush };
}
