// Profile v2 over real sockets on 127.0.0.1, desktop to desktop: LightweightSecureServer and
// LightweightSecureClient with { profile: "v2" } (messages of 1, 16 and 65528 bytes,
// keep-alive, disconnect), the option's validation, the CLIs' --profile flag, and a v1/v2
// mismatch both ways.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { getProfile, type LightweightSecureServer, type Session, setProfile } from "../server/index.js";
import { testBytes } from "./helpers/seed.js";
import { delay, FAST, KEPT_ALIVE, newClient, next, startServer, until, within } from "./helpers/server.js";

const V2 = { profile: "v2" as const };

describe("profile v2 end to end over real sockets: desktop server <-> desktop client", function () {
  this.timeout(30000);
  let server: LightweightSecureServer | null = null;
  afterEach(async () => {
    if (server) await server.stop();
    server = null;
    setProfile("v1");
  });

  it("echoes messages of 1, 16 and 65528 bytes byte for byte, both session keys agree, Disconnect ends it as 'disconnect'", async () => {
    server = await startServer(V2);
    assert.equal(server.profile, "v2");
    const ended: string[] = [];
    let session: Session | null = null;
    server.on("session", (s: Session) => {
      session = s;
      s.on("message", (_text: string, bytes: Buffer) => s.sendMessage(bytes));
      s.on("ended", (reason: string) => ended.push(reason));
    });
    const client = newClient(server, V2);
    const result = await within(client.connectToServer(), 5000, "v2 handshake");
    assert.equal(result.success, true, result.reason);
    assert.equal(client.profile, "v2");
    await until(() => session !== null, { timeoutMs: 2000, what: "server session" });
    assert.deepEqual(client.sessionKey, (session as unknown as Session).sessionKey);
    assert.notDeepEqual(client.sessionKey, new Uint32Array(8));
    for (const size of [1, 16, 65528]) {
      const bytes = testBytes(size);
      const echoed = next<[string, Buffer]>(client, "message", 5000);
      client.sendMessage(bytes);
      const [, got] = await echoed;
      assert.ok(got.equals(bytes), "echo of " + size + " bytes");
    }
    await client.disconnect();
    await until(() => ended.length === 1, { timeoutMs: 2000, what: "server session ended" });
    assert.deepEqual(ended, ["disconnect"]);
  });

  it("keep-alive records hold an idle session open past the inactivity timeout on both sides", async () => {
    server = await startServer({ ...V2, ...KEPT_ALIVE });
    const ended: string[] = [];
    server.on("session", (s: Session) => s.on("ended", (reason: string) => ended.push(reason)));
    const client = newClient(server, { ...V2, ...KEPT_ALIVE });
    const disconnected: string[] = [];
    client.on("disconnected", (reason: string) => disconnected.push(reason));
    assert.equal((await within(client.connectToServer(), 5000, "handshake")).success, true);
    await delay(KEPT_ALIVE.inactivityTimeoutMs * 2);
    assert.equal(client.isConnected, true);
    assert.deepEqual([ended, disconnected], [[], []]);
    await client.disconnect();
  });

  it("a v2 client whose keep-alive is slower than the server's inactivity timeout is dropped with inactivity-timeout", async () => {
    server = await startServer({ ...V2, ...FAST });
    const ended: string[] = [];
    server.on("session", (s: Session) => s.on("ended", (reason: string) => ended.push(reason)));
    const client = newClient(server, { ...V2, keepAliveIntervalMs: 5000, inactivityTimeoutMs: 30000 });
    assert.equal((await within(client.connectToServer(), 5000, "handshake")).success, true);
    await until(() => ended.length === 1, { timeoutMs: 3000, what: "server ended the silent session" });
    assert.deepEqual(ended, ["inactivity-timeout"]);
    await client.disconnect();
  });

  it("a wrong key fails with proof-failed on the server and the client sees the handshake fail", async () => {
    server = await startServer({ ...V2, handshakeTimeoutMs: 1000 });
    const failed = next<[{ reason: string }]>(server, "handshakeFailed", 5000);
    const client = newClient(server, { ...V2, key: testBytes(32).toString("hex"), handshakeTimeoutMs: 1000 });
    const result = await within(client.connectToServer(), 5000, "handshake");
    assert.equal(result.success, false);
    assert.equal((await failed)[0].reason, "proof-failed");
    await client.disconnect();
  });

  it("mismatch, v2 client -> v1 server: profile-mismatch on the client at the first packet; the v1 server's handshake fails", async () => {
    server = await startServer({ handshakeTimeoutMs: 2000 });
    const failed = next<[{ reason: string }]>(server, "handshakeFailed", 5000);
    const client = newClient(server, { ...V2, handshakeTimeoutMs: 2000 });
    const started = Date.now();
    const result = await within(client.connectToServer(), 5000, "handshake");
    assert.deepEqual([result.success, result.reason], [false, "profile-mismatch"]);
    assert.match(result.errorMessage, /same profile/);
    assert.equal((await failed)[0].reason, "peer-closed");
    assert.ok(Date.now() - started < 1500, "failed at the first packet, not at a timeout");
    await client.disconnect();
  });

  it("mismatch, v1 client -> v2 server: profile-mismatch on the v1 client (it saw a v2 ServerHello); the v2 server's handshake fails", async () => {
    server = await startServer({ ...V2, handshakeTimeoutMs: 2000 });
    const failed = next<[{ reason: string }]>(server, "handshakeFailed", 5000);
    const client = newClient(server, { handshakeTimeoutMs: 2000 });
    const result = await within(client.connectToServer(), 5000, "handshake");
    assert.deepEqual([result.success, result.reason], [false, "profile-mismatch"]);
    assert.equal((await failed)[0].reason, "peer-closed");
    await client.disconnect();
  });

  it("the module-level setProfile applies to instances without their own; bad values and v2 with rounds are refused", async () => {
    setProfile("v2");
    assert.equal(getProfile(), "v2");
    server = await startServer();
    assert.equal(server.profile, "v2");
    const client = newClient(server);
    assert.equal((await within(client.connectToServer(), 5000, "handshake")).success, true);
    await client.disconnect();
    assert.throws(() => setProfile("v3" as "v1"), { code: "ERR_LWSTCP_INVALID_OPTION", message: /profile must be "v1".*got v3/ });
    assert.throws(() => newClient(1, { profile: "V2" as "v2" }), { code: "ERR_LWSTCP_INVALID_OPTION" });
    assert.throws(() => newClient(1, { profile: "v2", rounds: 16 }), { code: "ERR_LWSTCP_INVALID_OPTION", message: /rounds.*profile v1/ });
    assert.doesNotThrow(() => newClient(1, { profile: "v2", rounds: 32 }));
  });

  it("the CLIs: a bad --profile is one line on stderr and exit 2, and so is --profile v2 with --rounds 16", async () => {
    const bad = spawnSync(process.execPath, ["build/server/cli/lwstcp-server.js", "--port", "0", "--key", "00".repeat(32), "--profile", "v9"], {
      encoding: "utf8",
      timeout: 10000,
    });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^lwstcp-server: --profile must be one of v1, v2, got 'v9'/);
    assert.equal(bad.stderr.trim().split("\n").length, 1);
    const badClient = spawnSync(
      process.execPath,
      ["build/server/cli/lwstcp-client.js", "--port", "1", "--key", "00".repeat(32), "--profile", "x", "--mode", "lines"],
      { encoding: "utf8", timeout: 10000 },
    );
    assert.equal(badClient.status, 2);
    assert.match(badClient.stderr, /^lwstcp-client: --profile must be one of v1, v2, got 'x'/);
    const rounds = spawnSync(
      process.execPath,
      ["build/server/cli/lwstcp-server.js", "--port", "0", "--key", "00".repeat(32), "--profile", "v2", "--rounds", "16"],
      { encoding: "utf8", timeout: 10000 },
    );
    assert.equal(rounds.status, 2);
    assert.match(rounds.stderr, /rounds \(16\) applies only to profile v1/);
  });
});
