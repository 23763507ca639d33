// Device identity on profile v2, over real sockets on 127.0.0.1: devices with their own keys
// pair and their sessions carry their id; an unknown id and a wrong key are refused so that the
// client cannot tell them apart (what it receives and how the connection closes are captured
// byte for byte), while the server's reasons differ; a key of another device fails; an async
// keyForDevice works and a slow one is bounded by the handshake timeout without holding up
// others; setKeys ends the sessions of removed or re-keyed devices with "revoked" and keeps the rest.

import assert from "node:assert/strict";
import { connect } from "node:net";
import { STATE_CLOSED } from "../firmware/core/lifecycle.js";
import { HandshakeV2 } from "../firmware/core/v2/handshake.js";
import { nodePrimitives } from "../server/crypto-v2.js";
import type { HandshakeResult, LightweightSecureClient, LightweightSecureServer, LwstcpError, ServerOptions, Session } from "../server/index.js";
import { nodeRandom } from "../server/random.js";
import { internals } from "./helpers/internals.js";
import { pairV2 } from "./helpers/pair.js";
import { seededBytes } from "./helpers/seed.js";
import { FAST, KEY_HEX, newClient, OTHER_KEY_HEX, startServer, until } from "./helpers/server.js";
import { hex, v2Vectors } from "./helpers/v2.js";

const KITCHEN = seededBytes("identity kitchen-1", 32).toString("hex");
const GARAGE = seededBytes("identity garage", 32).toString("hex");

/** What a client sees of a refused handshake: every byte after the ServerHello, and how the socket ended. */
interface Observed {
  afterHello: string;
  ending: string;
}

/** A raw client: reads the ServerHello, sends a ClientHello made with `keyHex` and `deviceId`, records the rest. */
function observeRefusal(port: number, keyHex: string, deviceId: string | null): Promise<Observed> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const handshake = new HandshakeV2(false, nodePrimitives, Buffer.from(keyHex, "hex"), nodeRandom, deviceId);
    let received = Buffer.alloc(0);
    let sent = false;
    let ending = "close";
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (!sent && received.length >= 17) {
        sent = true;
        const out = new Uint8Array(80);
        const size = handshake.receive(new Uint8Array(received.subarray(0, 17)), 0, 17, out, 0);
        socket.write(out.subarray(0, size));
      }
    });
    socket.on("end", () => (ending = "end"));
    socket.on("error", (error: NodeJS.ErrnoException) => (ending = "error " + error.code));
    socket.on("close", () => resolve({ afterHello: received.subarray(17).toString("hex"), ending }));
  });
}

describe("v2 device identity: a key that comes later (the core, no sockets)", () => {
  /** A pair whose server asks for the key and keeps each `done` for the test to call. */
  function deferred() {
    const asked: Array<{ id: string | null; done: (key: Uint8Array | null) => void }> = [];
    // keyForDevice is a server option (a client ignores it); the client names itself.
    const p = pairV2({ keyForDevice: (id, done) => asked.push({ id, done }) }, { deviceId: "kitchen-1" });
    return { ...p, asked, psk: hex(v2Vectors.psk) };
  }

  it("waits for the key holding only the handshake's buffers, then opens", () => {
    const p = deferred();
    p.server.start();
    p.flush();
    assert.deepEqual(
      p.asked.map((a) => a.id),
      ["kitchen-1"],
    );
    assert.ok(!p.server.isOpen && !p.client.isOpen);
    assert.ok(internals(p.server).framer.packet.length <= 66 && internals(p.server).out.length <= 33, "nothing beyond a handshake packet is held");
    p.asked[0].done(p.psk);
    p.flush();
    assert.ok(p.server.isOpen && p.client.isOpen);
    assert.equal(p.server.deviceId, "kitchen-1");
  });

  it("the handshake timeout ends a lookup that never answers; an answer after that is ignored", () => {
    const p = deferred();
    p.server.start();
    p.flush();
    p.clock.now += 600;
    p.server.tick();
    assert.equal(p.server.state, STATE_CLOSED);
    assert.deepEqual(p.serverSink.events, ["handshake-failed:handshake-timeout"]);
    p.asked[0].done(p.psk);
    assert.deepEqual(p.serverSink.events, ["handshake-failed:handshake-timeout"]);
    assert.deepEqual(p.serverSink.wire, []);
  });

  it("bytes from the client while the key is looked up fail the handshake (wrong-type)", () => {
    const p = deferred();
    p.server.start();
    p.flush();
    p.server.receive(Uint8Array.of(0x15, 0, 0));
    assert.deepEqual(p.serverSink.events, ["handshake-failed:wrong-type"]);
  });
});

