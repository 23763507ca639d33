// The Espruino net driver (firmware/transport.ts) over fake sockets that behave like
// Espruino's: `data` delivers binary strings, `write` takes what it is given. Two transports
// (client and server) run a whole session; every write must be a string, never a typed array
// (Espruino would send a Uint8Array as the decimal text "9,9").

import assert from "node:assert/strict";
import { randomFillSync } from "node:crypto";
import { type ConnectionOptions, ROLE_CLIENT, ROLE_SERVER } from "../firmware/core/connection.js";
import { DEMO_KEY_WORDS, parseKey } from "../firmware/core/keys.js";
import { createKeySchedule } from "../firmware/core/xtea.js";
import { attachSocket, type EspruinoSocket, type TransportEvents } from "../firmware/transport.js";
import { type EspruinoStubs, installEspruinoStubs } from "./helpers/espruino-stubs.js";
import { until } from "./helpers/until.js";

/** A socket pair: what one side writes arrives at the other as `data` (binary string), later, in pieces. */
class FakeSocket implements EspruinoSocket {
  peer: FakeSocket | undefined;
  writes: unknown[] = [];
  closed = false;
  ended = false;
  private listeners: Record<string, Array<(arg?: any) => void>> = {};
  on(event: string, listener: (arg?: any) => void): void {
    (this.listeners[event] ||= []).push(listener);
  }
  emit(event: string, arg?: unknown): void {
    for (const l of this.listeners[event] || []) l(arg);
  }
  write(data: unknown): boolean {
    this.writes.push(data);
    if (this.closed) throw new Error("This socket is closed");
    const text = String(data); // what Espruino's jsvAsString would send
    const peer = this.peer;
    // Split into small chunks to exercise reassembly, delivered asynchronously as on a device.
    for (let i = 0; i < text.length; i += 7) {
      const chunk = text.slice(i, i + 7);
      setImmediate(() => peer && !peer.closed && peer.emit("data", chunk));
    }
    return false; // Espruino's write always returns false
  }
  end(): void {
    if (this.closed) return;
    this.ended = true;
    setImmediate(() => {
      this.shut();
      this.peer?.shut();
    });
  }
  shut(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit("end");
    this.emit("close", false);
  }
}

