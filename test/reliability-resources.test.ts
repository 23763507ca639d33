// Churn and resources at small counts (`npm run stress` runs 10,000 cycles with heap
// checks): 300 back-to-back connect → handshake → Disconnect cycles with 0 failed handshakes,
// after which the server holds no connection and the process no extra socket handle.

import assert from "node:assert/strict";
import type { LightweightSecureServer, Session } from "../server/index.js";
import { guardProcess, newClient, startServer, until, within } from "./helpers/reliability.js";

/** Open TCP handles of this process (sockets and servers). */
function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap" || r === "TCPServerWrap").length;
}

describe("reliability: churn and resources (small counts)", function () {
  this.timeout(60000);
  guardProcess();
  let server: LightweightSecureServer;

  afterEach(() => server.stop());

  it("300 back-to-back connect → handshake → message → Disconnect cycles: 0 failed handshakes, every session ended, no connection or handle left", async () => {
    const baseline = tcpHandles();
    server = await startServer();
    server.on("session", (s: Session) => s.on("message", (_t: string, bytes: Buffer) => s.sendMessage(bytes)));
    const clientFailures: string[] = [];
    for (let i = 0; i < 300; i++) {
      const client = newClient(server);
      client.on("handshakeFailed", (r) => clientFailures.push(r.reason));
      const result = await within(client.connectToServer(), 5000, "cycle " + i);
      assert.equal(result.success, true, "cycle " + i + ": " + result.reason);
      const echo = new Promise<string>((resolve) => client.once("message", resolve));
      client.sendMessage("cycle " + i);
      assert.equal(await within(echo, 5000, "echo " + i), "cycle " + i);
      await client.disconnect();
    }
    await until(() => server.stats.sessionsEnded === 300, { timeoutMs: 5000, what: "every session to end" });
    assert.deepEqual(clientFailures, []);
    assert.equal(server.stats.handshakesFailed, 0);
    assert.equal(server.stats.handshakesSucceeded, 300);
    const live = () => (server as unknown as { drivers: Set<unknown> }).drivers.size;
    await until(() => live() === 0 && server.sessionCount === 0 && server.handshakeCount === 0, { timeoutMs: 5000, what: "no connection left in the server" });
    // The listening socket is the only handle added.
    await until(() => tcpHandles() <= baseline + 1, {
      timeoutMs: 5000,
      what: "socket handles back to baseline (now " + tcpHandles() + ", baseline " + baseline + ")",
    });
  });

  it("50 concurrent sessions each sending 20 messages: all delivered in order, and everything is released after Disconnect", async () => {
    const baseline = tcpHandles();
    server = await startServer();
    const got = new Map<string, string[]>();
    server.on("session", (s: Session) => {
      got.set(s.peer, []);
      s.on("message", (t: string) => (got.get(s.peer) as string[]).push(t));
    });
    const clients = Array.from({ length: 50 }, () => newClient(server));
    const results = await within(Promise.all(clients.map((c) => c.connectToServer())), 10000, "50 handshakes");
    assert.ok(results.every((r) => r.success));
    clients.forEach((c, i) => {
      for (let m = 0; m < 20; m++) c.sendMessage(i + ":" + m);
    });
    await until(() => [...got.values()].reduce((n, list) => n + list.length, 0) === 1000, { timeoutMs: 10000, what: "1000 messages" });
    for (const list of got.values()) {
      const [who] = list[0].split(":");
      assert.deepEqual(
        list,
        Array.from({ length: 20 }, (_, m) => who + ":" + m),
      );
    }
    await Promise.all(clients.map((c) => c.disconnect()));
    await until(() => server.sessionCount === 0 && (server as unknown as { drivers: Set<unknown> }).drivers.size === 0, {
      timeoutMs: 5000,
      what: "all released",
    });
    await until(() => tcpHandles() <= baseline + 1, { timeoutMs: 5000, what: "socket handles back to baseline" });
  });
});