describe("v2 device identity: per-device keys over real sockets", () => {
  let server: LightweightSecureServer | null = null;
  const clients: LightweightSecureClient[] = [];

  async function serve(options: ServerOptions): Promise<{ server: LightweightSecureServer; failures: HandshakeResult[]; sessions: Session[] }> {
    server = await startServer({ profile: "v2", ...FAST, ...options });
    const failures: HandshakeResult[] = [];
    const sessions: Session[] = [];
    server.on("handshakeFailed", (result: HandshakeResult) => failures.push(result));
    server.on("session", (session: Session) => sessions.push(session));
    return { server, failures, sessions };
  }

  function client(deviceId: string | undefined, key: string, handshakeTimeoutMs = FAST.handshakeTimeoutMs) {
    const c = newClient(server as LightweightSecureServer, { profile: "v2", ...FAST, handshakeTimeoutMs, key, deviceId });
    clients.push(c);
    return c;
  }

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.disconnect();
    if (server) await server.stop();
    server = null;
  });

  it("devices with their own keys pair; the session and both handshake results carry the id", async () => {
    const { sessions } = await serve({ key: undefined, keys: { "kitchen-1": KITCHEN, garage: GARAGE } });
    const kitchen = client("kitchen-1", KITCHEN);
    const garage = client("garage", GARAGE);
    const results = await Promise.all([kitchen.connectToServer(), garage.connectToServer()]);
    assert.deepEqual(
      results.map((r) => [r.success, r.deviceId]),
      [
        [true, "kitchen-1"],
        [true, "garage"],
      ],
    );
    await until(() => sessions.length === 2, { what: "two sessions" });
    assert.deepEqual(sessions.map((s) => [s.deviceId, s.name]).sort(), [
      ["garage", "garage"],
      ["kitchen-1", "kitchen-1"],
    ]);
    const got = new Promise<string>((resolve) => sessions.find((s) => s.deviceId === "garage")?.on("message", resolve));
    garage.sendMessage("door open");
    assert.equal(await got, "door open");
  });

  it("an unknown id and a wrong key look the same to the client (bytes and close); the server names unknown-device and proof-failed", async () => {
    const { server, failures } = await serve({ key: undefined, keys: { "kitchen-1": KITCHEN } });
    const unknown = await observeRefusal(server.port, KITCHEN, "pantry");
    const wrongKey = await observeRefusal(server.port, OTHER_KEY_HEX, "kitchen-1");
    assert.deepEqual(unknown, wrongKey);
    assert.equal(unknown.afterHello, "", "the server sends nothing after its ServerHello to a refused client");
    await until(() => failures.length === 2, { what: "two handshake failures" });
    assert.deepEqual(
      failures.map((f) => [f.reason, f.deviceId]),
      [
        ["unknown-device", "pantry"],
        ["proof-failed", "kitchen-1"],
      ],
    );
  });

  it("a device holding another device's valid key fails proof-failed, and so does a desktop client", async () => {
    const { failures } = await serve({ key: undefined, keys: { "kitchen-1": KITCHEN, garage: GARAGE } });
    const result = await client("kitchen-1", GARAGE).connectToServer();
    assert.equal(result.success, false);
    assert.equal(result.reason, "peer-closed");
    await until(() => failures.length === 1, { what: "the server's failure" });
    assert.equal(failures[0].reason, "proof-failed");
  });

  it("no id + only keys: unknown-device; an id + only key: accepted with that key, named by the id", async () => {
    const perDevice = await serve({ key: undefined, keys: { "kitchen-1": KITCHEN } });
    assert.equal((await client(undefined, KITCHEN).connectToServer()).success, false);
    await until(() => perDevice.failures.length === 1, { what: "the failure" });
    assert.equal(perDevice.failures[0].reason, "unknown-device");
    await perDevice.server.stop();

    const shared = await serve({ key: KEY_HEX });
    const result = await client("hall", KEY_HEX).connectToServer();
    assert.equal(result.success, true);
    await until(() => shared.sessions.length === 1, { what: "the session" });
    assert.equal(shared.sessions[0].deviceId, "hall");
    // And without an id nothing changed: the session is named by its peer address.
    assert.equal((await client(undefined, KEY_HEX).connectToServer()).success, true);
    await until(() => shared.sessions.length === 2, { what: "the second session" });
    assert.equal(shared.sessions[1].deviceId, undefined);
    assert.equal(shared.sessions[1].name, shared.sessions[1].peer);
  });

  it("an async keyForDevice pairs; one that never answers is ended by the handshake timeout while others pair", async () => {
    const asked: string[] = [];
    const { failures } = await serve({
      key: undefined,
      handshakeTimeoutMs: 400,
      keyForDevice: (id) => {
        asked.push(id);
        if (id === "slow") return new Promise(() => {});
        return new Promise((resolve) => setImmediate(() => resolve(id === "kitchen-1" ? KITCHEN : undefined)));
      },
    });
    // The client waits longer than the server, so the server's own timeout is what ends it.
    const slow = client("slow", KITCHEN, 5000).connectToServer();
    await until(() => asked.includes("slow"), { what: "the slow lookup to start" });
    const fast = await client("kitchen-1", KITCHEN).connectToServer();
    assert.equal(fast.success, true, "a handshake waiting for its key holds up no other");
    assert.equal((await client("nobody", KITCHEN).connectToServer()).success, false);
    assert.equal((await slow).success, false);
    await until(() => failures.length === 2, { what: "two failures" });
    assert.deepEqual(failures.map((f) => f.reason).sort(), ["handshake-timeout", "unknown-device"]);
  });

  it("setKeys: a removed or re-keyed device ends 'revoked' (Disconnect sent), others keep running; a bad table changes nothing", async () => {
    const { server, sessions } = await serve({ key: undefined, keys: { "kitchen-1": KITCHEN, garage: GARAGE, hall: KEY_HEX } });
    const kitchen = client("kitchen-1", KITCHEN);
    const garage = client("garage", GARAGE);
    const hall = client("hall", KEY_HEX);
    for (const c of [kitchen, garage, hall]) assert.equal((await c.connectToServer()).success, true);
    await until(() => sessions.length === 3, { what: "three sessions" });
    const clientSaw: Record<string, string> = {};
    kitchen.on("disconnected", (reason: string) => (clientSaw.kitchen = reason));
    hall.on("disconnected", (reason: string) => (clientSaw.hall = reason));

    assert.throws(
      () => server.setKeys({ garage: "not a key" }),
      (err: LwstcpError) => err.code === "ERR_LWSTCP_INVALID_OPTION" && /garage/.test(err.message),
    );
    assert.throws(() => server.setKeys({ "bad id": GARAGE }), /printable ASCII/);
    assert.equal(server.sessionCount, 3, "a refused table ends nothing");

    const change = server.setKeys({ garage: GARAGE, hall: OTHER_KEY_HEX });
    assert.deepEqual(change, { devices: 2, revoked: 2 });
    await until(() => clientSaw.kitchen !== undefined && clientSaw.hall !== undefined, { what: "both revoked clients to see the end" });
    assert.deepEqual(clientSaw, { kitchen: "disconnect", hall: "disconnect" });
    assert.deepEqual(
      sessions
        .filter((s) => s.endReason)
        .map((s) => [s.deviceId, s.endReason])
        .sort(),
      [
        ["hall", "revoked"],
        ["kitchen-1", "revoked"],
      ],
    );
    assert.ok(garage.isConnected);
    const got = new Promise<string>((resolve) => sessions.find((s) => s.deviceId === "garage")?.on("message", resolve));
    garage.sendMessage("still here");
    assert.equal(await got, "still here");
    // The new table is in force: kitchen-1 is now unknown.
    assert.equal((await client("kitchen-1", KITCHEN).connectToServer()).success, false);
  });

  it("options are checked: keys with keyForDevice, a bad table, keys on v1, a bad client deviceId", async () => {
    assert.throws(() => newClient(1, { profile: "v2", deviceId: "" }), /device id must be a string of 1 to 32/);
    assert.throws(() => newClient(1, { profile: "v2", deviceId: "x".repeat(33) }), /1 to 32/);
    assert.throws(() => newClient(1, { profile: "v2", deviceId: "two words" }), /printable ASCII/);
    assert.throws(() => newClient(1, { profile: "v1", deviceId: "kitchen-1" }), /needs profile v2/);
    await assert.rejects(startServer({ profile: "v2", keys: { a: KITCHEN }, keyForDevice: () => undefined }), /either keys or keyForDevice/);
    await assert.rejects(startServer({ profile: "v2", keys: { a: "zz" } }), /keys: "a"/);
    await assert.rejects(startServer({ profile: "v1", keys: { a: KITCHEN } }), /need profile v2/);
  });
});