function pair(): [FakeSocket, FakeSocket] {
  const a = new FakeSocket();
  const b = new FakeSocket();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

function options(key = DEMO_KEY_WORDS): ConnectionOptions {
  return {
    handshakeKey: createKeySchedule(parseKey(key), 32),
    random: (buf, at, length) => randomFillSync(buf, at, length),
    clock: () => Date.now(),
    keepAliveIntervalMs: 50,
    inactivityTimeoutMs: 1000,
    handshakeTimeoutMs: 500,
  };
}

function recorder() {
  const log: string[] = [];
  const messages: string[] = [];
  const events: TransportEvents = {
    handshakeSucceeded: () => log.push("success"),
    handshakeFailed: (reason) => log.push("failed " + reason),
    message: (text) => messages.push(text),
    ended: (reason) => log.push("ended " + reason),
    error: (text) => log.push("error " + text),
  };
  return { log, messages, events };
}

const binary = (bytes: number[]) => String.fromCharCode(...bytes);

describe("firmware: Espruino net transport", () => {
  let stubs: EspruinoStubs;
  beforeEach(() => {
    stubs = installEspruinoStubs();
  });
  afterEach(() => stubs.restore());

  it("runs a session over binary-string chunks, and every write is a string", async () => {
    const [clientSocket, serverSocket] = pair();
    const c = recorder();
    const s = recorder();
    const client = attachSocket(clientSocket, ROLE_CLIENT, options(), c.events);
    const server = attachSocket(serverSocket, ROLE_SERVER, options(), s.events);
    server.start();
    await until(() => client.isOpen && server.isOpen, { timeoutMs: 3000, what: "both sides open" });
    assert.deepEqual([c.log, s.log], [["success"], ["success"]]);

    const bytes = binary([0, 1, 2, 200, 255, 10, 57, 44, 57]);
    client.sendByteString(bytes);
    client.sendByteString("x".repeat(1000));
    await until(() => s.messages.length === 2, { timeoutMs: 3000, what: "two messages at the server" });
    assert.deepEqual(s.messages, [bytes, "x".repeat(1000)]);
    server.sendBytes(new Uint8Array([9, 9]), 0, 2);
    await until(() => c.messages.length === 1, { timeoutMs: 3000, what: "the reply at the client" });
    assert.equal(c.messages[0], "\x09\x09");

    await new Promise((r) => setTimeout(r, 120)); // keep-alives flow meanwhile
    client.disconnect();
    await until(() => s.log.includes("ended disconnect") && c.log.includes("ended local-disconnect"), { timeoutMs: 3000, what: "both sides ended" });
    for (const socket of [clientSocket, serverSocket]) {
      assert.ok(socket.writes.length > 3);
      for (const w of socket.writes) assert.equal(typeof w, "string", "socket.write was handed " + Object.prototype.toString.call(w));
    }
    assert.ok(clientSocket.ended, "the side that disconnected ends its socket");
  });

  it("reports a wrong key as a handshake failure on both sides and closes", async () => {
    const [clientSocket, serverSocket] = pair();
    const c = recorder();
    const s = recorder();
    attachSocket(clientSocket, ROLE_CLIENT, options([1, 2, 3, 4, 5, 6, 7, 8]), c.events);
    attachSocket(serverSocket, ROLE_SERVER, options(), s.events).start();
    await until(() => c.log.length > 0 && s.log.length > 0, { timeoutMs: 3000, what: "both sides failed" });
    // The client decrypts the Request to other numbers and answers a well-formed 0x03 that cannot
    // verify; the server then closes, which is all the client learns.
    assert.equal(s.log[0], "failed verify-failed");
    assert.equal(c.log[0], "failed peer-closed");
    assert.deepEqual([c.messages, s.messages], [[], []]);
  });

  it("ends the connection when the socket closes or errors, and stops its timer", async () => {
    const [clientSocket, serverSocket] = pair();
    const c = recorder();
    const s = recorder();
    const client = attachSocket(clientSocket, ROLE_CLIENT, options(), c.events);
    attachSocket(serverSocket, ROLE_SERVER, options(), s.events).start();
    await until(() => client.isOpen, { timeoutMs: 3000, what: "open" });
    clientSocket.emit("error", { code: -9, message: "reset" });
    assert.deepEqual(c.log, ["success", "error socket error -9 reset", "ended socket-error"]);
    serverSocket.shut();
    await until(() => s.log.includes("ended peer-closed"), { timeoutMs: 3000, what: "server ended" });
    // With the timers stopped nothing more happens: no keep-alive writes after the end.
    const writes = clientSocket.writes.length;
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(clientSocket.writes.length, writes);
  });

  it('never writes the text "undefined" when E.toString cannot allocate: it reports and ends the socket', async () => {
    const [clientSocket, serverSocket] = pair();
    const c = recorder();
    const s = recorder();
    const client = attachSocket(clientSocket, ROLE_CLIENT, options(), c.events);
    attachSocket(serverSocket, ROLE_SERVER, options(), s.events).start();
    await until(() => client.isOpen, { timeoutMs: 3000, what: "open" });
    const E = (globalThis as any).E;
    const realToString = E.toString;
    E.toString = (data: Uint8Array) => (data.length > 100 ? undefined : realToString(data));
    client.sendByteString("y".repeat(500));
    E.toString = realToString;
    assert.ok(c.log.includes("error out of memory for 507 bytes"), c.log.join(", "));
    assert.ok(!clientSocket.writes.includes("undefined") && !clientSocket.writes.includes(undefined));
    await until(() => c.log.includes("ended socket-error") && s.log.includes("ended peer-closed"), { timeoutMs: 3000, what: "both ended" });
    assert.deepEqual(s.messages, []);
  });

  it("a handshake that never completes times out and closes the socket", async () => {
    const [clientSocket] = pair();
    const c = recorder();
    attachSocket(clientSocket, ROLE_CLIENT, options(), c.events); // no server answers
    await until(() => c.log.length > 0, { timeoutMs: 2000, what: "timeout" });
    assert.deepEqual(c.log, ["failed handshake-timeout"]);
    assert.ok(clientSocket.ended);
  });
});
