// Session life over real sockets: keep-alive, inactivity, Disconnect in both directions,
// garbage on the wire, application callbacks that throw, and stop().

import assert from "node:assert/strict";
import { connect } from "node:net";
import { ERR_SEND_QUEUE_FULL, type HandshakeResult, type LightweightSecureServer, type Session } from "../server/index.js";
import { delay, FAST, KEPT_ALIVE, newClient, next, rawClient, startServer, until, within } from "./helpers/server.js";

describe("server sessions", () => {
  let server: LightweightSecureServer;

  afterEach(async () => {
    if (server) await server.stop();
  });

  it("keeps an idle session alive past the inactivity timeout with keep-alives", async () => {
    server = await startServer(KEPT_ALIVE);
    const opened = next<[Session]>(server, "session");
    const client = newClient(server, KEPT_ALIVE);
    assert.equal((await client.connectToServer()).success, true);
    const [session] = await opened;
    let endedReason = "";
    session.on("ended", (reason: string) => (endedReason = reason));
    await delay(KEPT_ALIVE.inactivityTimeoutMs * 2); // nobody sends a message
    assert.equal(endedReason, "");
    assert.equal(session.isActive, true);
    assert.equal(client.isConnected, true);
    await client.disconnect();
  });

  it("drops a peer that goes silent after the inactivity timeout", async () => {
    server = await startServer(FAST);
    const opened = next<[Session]>(server, "session");
    const silent = rawClient(server.port); // completes the handshake, then never sends again
    assert.equal(await within(silent.handshake, 3000, "handshake"), "open");
    const [session] = await opened;
    const [reason] = await next<[string]>(session, "ended", 3000);
    assert.equal(reason, "inactivity-timeout");
    assert.equal(session.isActive, false);
    assert.equal(await within(silent.ended, 3000, "the raw client to see the close"), "peer-closed");
  });

  it("ends the server's session with reason 'disconnect' when the client disconnects", async () => {
    server = await startServer(FAST);
    const opened = next<[Session]>(server, "session");
    const client = newClient(server, FAST);
    await client.connectToServer();
    const [session] = await opened;
    const ended: string[] = [];
    session.setOnSessionEnded((reason) => ended.push(reason));
    const clientSide = next<[string]>(client, "disconnected");
    await client.disconnect();
    assert.deepEqual(await clientSide, ["local-disconnect"]);
    await within(new Promise<void>((r) => (ended.length ? r() : session.once("ended", () => r()))), 2000, "server side end");
    assert.deepEqual(ended, ["disconnect"]);
  });

  it("ends the client's session with reason 'disconnect' when the server's session disconnects", async () => {
    server = await startServer(FAST);
    const opened = next<[Session]>(server, "session");
    const client = newClient(server, FAST);
    const reasons: string[] = [];
    client.setOnDisconnected((reason) => reasons.push(reason));
    await client.connectToServer();
    const [session] = await opened;
    const disconnected = next(client, "disconnected");
    session.disconnect();
    await disconnected;
    assert.deepEqual(reasons, ["disconnect"]);
    assert.equal(session.endReason, "local-disconnect");
    assert.equal(client.isConnected, false);
  });

  it("fails a connection that sends garbage during the handshake, and keeps serving others", async () => {
    server = await startServer(FAST);
    const failed = next<[HandshakeResult]>(server, "handshakeFailed");
    const garbage = connect({ host: "127.0.0.1", port: server.port });
    garbage.on("error", () => {});
    garbage.write(Buffer.from([0xff, 0x00, 0x13, 0x37, 0xde, 0xad, 0xbe, 0xef]));
    const [result] = await failed;
    assert.equal(result.success, false);
    // 0xff is no TYPE at all: the framer refuses the first byte before the handshake sees a packet.
    assert.equal(result.reason, "unknown-type");
    const client = newClient(server, FAST);
    assert.equal((await client.connectToServer()).success, true);
    await client.disconnect();
    garbage.destroy();
  });

  it("ends a session whose peer sends garbage after the handshake, while another session keeps working", async () => {
    server = await startServer(FAST);
    server.on("session", (s: Session) => s.on("message", (text: string) => s.sendMessage("echo " + text)));
    const opened = next<[Session]>(server, "session");
    const bad = rawClient(server.port);
    assert.equal(await bad.handshake, "open");
    const [badSession] = await opened;
    const good = newClient(server, FAST);
    assert.equal((await good.connectToServer()).success, true);

    const ended = next<[string]>(badSession, "ended");
    bad.socket.write(Buffer.from([0x09, 0x01, 0x02])); // no packet has TYPE 9
    assert.deepEqual(await ended, ["unknown-type"]);

    const zeroLength = rawClient(server.port);
    assert.equal(await zeroLength.handshake, "open");
    zeroLength.socket.write(Buffer.from([0x01, 0x00, 0x00])); // a RegularMessage of LENGTH 0
    assert.equal(await within(zeroLength.ended, 3000, "zero-length session end"), "peer-closed");

    const reply = next<[string]>(good, "message");
    good.sendMessage("still here");
    assert.deepEqual((await reply)[0], "echo still here");
    assert.equal(server.sessionCount, 1);
    await good.disconnect();
  });

  it("survives application callbacks that throw, reporting them through onError", async () => {
    server = await startServer(FAST);
    const errors: Error[] = [];
    server.setOnError((error) => errors.push(error));
    server.setOnHandshakeSuccess(() => {
      throw new Error("boom in onHandshakeSuccess");
    });
    server.on("session", (session: Session) =>
      session.setOnMessageReceived(() => {
        throw new Error("boom in onMessageReceived");
      }),
    );
    const client = newClient(server, FAST);
    assert.equal((await client.connectToServer()).success, true);
    client.sendMessage("hi");
    await until(() => errors.length >= 2, { timeoutMs: 3000, what: "both errors reported" });
    assert.deepEqual(
      errors.map((e) => e.message),
      ["boom in onHandshakeSuccess", "boom in onMessageReceived"],
    );
    assert.equal(client.isConnected, true);
    await client.disconnect();
  });

  it("stop() sends Disconnect to every session and reports start and stop", async () => {
    server = await startServer(FAST);
    const clients = [newClient(server, FAST), newClient(server, FAST), newClient(server, FAST)];
    await Promise.all(clients.map((c) => c.connectToServer()));
    const reasons = Promise.all(clients.map((c) => next<[string]>(c, "disconnected")));
    let stopped = false;
    server.setOnServerStopped(() => (stopped = true));
    await within(server.stop(), 3000, "stop");
    assert.deepEqual(
      (await reasons).map(([r]) => r),
      ["disconnect", "disconnect", "disconnect"],
    );
    assert.equal(stopped, true);
    assert.equal(server.isRunning, false);
  });

  it("queues sends behind the socket's drain, and refuses them past maxQueuedBytes", async () => {
    server = await startServer({ keepAliveIntervalMs: 1000, inactivityTimeoutMs: -1, maxQueuedBytes: 256 * 1024 });
    const opened = next<[Session]>(server, "session");
    const reader = rawClient(server.port);
    assert.equal(await reader.handshake, "open");
    reader.socket.pause(); // a peer that stops reading
    const [session] = await opened;
    const chunk = new Uint8Array(65528).fill(0x61);
    let sawFalse = false;
    let refused: (Error & { code?: string }) | null = null;
    for (let i = 0; i < 4000 && !refused; i++) {
      try {
        if (!session.sendMessage(chunk)) sawFalse = true;
      } catch (err) {
        refused = err as Error & { code?: string };
      }
      if (i % 16 === 15) await delay(1); // let the kernel take what it will
    }
    assert.equal(sawFalse, true, "sendMessage returned false once the socket buffer filled");
    assert.equal(refused?.code, ERR_SEND_QUEUE_FULL);
    assert.equal(session.isActive, true);
    const drained = next(session, "drain", 10000);
    reader.socket.resume();
    await drained;
    assert.equal(session.sendMessage("after drain"), true);
    await until(() => reader.messages.length > 0 && reader.messages[reader.messages.length - 1].toString() === "after drain", {
      timeoutMs: 10000,
      what: "everything queued to arrive in order",
    });
    assert.ok(reader.messages.slice(0, -1).every((m) => m.length === 65528));
    reader.socket.destroy();
  });
});
