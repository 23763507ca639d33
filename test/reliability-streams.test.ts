// Stream shapes over real sockets: every valid exchange still works when TCP delivers
// it one byte at a time, and when many packets arrive in one chunk. A proxy on 127.0.0.1 sits
// between a real client and the real server and re-chunks both directions.

import assert from "node:assert/strict";
import type { LightweightSecureServer, Session } from "../server/index.js";
import { guardProcess, newClient, next, startServer, TcpProxy, until, within } from "./helpers/reliability.js";
import { testBytes } from "./helpers/seed.js";

describe("reliability: stream shapes", function () {
  this.timeout(60000);
  guardProcess();

  let server: LightweightSecureServer;
  let proxy: TcpProxy | undefined;
  const received: Buffer[] = [];

  beforeEach(async () => {
    received.length = 0;
    server = await startServer({ keepAliveIntervalMs: 150, inactivityTimeoutMs: 10000, handshakeTimeoutMs: 10000 });
    server.on("session", (s: Session) => {
      s.sendMessage("hello from the server"); // goes out right behind the HandshakeSuccess
      s.on("message", (_t: string, bytes: Buffer) => {
        received.push(bytes);
        s.sendMessage(bytes);
      });
    });
  });

  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    await server.stop();
  });

  async function exchange(mode: "bytes" | "batch", sizes: number[]) {
    proxy = await new TcpProxy(server.port, mode).start();
    const client = newClient(proxy.port, { keepAliveIntervalMs: 150, inactivityTimeoutMs: 10000, handshakeTimeoutMs: 10000 });
    const messages: Buffer[] = [];
    client.on("message", (_t: string, bytes: Buffer) => messages.push(bytes));
    const result = await within(client.connectToServer(), 15000, "the handshake through the proxy");
    assert.equal(result.success, true, result.reason);
    const payloads = sizes.map((n) => testBytes(n));
    for (const p of payloads) client.sendMessage(p);
    await until(() => messages.length === payloads.length + 1, { timeoutMs: 20000, what: "every echo" });
    assert.equal(messages[0].toString(), "hello from the server");
    assert.deepEqual(messages.slice(1), payloads);
    assert.deepEqual(received, payloads);
    // Keep-alives keep flowing through the same path, and the session ends cleanly.
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(client.isConnected, true);
    const ended = next<[string]>(server.sessions[0], "ended", 10000);
    await client.disconnect();
    assert.deepEqual(await ended, ["disconnect"]);
    return { proxy };
  }

  it("one byte per TCP write in both directions: handshake, messages of 1, 7, 8, 9 and 300 bytes, keep-alives, Disconnect", async () => {
    const sizes = [1, 7, 8, 9, 300];
    const { proxy } = await exchange("bytes", sizes);
    // Every byte of the exchange went through as its own write.
    const clientBytes = 25 + sizes.reduce((sum, n) => sum + 3 + Math.ceil(n / 8) * 8, 0);
    assert.ok(proxy.writesToServer >= clientBytes, proxy.writesToServer + " writes toward the server");
    assert.ok(proxy.writesToClient >= 25 + 33 + clientBytes, proxy.writesToClient + " writes toward the client");
  });

  it("many packets in one chunk: 100 messages (and the Success with a message behind it) each arrive as one write", async () => {
    const sizes = Array.from({ length: 100 }, (_, i) => 1 + ((i * 37) % 200));
    const { proxy } = await exchange("batch", sizes);
    // Request, Response, Success+hello, the burst each way, a few keep-alives, Disconnect: few writes for 200+ packets.
    assert.ok(proxy.writesToServer < 30, proxy.writesToServer + " writes toward the server");
    assert.ok(proxy.writesToClient < 30, proxy.writesToClient + " writes toward the client");
  });
});
