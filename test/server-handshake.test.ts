// Handshakes over real sockets: many in a row and many at once, a wrong key, a silent
// client, missing keys, per-instance and module-level keys, and the connection caps.

import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { totalmem } from "node:os";
import {
  clearHandshakeKey,
  DEMO_KEY_WORDS,
  ERR_NO_HANDSHAKE_KEY,
  type HandshakeResult,
  LightweightSecureClient,
  LightweightSecureServer,
  REFUSED_ADDRESS_LIMIT,
  REFUSED_HANDSHAKE_LIMIT,
  type Session,
  setHandshakeKey,
  setNumberOfRounds,
} from "../server/index.js";
import { delay, FAST, KEY_HEX, newClient, next, OTHER_KEY_HEX, startServer, until, within } from "./helpers/server.js";

describe("server ↔ client handshakes", () => {
  let server: LightweightSecureServer;

  afterEach(async () => {
    clearHandshakeKey();
    setNumberOfRounds(32);
    if (server) await server.stop();
  });

  it("completes 200 handshakes one after another", async () => {
    server = await startServer();
    let sessions = 0;
    server.setOnHandshakeSuccess((result, session) => {
      assert.equal(result.success, true);
      assert.equal(session.isActive, true);
      sessions++;
    });
    for (let i = 0; i < 200; i++) {
      const client = newClient(server);
      const result = await within(client.connectToServer(), 3000, "handshake " + i);
      assert.equal(result.success, true, "handshake " + i + ": " + result.reason);
      assert.equal(client.isConnected, true);
      await client.disconnect();
    }
    assert.equal(sessions, 200);
    await until(() => server.sessionCount === 0, { timeoutMs: 3000, what: "all sessions ended" });
    assert.equal(server.stats.handshakesSucceeded, 200);
    assert.equal(server.stats.handshakesFailed, 0);
  });

  it("serves 200 concurrent clients, each with its own session", async () => {
    server = await startServer();
    server.on("session", (session: Session) => session.on("message", (text: string) => session.sendMessage("re:" + text)));
    const clients = Array.from({ length: 200 }, () => newClient(server));
    const results = await within(Promise.all(clients.map((c) => c.connectToServer())), 10000, "200 handshakes");
    assert.ok(results.every((r) => r.success));
    assert.equal(server.sessionCount, 200);
    const replies = await within(
      Promise.all(
        clients.map((client, i) => {
          const reply = next<[string]>(client, "message", 5000);
          client.sendMessage("client " + i);
          return reply;
        }),
      ),
      10000,
      "200 replies",
    );
    for (const [i, [text]] of replies.entries()) assert.equal(text, "re:client " + i);
    await Promise.all(clients.map((c) => c.disconnect()));
    await until(() => server.sessionCount === 0, { timeoutMs: 3000, what: "all sessions ended" });
  });

  it("fails a wrong key on both sides, and no session exists", async () => {
    server = await startServer();
    const serverFailed = next<[HandshakeResult]>(server, "handshakeFailed");
    let sessionSeen = false;
    server.on("session", () => (sessionSeen = true));
    const client = newClient(server, { key: OTHER_KEY_HEX });
    const clientFailed: HandshakeResult[] = [];
    client.setOnHandshakeFailed((result) => clientFailed.push(result));
    const result = await within(client.connectToServer(), 3000, "client outcome");
    const [serverResult] = await serverFailed;
    assert.equal(serverResult.success, false);
    assert.equal(serverResult.reason, "verify-failed");
    assert.match(serverResult.errorMessage, /different handshake key/);
    assert.equal(serverResult.ipAddress, "127.0.0.1");
    assert.equal(result.success, false);
    assert.equal(clientFailed.length, 1);
    assert.equal(clientFailed[0].reason, "peer-closed");
    assert.equal(client.isConnected, false);
    assert.equal(sessionSeen, false);
    assert.equal(server.sessionCount, 0);
  });

  it("fails when the peers disagree on the number of rounds", async () => {
    server = await startServer({ rounds: 16 });
    const serverFailed = next<[HandshakeResult]>(server, "handshakeFailed");
    const result = await newClient(server).connectToServer();
    assert.equal(result.success, false);
    assert.equal((await serverFailed)[0].reason, "verify-failed");
  });

  it("drops a client that connects and says nothing at the handshake timeout", async () => {
    server = await startServer({ handshakeTimeoutMs: 200 });
    const failed = next<[HandshakeResult]>(server, "handshakeFailed", 3000);
    const socket = connect({ host: "127.0.0.1", port: server.port });
    socket.on("error", () => {});
    socket.resume(); // read (and ignore) the HandshakeRequest, so the server's close is seen
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    const [result] = await failed;
    assert.equal(result.reason, "handshake-timeout");
    await within(closed, 3000, "the server to close the silent socket");
    assert.equal(server.handshakeCount, 0);
  });

  it("refuses to start a server or connect a client without a key, with a clear error", async () => {
    clearHandshakeKey();
    const keyless = new LightweightSecureServer(0, { host: "127.0.0.1" });
    await assert.rejects(keyless.start(), (err: Error & { code?: string }) => err.code === ERR_NO_HANDSHAKE_KEY && /setHandshakeKey/.test(err.message));
    assert.equal(keyless.isRunning, false);
    await assert.rejects(new LightweightSecureClient("127.0.0.1", 1).connectToServer(), { code: ERR_NO_HANDSHAKE_KEY });
  });

  it("uses the module-level key and rounds, as the C++ library's setHandshakeKey / setNumberOfRounds", async () => {
    setHandshakeKey(DEMO_KEY_WORDS);
    setNumberOfRounds(20);
    server = new LightweightSecureServer(0, { host: "127.0.0.1" });
    await server.start();
    const result = await new LightweightSecureClient("127.0.0.1", server.port).connectToServer();
    assert.equal(result.success, true);
    // A client given 32 rounds explicitly no longer agrees.
    const mismatch = await new LightweightSecureClient("127.0.0.1", server.port, { rounds: 32 }).connectToServer();
    assert.equal(mismatch.success, false);
    await server.stop();
  });

  it("runs two servers with different keys in one process", async () => {
    server = await startServer();
    const second = new LightweightSecureServer(0, { host: "127.0.0.1", key: OTHER_KEY_HEX });
    await second.start();
    try {
      assert.equal((await newClient(server).connectToServer()).success, true);
      assert.equal((await newClient(second, { key: OTHER_KEY_HEX }).connectToServer()).success, true);
      assert.equal((await newClient(second, { key: KEY_HEX }).connectToServer()).success, false);
    } finally {
      await second.stop();
    }
  });

  it("accepts a key as 8 words, 64 hex digits or 32 bytes, and rejects bad ones", () => {
    const keyBytes = Buffer.from(KEY_HEX, "hex");
    const words = Array.from({ length: 8 }, (_, i) => keyBytes.readUInt32LE(i * 4));
    for (const key of [words, KEY_HEX, new Uint8Array(Buffer.from(KEY_HEX, "hex"))]) new LightweightSecureServer(0, { key });
    assert.throws(() => new LightweightSecureServer(0, { key: "abc" }), /64 hex digits/);
    assert.throws(() => new LightweightSecureServer(0, { key: [1, 2, 3] }), /8 u32 words/);
    assert.throws(() => new LightweightSecureServer(0, { key: new Uint8Array(31) }), /32 bytes/);
    assert.throws(() => new LightweightSecureServer(0, { key: KEY_HEX, rounds: 0 }), /rounds/);
    assert.throws(() => new LightweightSecureServer(0, { key: KEY_HEX, keepAliveIntervalMs: 500, inactivityTimeoutMs: 400 }), /shorter than/);
    assert.throws(() => new LightweightSecureServer(0, { key: KEY_HEX, sendStallTimeoutMs: 0 }), /sendStallTimeoutMs/);
    assert.throws(() => new LightweightSecureServer(0, { key: KEY_HEX, queueBudgetBytes: 1.5 }), /queueBudgetBytes/);
    assert.throws(() => new LightweightSecureServer(0, { key: KEY_HEX, maxHandshakesPerAddress: 0 }), /maxHandshakesPerAddress/);
    assert.throws(() => new LightweightSecureServer(0, { key: KEY_HEX, silentHandshakeTimeoutMs: -1 }), /silentHandshakeTimeoutMs/);
    assert.equal(new LightweightSecureServer(0, { key: KEY_HEX }).queueBudgetBytes, Math.floor(totalmem() / 8));
    new LightweightSecureServer(0, { key: KEY_HEX, sendStallTimeoutMs: -1 });
    const s = new LightweightSecureServer(0, { key: KEY_HEX });
    assert.throws(() => s.setKeepAliveConfig(0, 100), /interval/);
    assert.throws(() => s.setKeepAliveConfig(100, 0), /timeout/);
    s.setKeepAliveConfig(100, -1);
  });

  it("over the handshake cap, the longest-silent handshake gives its slot to the newcomer; an honest client gets in at once", async () => {
    server = await startServer({ maxHandshakes: 2, ...FAST, handshakeTimeoutMs: 5000 });
    const refused: Array<{ peer: string; reason: string }> = [];
    const failed: Array<{ peer: string; reason: string }> = [];
    server.on("refused", (r) => refused.push(r));
    server.on("handshakeFailed", (r) => failed.push(r));
    const silent: Socket[] = [];
    for (let i = 0; i < 2; i++) {
      silent.push(connect({ host: "127.0.0.1", port: server.port }).on("error", () => {}));
      await until(() => server.handshakeCount === i + 1, { timeoutMs: 2000, what: "handshake " + i + " in progress" });
    }
    const third = connect({ host: "127.0.0.1", port: server.port }).on("error", () => {});
    await until(() => failed.length === 1, { timeoutMs: 2000, what: "an eviction" });
    assert.deepEqual(failed[0], { ...failed[0], peer: "127.0.0.1:" + silent[0].localPort, reason: REFUSED_HANDSHAKE_LIMIT });
    assert.equal(server.handshakeCount, 2);
    assert.equal(server.stats.evicted, 1);
    assert.equal(refused.length, 0);
    // Both slots are held by silent connections; an honest client needs no retry.
    assert.equal((await newClient(server).connectToServer()).success, true);
    assert.equal(server.stats.evicted, 2);
    for (const s of [...silent, third]) s.destroy();
  });

  it("refuses a newcomer whose address already holds maxHandshakesPerAddress pending handshakes, and counts it", async () => {
    server = await startServer({ maxHandshakesPerAddress: 2, ...FAST, handshakeTimeoutMs: 5000 });
    const refused: Array<{ peer: string; reason: string }> = [];
    server.on("refused", (r) => refused.push(r));
    const silent = [0, 1, 2].map(() => connect({ host: "127.0.0.1", port: server.port }).on("error", () => {}));
    await until(() => refused.length === 1 && server.handshakeCount === 2, { timeoutMs: 2000, what: "two pending and a refusal" });
    assert.equal(refused[0].reason, REFUSED_ADDRESS_LIMIT);
    assert.equal(server.stats.refused, 1);
    // Another address is not affected.
    assert.equal((await newClient(server, { localAddress: "127.0.0.2" }).connectToServer()).success, true);
    for (const s of silent) s.destroy();
  });

  it("reconnects with backoff after the server restarts", async () => {
    server = await startServer();
    const port = server.port;
    const client = newClient(server, { autoReconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
    assert.equal((await client.connectToServer()).success, true);
    const disconnected = next<[string]>(client, "disconnected");
    await server.stop();
    assert.deepEqual(await disconnected, ["disconnect"]);
    await next(client, "reconnecting");
    await delay(150); // a few failed attempts against the closed port
    server = new LightweightSecureServer(port, { host: "127.0.0.1", key: KEY_HEX });
    await server.start();
    await within(next(client, "handshakeSuccess", 5000), 5000, "reconnection");
    assert.equal(client.isConnected, true);
    await client.disconnect();
  });
});
