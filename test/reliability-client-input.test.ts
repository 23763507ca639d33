// The desktop client facing whatever answers at its server's address: a scripted fake
// server sends random bytes, every truncation and one-byte extension of the Request and the
// Success, every wrong TYPE at both client steps, LENGTH 0 and beyond 65528, a Request under
// a wrong key, a Success before the Request, and a replayed transcript. Each client must end
// with a reason, a client connected to a real server alongside must keep working, and nothing
// may escape to the process.

import assert from "node:assert/strict";
import type { Socket } from "node:net";
import fc from "fast-check";
import { TYPE_V2_SERVER_HELLO } from "../firmware/core/v2/constants.js";
import type { HandshakeResult, LightweightSecureClient, LightweightSecureServer, Session } from "../server/index.js";
import {
  assertReasonIn,
  type ByteReader,
  type FakeServer,
  fakeServer,
  guardProcess,
  inBatches,
  makeMessage,
  makeRequest,
  makeSuccess,
  newClient,
  next,
  OTHER_KEY_HEX,
  rawMessageHeader,
  readNumbers,
  schedule,
  startServer,
  until,
  within,
} from "./helpers/reliability.js";
import { testBytes, testKeyWords } from "./helpers/seed.js";

// What random bytes from a server can end the desktop client's handshake with. (bad-size cannot
// happen: the framer sizes every packet by its TYPE. verify-failed is the server's check.)
const FAILURE_REASONS = [
  "wrong-type", // a whole packet of a v1 TYPE other than the Request (then the Success) awaited
  "unknown-type", // a TYPE outside 0x01-0x06, v2 TYPEs included, except a first 0x12 (below)
  "zero-length", // 0x01 with LENGTH 0
  "bad-length", // 0x01 with LENGTH over 65528
  "peer-closed", // the server hung up inside a packet, or after the Request
  "handshake-timeout", // only if the close were slower than the 1.5 s handshake timeout on a loaded machine
];

type Script = (socket: Socket, reader: ByteReader) => Promise<void> | void;

interface Outcome {
  result: HandshakeResult;
  /** Reason of the session's end, when the handshake succeeded. */
  ended: string;
  messages: Buffer[];
  /** The session key the client held once its handshake succeeded. */
  sessionKey: Uint32Array | null;
  client: LightweightSecureClient;
}

