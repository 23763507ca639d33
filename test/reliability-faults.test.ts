// Faults: the server restarting under connected clients (all come back, spread by
// jittered backoff), a peer reset in the middle of a packet (both directions), a half-open path
// found by the inactivity timeout, and a client process suspended past the timeout (SIGSTOP).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { type LightweightSecureClient, LightweightSecureServer, type Session } from "../server/index.js";
import {
  delay,
  fakeServer,
  guardProcess,
  handHandshake,
  KEY_HEX,
  makeMessage,
  makeRequest,
  makeSuccess,
  newClient,
  next,
  schedule,
  startServer,
  TcpProxy,
  until,
  within,
} from "./helpers/reliability.js";
import { testBytes, testKeyWords } from "./helpers/seed.js";

describe("reliability: faults", function () {
  this.timeout(60000);
  guardProcess();

  let server: LightweightSecureServer | undefined;
  const clients: LightweightSecureClient[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.disconnect()));
    await server?.stop();
    server = undefined;
  });

  it("server restart with 20 connected clients: every client reconnects, and jittered backoff spreads them over more than 100 ms", async () => {
    server = await startServer();
    const port = server.port;
    for (let i = 0; i < 20; i++) {
      const client = newClient(server, { autoReconnect: { initialDelayMs: 1000, maxDelayMs: 4000, jitter: 0.5 } });
      clients.push(client);
      assert.equal((await client.connectToServer()).success, true);
    }
    const lost = clients.map((c) => next<[string]>(c, "disconnected", 5000));
    await server.stop();
    for (const [reason] of await Promise.all(lost)) assert.equal(reason, "disconnect");
    const back: number[] = [];
    const reconnected = clients.map((c) => next(c, "handshakeSuccess", 15000).then(() => back.push(Date.now())));
    server = new LightweightSecureServer(port, { host: "127.0.0.1", key: KEY_HEX });
    await server.start();
    await within(Promise.all(reconnected), 15000, "all 20 clients to reconnect");
    assert.equal(server.sessionCount, 20);
    const spread = Math.max(...back) - Math.min(...back);
    assert.ok(spread > 100, "all 20 reconnected within " + spread + " ms: a thundering herd");
  });

  it("a client reset in the middle of a message: that session ends with peer-closed, nothing of it is delivered, another session is unaffected", async () => {
    server = await startServer();
    const delivered = new Map<string, string[]>();
    const ended = new Map<string, string>();
    server.on("session", (s: Session) => {
      delivered.set(s.peer, []);
      s.on("message", (text: string) => {
        (delivered.get(s.peer) as string[]).push(text);
        s.sendMessage(text);
      });
      s.on("ended", (reason: string) => ended.set(s.peer, reason));
    });
    const other = newClient(server);
    clients.push(other);
    assert.equal((await other.connectToServer()).success, true);
    for (const cut of [1, 2, 3, 10, 26]) {
      const hand = await handHandshake(server.port);
      const packet = makeMessage(testBytes(24), hand.sessionKey);
      hand.socket.write(packet.subarray(0, cut));
      await delay(20);
      hand.socket.resetAndDestroy();
      await until(() => ended.has(hand.peer), { timeoutMs: 3000, what: "the reset session to end" });
      assert.equal(ended.get(hand.peer), "peer-closed", "reset after " + cut + " bytes");
      assert.deepEqual(delivered.get(hand.peer), []);
    }
    const echo = next<[string, Buffer]>(other, "message");
    other.sendMessage("still here");
    assert.equal((await echo)[0], "still here");
  });

  it("a server reset in the middle of the HandshakeSuccess or of a message: the client fails or ends with peer-closed and delivers nothing of it", async () => {
    const key = testKeyWords();
    let step = 0;
    const fake = await fakeServer(async (socket, reader) => {
      socket.write(makeRequest(schedule()).packet);
      await reader.read(25);
      const success = makeSuccess(key, schedule());
      if (step === 0) socket.write(success.subarray(0, 20));
      else socket.write(Buffer.concat([success, makeMessage(Buffer.from("whole"), key), makeMessage(testBytes(40), key).subarray(0, 17)]));
      await delay(20);
      socket.resetAndDestroy();
    });
    try {
      const first = newClient(fake.port);
      assert.deepEqual([(await first.connectToServer()).reason], ["peer-closed"]);
      step = 1;
      const second = newClient(fake.port);
      const texts: string[] = [];
      second.on("message", (t: string) => texts.push(t));
      const ended = next<[string]>(second, "disconnected");
      assert.equal((await second.connectToServer()).success, true);
      assert.deepEqual(await ended, ["peer-closed"]);
      assert.deepEqual(texts, ["whole"]);
    } finally {
      await fake.close();
    }
  });

  it("a half-open path (a proxy that stops forwarding, no FIN, no reset) is found by the inactivity timeout on both sides; the client then reconnects", async () => {
    server = await startServer({ keepAliveIntervalMs: 100, inactivityTimeoutMs: 800 });
    const proxy = await new TcpProxy(server.port).start();
    try {
      const client = newClient(proxy.port, { keepAliveIntervalMs: 100, inactivityTimeoutMs: 800, autoReconnect: { initialDelayMs: 100, maxDelayMs: 400 } });
      clients.push(client);
      const opened = next<[Session]>(server, "session");
      assert.equal((await client.connectToServer()).success, true);
      const [serverSide] = await opened;
      const serverEnded = next<[string]>(serverSide, "ended", 10000);
      const clientEnded = next<[string]>(client, "disconnected", 10000);
      await delay(300); // keep-alives flow: still open
      assert.equal(client.isConnected, true);
      proxy.freeze();
      assert.deepEqual(await serverEnded, ["inactivity-timeout"]);
      assert.deepEqual(await clientEnded, ["inactivity-timeout"]);
      proxy.thaw();
      await within(next(client, "handshakeSuccess", 10000), 10000, "the reconnection");
      assert.equal(client.isConnected, true);
    } finally {
      await proxy.close();
    }
  });

  it("a client process suspended (SIGSTOP) past the inactivity timeout: the server ends the session; resumed (SIGCONT), the client notices and reconnects", async function () {
    if (process.platform === "win32") this.skip();
    server = await startServer({ keepAliveIntervalMs: 100, inactivityTimeoutMs: 800 });
    const sessions: Session[] = [];
    const received: string[] = [];
    server.on("session", (s: Session) => {
      sessions.push(s);
      s.on("message", (t: string) => received.push(t));
    });
    const entry = new URL("../server/index.js", import.meta.url).href;
    const program = `
      import { LightweightSecureClient } from ${JSON.stringify(entry)};
      const c = new LightweightSecureClient("127.0.0.1", ${server.port}, { key: ${JSON.stringify(KEY_HEX)},
        keepAliveIntervalMs: 100, inactivityTimeoutMs: 800, autoReconnect: { initialDelayMs: 100, maxDelayMs: 400 } });
      const log = (e, x) => console.log(JSON.stringify({ e, x }));
      c.on("handshakeSuccess", () => log("open"));
      c.on("disconnected", (r) => log("disconnected", r));
      c.connectToServer();
      process.stdin.on("data", (d) => c.sendMessage(String(d).trim()));
      process.stdin.on("end", () => c.disconnect().then(() => process.exit(0)));`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", program], { stdio: ["pipe", "pipe", "inherit"] });
    const events: Array<{ e: string; x?: string }> = [];
    let text = "";
    child.stdout.on("data", (b: Buffer) => {
      text += b.toString();
      const lines = text.split("\n");
      text = lines.pop() as string;
      for (const line of lines) if (line.trim()) events.push(JSON.parse(line));
    });
    try {
      await until(() => events.some((e) => e.e === "open") && sessions.length === 1, { timeoutMs: 10000, what: "the child's session" });
      const firstEnded = next<[string]>(sessions[0], "ended", 10000);
      child.kill("SIGSTOP");
      assert.deepEqual(await firstEnded, ["inactivity-timeout"]);
      await delay(200);
      child.kill("SIGCONT");
      await until(() => events.filter((e) => e.e === "open").length === 2 && sessions.length === 2, {
        timeoutMs: 10000,
        what: "the child to reconnect after resuming",
      });
      const lost = events.find((e) => e.e === "disconnected");
      // The resumed child learns of the end its own way, depending on what it reads first: the
      // server's close (peer-closed), its own overdue inactivity check (inactivity-timeout), or a
      // reset for the bytes it wrote into the closed connection (socket-error). No TYPE byte is involved.
      assert.ok(lost && ["peer-closed", "inactivity-timeout", "socket-error"].includes(lost.x as string), JSON.stringify(events));
      child.stdin.write("awake again\n");
      await until(() => received.includes("awake again"), { timeoutMs: 5000, what: "a message over the new session" });
      child.stdin.end();
      await within(new Promise((resolve) => child.once("exit", resolve)), 5000, "the child to exit");
    } finally {
      child.kill("SIGKILL");
    }
  });
});
