// Floods and slow peers at small counts (`npm run stress` runs the large ones): silent
// connections, slowloris, connect/close churn, and a flood over the handshake cap. The server
// drops them at the handshake timeout, stays under its caps, and keeps serving an honest client.

import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import type { LightweightSecureServer } from "../server/index.js";
import { delay, guardProcess, inBatches, makeResponse, newClient, rawSocket, schedule, startServer, until, within } from "./helpers/reliability.js";

const HANDSHAKE_TIMEOUT_MS = 600;

describe("reliability: floods and slow peers (small counts)", function () {
  this.timeout(60000);
  guardProcess();

  let server: LightweightSecureServer;
  const reasons: string[] = [];
  let peakHandshakes = 0;
  const sockets: Socket[] = [];

  async function start(options: { maxHandshakes?: number } = {}) {
    reasons.length = 0;
    peakHandshakes = 0;
    server = await startServer({ handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS, keepAliveIntervalMs: 200, inactivityTimeoutMs: 5000, ...options });
    server.on("handshakeFailed", (r) => reasons.push(r.reason));
    server.on("handshakeStarted", () => (peakHandshakes = Math.max(peakHandshakes, server.handshakeCount)));
  }

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await server.stop();
  });

  /** Honest handshakes, one after another, while `busy()` holds; each must succeed. */
  async function honestWhile(busy: () => boolean, atLeast: number): Promise<number> {
    let done = 0;
    while (busy() || done < atLeast) {
      const client = newClient(server);
      const result = await within(client.connectToServer(), 10000, "an honest handshake during the flood");
      assert.equal(result.success, true, "honest handshake " + done + ": " + result.reason);
      await client.disconnect();
      done++;
    }
    return done;
  }

  /** Internal: connections whose socket is not closed yet. */
  const liveConnections = () => (server as unknown as { drivers: Set<unknown> }).drivers.size;

  it("100 connections that never send a byte are dropped at the handshake timeout while an honest client is served", async () => {
    await start();
    for (let i = 0; i < 100; i++) sockets.push(connect({ host: "127.0.0.1", port: server.port }).on("error", () => {}));
    await until(() => server.handshakeCount >= 100, { timeoutMs: 5000, what: "100 handshakes in progress" });
    const honest = await honestWhile(() => reasons.length < 100, 3);
    await until(() => reasons.length === 100, { timeoutMs: 10000, what: "the silent ones to time out" });
    assert.ok(
      reasons.every((r) => r === "handshake-timeout"),
      reasons.join(),
    );
    assert.ok(honest >= 3);
    await until(() => server.handshakeCount === 0 && liveConnections() === 0, { timeoutMs: 5000, what: "nothing left of the flood" });
  });

  it("50 slowloris clients sending a correct Response one byte every 50 ms are dropped at the handshake timeout; an honest client is served", async () => {
    await start();
    let stop = false;
    const slow = Array.from({ length: 50 }, async () => {
      const raw = await rawSocket(server.port);
      sockets.push(raw.socket);
      const response = makeResponse(await raw.reader.read(25), schedule());
      for (let i = 0; i < response.length && !stop && !raw.reader.closed; i++) {
        raw.socket.write(response.subarray(i, i + 1));
        await delay(50);
      }
    });
    const honest = await honestWhile(() => reasons.length < 50, 3);
    await until(() => reasons.length === 50, { timeoutMs: 10000, what: "the slow ones to time out" });
    stop = true;
    await Promise.all(slow);
    assert.ok(
      reasons.every((r) => r === "handshake-timeout"),
      reasons.join(),
    );
    assert.equal(server.stats.handshakesSucceeded, honest);
    await until(() => server.handshakeCount === 0 && liveConnections() === 0, { timeoutMs: 5000, what: "nothing left of the slowloris" });
  });

  it("connect/close churn (200 closes at once, 100 resets, 100 after the Request) leaves nothing behind, and honest handshakes all succeed", async () => {
    await start();
    let churning = true;
    const churn = (async () => {
      await inBatches(200, 20, async () => {
        const s = connect({ host: "127.0.0.1", port: server.port }).on("error", () => {});
        await new Promise((resolve) => s.once("connect", resolve));
        s.destroy();
      });
      await inBatches(100, 20, async () => {
        const raw = await rawSocket(server.port);
        raw.socket.resetAndDestroy();
      });
      await inBatches(100, 20, async () => {
        const raw = await rawSocket(server.port);
        await raw.reader.read(25);
        raw.socket.end();
      });
      churning = false;
    })();
    const honest = await honestWhile(() => churning, 5);
    await churn;
    await until(() => server.stats.accepted === 400 + honest && server.handshakeCount === 0 && liveConnections() === 0, {
      timeoutMs: 10000,
      what: "every churned connection accounted for",
    });
    assert.equal(server.stats.handshakesSucceeded, honest);
    assert.equal(server.stats.handshakesFailed, 400);
    assert.ok(
      reasons.every((r) => r === "peer-closed"),
      [...new Set(reasons)].join(),
    );
  });

  it("60 silent connections over a cap of 20 concurrent handshakes: the oldest give their slots to the newest, the cap holds, and an honest client gets in at once", async () => {
    await start({ maxHandshakes: 20 });
    const refused: string[] = [];
    server.on("refused", (r: { reason: string }) => refused.push(r.reason));
    for (let i = 0; i < 60; i++) sockets.push(connect({ host: "127.0.0.1", port: server.port }).on("error", () => {}));
    await until(() => server.stats.accepted === 60 && reasons.length === 40, { timeoutMs: 5000, what: "every flood connection accepted, 40 evicted" });
    assert.equal(server.handshakeCount, 20);
    assert.ok(
      reasons.every((r) => r === "handshake-limit"),
      reasons.join(),
    );
    assert.equal(server.stats.evicted, 40);
    assert.deepEqual(refused, []);
    const client = newClient(server);
    const result = await within(client.connectToServer(), 2000, "the honest client, at its first attempt");
    assert.equal(result.success, true);
    assert.ok(peakHandshakes <= 20, "peak " + peakHandshakes);
    await client.disconnect();
  });
});