describe("reliability: the desktop client against a misbehaving server", function () {
  this.timeout(60000);
  guardProcess();

  let fake: FakeServer;
  const scripts: Script[] = [];
  let realServer: LightweightSecureServer;
  let control: LightweightSecureClient;

  before(async () => {
    // Connections are matched to scripts in connection order: each client takes the next one.
    fake = await fakeServer((socket, reader, index) => scripts[index](socket, reader));
    realServer = await startServer({ keepAliveIntervalMs: 100, inactivityTimeoutMs: 5000 });
    realServer.on("session", (s: Session) => s.on("message", (_t: string, bytes: Buffer) => s.sendMessage(bytes)));
    control = newClient(realServer, { keepAliveIntervalMs: 100, inactivityTimeoutMs: 5000 });
    assert.equal((await control.connectToServer()).success, true);
  });

  after(async () => {
    await control.disconnect();
    await realServer.stop();
    await fake.close();
  });

  afterEach(async () => {
    assert.equal(control.isConnected, true, "the control client is still connected to the real server");
    const payload = testBytes(24);
    const echo = next<[string, Buffer]>(control, "message", 5000);
    control.sendMessage(payload);
    assert.deepEqual((await echo)[1], payload);
  });

  /** Runs one client against `script`; resolves once its handshake failed or its session ended. */
  async function against(script: Script): Promise<Outcome> {
    scripts.push(script);
    const client = newClient(fake.port, { handshakeTimeoutMs: 1500, keepAliveIntervalMs: 100000, inactivityTimeoutMs: -1 });
    const messages: Buffer[] = [];
    client.on("message", (_t: string, bytes: Buffer) => messages.push(bytes));
    let ended = "";
    let sessionKey: Uint32Array | null = null;
    client.on("disconnected", (reason: string) => (ended = reason));
    client.on("handshakeSuccess", () => (sessionKey = client.sessionKey));
    const result = await within(client.connectToServer(), 5000, "the client's handshake outcome");
    if (result.success) await until(() => ended !== "", { timeoutMs: 5000, what: "the session to end" });
    return { result, ended, messages, sessionKey, client };
  }

  /** The honest first two steps of a server: Request, then read the 25-byte Response. */
  async function honestStart(socket: Socket, reader: ByteReader): Promise<Buffer> {
    socket.write(makeRequest(schedule()).packet);
    return reader.read(25);
  }

  it("random bytes from the server (fast-check): the handshake fails with a reason; nothing is delivered", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 80 }), { minLength: 1, maxLength: 4 }), async (chunks) => {
        const all = Buffer.concat(chunks);
        const outcome = await against((socket) => {
          for (const chunk of chunks) socket.write(chunk);
          socket.end();
        });
        // Any 0x02 + 24 bytes is *some* Request and any 0x04 + 32 bytes *some* session key: only that shape may open.
        if (outcome.result.success) assert.ok(all[0] === 2 && all.length >= 58 && all[25] === 4, "opened on " + all.toString("hex"));
        else if (all[0] === TYPE_V2_SERVER_HELLO) {
          // A first byte 0x12 is a v2 ServerHello: the client says the server speaks the other profile.
          assert.equal(outcome.result.reason, "profile-mismatch", "first byte 0x12: " + all.toString("hex"));
          assert.deepEqual(outcome.messages, []);
        } else {
          assertReasonIn(outcome.result.reason, FAILURE_REASONS, "random server bytes");
          assert.deepEqual(outcome.messages, []);
        }
      }),
      { numRuns: 30 },
    );
  });

  it("every truncation of the Request and of the Success, then a close: peer-closed", async () => {
    const requests = await inBatches(25, 25, (cut) =>
      against((socket) => {
        socket.end(makeRequest(schedule()).packet.subarray(0, cut));
      }),
    );
    for (const [cut, o] of requests.entries()) assert.equal(o.result.reason, "peer-closed", "Request cut at " + cut);
    const successes = await inBatches(33, 33, (cut) =>
      against(async (socket, reader) => {
        await honestStart(socket, reader);
        socket.end(makeSuccess(new Uint32Array(8).fill(7), schedule()).subarray(0, cut));
      }),
    );
    for (const [cut, o] of successes.entries()) assert.equal(o.result.reason, "peer-closed", "Success cut at " + cut);
  });

  it("every one-byte extension of the Request and of the Success (all 256 values): the extra byte is judged as the next packet", async () => {
    const afterRequest = await inBatches(256, 32, (b) =>
      against(async (socket, reader) => {
        socket.write(Buffer.concat([makeRequest(schedule()).packet, Buffer.of(b)]));
        await reader.read(25); // the client answered the Request before judging the extra byte
        socket.end();
      }),
    );
    afterRequest.forEach((o, b) => {
      // Awaiting the Success, any other TYPE fails at its first byte; only a 0x04 waits for more.
      const want = b === 4 ? "peer-closed" : b >= 1 && b <= 6 ? "wrong-type" : "unknown-type";
      assert.equal(o.result.reason, want, "byte " + b + " after the Request");
    });
    const afterSuccess = await inBatches(256, 32, (b) =>
      against(async (socket, reader) => {
        await honestStart(socket, reader);
        socket.end(Buffer.concat([makeSuccess(new Uint32Array(8).fill(b), schedule()), Buffer.of(b)]));
      }),
    );
    afterSuccess.forEach((o, b) => {
      assert.equal(o.result.success, true, "byte " + b);
      const want = b >= 1 && b <= 5 ? "peer-closed" : b === 6 ? "disconnect" : "unknown-type";
      assert.equal(o.ended, want, "byte " + b + " after the Success");
      assert.deepEqual(o.messages, []);
    });
  });

  /** A whole packet of TYPE t (random body), so the client's handshake judges it. */
  function packetOfType(t: number): Buffer {
    const size = t === 1 ? 11 : t === 2 || t === 3 ? 25 : t === 4 ? 33 : 1;
    const packet = testBytes(size);
    packet[0] = t;
    if (t === 1) packet.writeUInt16BE(8, 1);
    return packet;
  }

  it("every wrong TYPE at both client steps (awaiting the Request, awaiting the Success): wrong-type or unknown-type (profile-mismatch for a first 0x12, a v2 ServerHello)", async () => {
    const first = Array.from({ length: 256 }, (_, t) => t).filter((t) => t !== 2);
    const step1 = await inBatches(first.length, 32, (i) => against((socket) => void socket.write(packetOfType(first[i]))));
    const firstReason = (t: number) => (t >= 1 && t <= 6 ? "wrong-type" : t === 0x12 ? "profile-mismatch" : "unknown-type");
    for (const [i, o] of step1.entries()) assert.equal(o.result.reason, firstReason(first[i]), "type " + first[i] + " first");
    const second = Array.from({ length: 256 }, (_, t) => t).filter((t) => t !== 4);
    const step2 = await inBatches(second.length, 32, (i) =>
      against(async (socket, reader) => {
        await honestStart(socket, reader);
        socket.write(packetOfType(second[i]));
      }),
    );
    for (const [i, o] of step2.entries())
      assert.equal(o.result.reason, second[i] >= 1 && second[i] <= 6 ? "wrong-type" : "unknown-type", "type " + second[i] + " second");
  });

  it("a valid HandshakeSuccess before any Request: wrong-type, no session", async () => {
    const o = await against((socket) => void socket.write(makeSuccess(new Uint32Array(8).fill(1), schedule())));
    assert.equal(o.result.success, false);
    assert.equal(o.result.reason, "wrong-type");
    assert.equal(o.client.isConnected, false);
  });

  it("a message header during the handshake: wrong-type at its first byte; LENGTH 0 and over 65528 inside a session; the message after it is never delivered", async () => {
    for (const [length, reason] of [
      [0, "zero-length"],
      [65529, "bad-length"],
      [65535, "bad-length"],
    ] as const) {
      const early = await against((socket) => void socket.write(rawMessageHeader(length, 16)));
      assert.equal(early.result.reason, "wrong-type", "handshake, LENGTH " + length);
      const key = testKeyWords();
      const late = await against(async (socket, reader) => {
        await honestStart(socket, reader);
        socket.write(makeSuccess(key, schedule()));
        socket.write(Buffer.concat([makeMessage(Buffer.from("before"), key), rawMessageHeader(length, 16), makeMessage(Buffer.from("after"), key)]));
      });
      assert.equal(late.ended, reason, "session, LENGTH " + length);
      assert.deepEqual(late.messages.map(String), ["before"]);
    }
  });

  it("a Request under another key: the client's Response does not verify, and the client fails when the server hangs up", async () => {
    let verified: boolean | undefined;
    const o = await against(async (socket, reader) => {
      const { packet, numbers } = makeRequest(schedule(OTHER_KEY_HEX));
      socket.write(packet);
      const response = readNumbers(await reader.read(25), schedule(OTHER_KEY_HEX));
      const sumLow = (numbers[2] + numbers[4]) >>> 0;
      verified = response[0] === (numbers[0] ^ sumLow ^ (numbers[2] ^ numbers[4])) >>> 0;
      socket.end();
    });
    assert.equal(verified, false);
    assert.equal(o.result.reason, "peer-closed");
  });

  it("a replayed server transcript opens a session with the recorded key and replays its messages (v1 cannot tell: no server authentication, no replay protection — SECURITY.md)", async () => {
    const recorded: Buffer[] = [];
    const key = testKeyWords();
    const original = await against(async (socket, reader) => {
      const request = makeRequest(schedule()).packet;
      recorded.push(request);
      socket.write(request);
      await reader.read(25);
      const rest = Buffer.concat([makeSuccess(key, schedule()), makeMessage(Buffer.from("recorded"), key)]);
      recorded.push(rest);
      socket.end(rest);
    });
    assert.deepEqual(original.messages.map(String), ["recorded"]);
    const replay = await against(async (socket, reader) => {
      socket.write(recorded[0]);
      await reader.read(25); // a fresh Response, ignored
      socket.write(recorded[1]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.end();
    });
    assert.equal(replay.result.success, true);
    assert.deepEqual(replay.sessionKey, key);
    assert.deepEqual(replay.messages.map(String), ["recorded"]);
  });
});
