// Server ↔ client over real sockets on 127.0.0.1: FizzBuzz, message sizes at and around
// block boundaries up to the 65528-byte maximum, non-ASCII text, and the send-side checks.

import assert from "node:assert/strict";
import {
  ERR_MESSAGE_SIZE,
  ERR_NOT_OPEN,
  fizzBuzzLine,
  fizzBuzzReply,
  type LightweightSecureClient,
  type LightweightSecureServer,
  type Session,
} from "../server/index.js";
import { testBytes } from "./helpers/seed.js";
import { newClient, next, startServer, within } from "./helpers/server.js";

describe("server ↔ client messages", () => {
  let server: LightweightSecureServer;
  let client: LightweightSecureClient;
  let session: Session;

  beforeEach(async () => {
    server = await startServer();
    client = newClient(server);
    const opened = next<[Session]>(server, "session");
    const result = await within(client.connectToServer(), 3000, "handshake");
    assert.equal(result.success, true);
    [session] = await opened;
  });

  afterEach(async () => {
    await client.disconnect();
    await server.stop();
  });

  it("plays 100 rounds of FizzBuzz with the C++ example's lines", async () => {
    session.setOnMessageReceived((text) => session.sendMessage(fizzBuzzReply(text) as string));
    let line = "1";
    for (let round = 0; round < 100; round++) {
      const reply = next<[string]>(client, "message");
      client.sendMessage(line);
      const [text] = await reply;
      const n = Number.parseInt(line, 10) + 1;
      assert.equal(text, fizzBuzzLine(n));
      line = fizzBuzzLine(n + 1);
    }
    assert.equal(fizzBuzzLine(2), "2     (:");
    assert.equal(fizzBuzzLine(15), "15 FizzBuzz");
  });

  for (const size of [1, 7, 8, 9, 4096, 65528]) {
    it("carries a message of " + size + " bytes both ways, byte for byte", async () => {
      session.on("message", (_text: string, bytes: Buffer) => session.sendMessage(bytes));
      const sent = testBytes(size);
      const echo = next<[string, Buffer]>(client, "message");
      client.sendMessage(sent);
      const [, bytes] = await echo;
      assert.equal(bytes.length, size);
      assert.ok(bytes.equals(sent));
    });
  }

  it("delivers non-ASCII text as UTF-8, with the text and the raw bytes", async () => {
    const text = "Grüße, 世界 🌍 — ça va?";
    const arrived = next<[string, Buffer]>(session, "message");
    client.sendMessage(text);
    const [gotText, gotBytes] = await arrived;
    assert.equal(gotText, text);
    assert.ok(gotBytes.equals(Buffer.from(text, "utf8")));
    const back = next<[string]>(client, "message");
    session.sendMessage(gotText);
    assert.deepEqual(await back, [text, Buffer.from(text, "utf8")]);
  });

  it("rejects messages of 0 and of 65529 bytes with a clear error, and the session goes on", () => {
    for (const bad of ["", new Uint8Array(0), new Uint8Array(65529), "x".repeat(65529)]) {
      assert.throws(
        () => client.sendMessage(bad),
        (err: Error & { code?: string }) => err.code === ERR_MESSAGE_SIZE && /empty|65528/.test(err.message),
      );
      assert.throws(() => session.sendMessage(bad), { code: ERR_MESSAGE_SIZE });
    }
    // 65528 bytes as text whose UTF-8 form is too long is refused by its byte count.
    assert.throws(() => client.sendMessage("é".repeat(32765)), { code: ERR_MESSAGE_SIZE });
    assert.equal(client.isConnected, true);
    assert.equal(session.isActive, true);
  });

  it("reports each message sent through onDataSent, and refuses sends once ended", async () => {
    const sent: unknown[] = [];
    client.setOnDataSent((message) => sent.push(message));
    const arrived = next(session, "message");
    client.sendMessage("hello");
    await arrived;
    assert.deepEqual(sent, ["hello"]);
    const ended = next<[string]>(session, "ended");
    await client.disconnect();
    assert.deepEqual(await ended, ["disconnect"]);
    assert.throws(() => client.sendMessage("late"), { code: ERR_NOT_OPEN });
    assert.throws(() => session.sendMessage("late"), { code: ERR_NOT_OPEN });
  });

  it("gives both sides the same session key while open, and wipes it after", async () => {
    const key = client.sessionKey;
    assert.deepEqual(session.sessionKey, key);
    assert.ok(key.some((word) => word !== 0));
    await client.disconnect();
    await within(new Promise<void>((resolve) => (session.isActive ? session.once("ended", () => resolve()) : resolve())), 2000, "session end");
    assert.ok(session.sessionKey.every((word) => word === 0));
  });
});
