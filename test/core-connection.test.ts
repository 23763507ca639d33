import assert from "node:assert/strict";
import { STATE_CLOSED, STATE_OPEN } from "../firmware/core/lifecycle.js";
import { PROFILES, pairOf } from "./helpers/pair.js";

const text = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));

// The lifecycle both profiles share (firmware/core/lifecycle.ts), one table of cases run
// against each: what differs per profile (the wrong-key reason, the bytes of a keep-alive or
// of garbage) comes from its kit in test/helpers/pair.ts.
for (const kit of PROFILES) {
  const pair = (overrides: Record<string, unknown> = {}, clientKeyHex?: string) => pairOf(kit, overrides, {}, clientKeyHex);
  describe(`Connection lifecycle, profile ${kit.name} (the protocol engine every driver shares)`, () => {
    it("handshakes, then carries messages both ways with the same session key", () => {
      const p = pair();
      p.server.start();
      p.flush();
      assert.equal(p.server.state, STATE_OPEN);
      assert.equal(p.client.state, STATE_OPEN);
      assert.deepEqual(p.serverSink.events, ["handshake-success"]);
      assert.deepEqual(p.clientSink.events, ["handshake-success"]);
      assert.deepEqual([...p.server.sessionKey], [...p.client.sessionKey]);
      assert.notDeepEqual([...p.server.sessionKey], new Array(8).fill(0));
      p.client.sendBytes(text("1"), 0, 1);
      p.server.sendBytes(text("héllo ☺"), 0, text("héllo ☺").length);
      p.client.sendByteString("\x00\xff bytes");
      p.flush();
      assert.deepEqual(p.serverSink.messages, ["1", Buffer.from("\x00\xff bytes", "latin1").toString("utf8")]);
      assert.deepEqual(p.clientSink.messages, ["héllo ☺"]);
    });

    it("refuses to send before the handshake, after close, and messages of 0 or over 65528 bytes", () => {
      const p = pair();
      assert.throws(() => p.client.sendBytes(text("x"), 0, 1), /the handshake has (not )?completed/);
      p.server.start();
      p.flush();
      assert.throws(() => p.client.sendBytes(new Uint8Array(0), 0, 0), /at least 1 byte/);
      assert.throws(() => p.client.sendBytes(new Uint8Array(65529), 0, 65529), /at most 65528/);
      p.client.sendBytes(new Uint8Array(65528).fill(65), 0, 65528);
      p.flush();
      assert.equal(p.serverSink.messages[0].length, 65528);
      p.client.disconnect();
      assert.throws(() => p.client.sendBytes(text("x"), 0, 1), /session is closed/);
    });

    it("sends KeepAlive when idle and stays open past the inactivity timeout while keep-alives flow", () => {
      const p = pair();
      p.server.start();
      p.flush();
      for (let t = 0; t < 30; t++) {
        p.clock.now += 100;
        p.server.tick();
        p.client.tick();
        p.flush();
      }
      assert.equal(p.server.state, STATE_OPEN, "3 s of silence from the application, 1 s inactivity timeout");
      assert.equal(p.client.state, STATE_OPEN);
    });

    it("closes a session whose peer went silent after the inactivity timeout", () => {
      const p = pair();
      p.server.start();
      p.flush();
      p.clock.now += 999;
      p.server.tick();
      assert.equal(p.server.state, STATE_OPEN);
      p.clock.now += 1;
      p.server.tick();
      assert.equal(p.server.state, STATE_CLOSED);
      assert.deepEqual(p.serverSink.events, ["handshake-success", "ended:inactivity-timeout"]);
      assert.equal(p.serverSink.closed, 1);
    });

    it("an inactivity timeout of -1 never closes", () => {
      const p = pair({ inactivityTimeoutMs: -1 });
      p.server.start();
      p.flush();
      p.clock.now += 1e9;
      p.server.tick();
      assert.equal(p.server.state, STATE_OPEN);
    });

    it("fails the handshake at the handshake timeout", () => {
      const p = pair();
      p.server.start();
      p.clock.now += 500;
      p.server.tick();
      assert.deepEqual(p.serverSink.events, ["handshake-failed:handshake-timeout"]);
      assert.equal(p.serverSink.closed, 1);
    });

    it("Disconnect ends the other side with reason disconnect", () => {
      const p = pair();
      p.server.start();
      p.flush();
      p.client.disconnect();
      p.flush();
      assert.deepEqual(p.clientSink.events, ["handshake-success", "ended:local-disconnect"]);
      assert.deepEqual(p.serverSink.events, ["handshake-success", "ended:disconnect"]);
      assert.deepEqual([...p.server.sessionKey], new Array(8).fill(0), "keys wiped");
    });

    it("a wrong key fails on both sides and delivers nothing", () => {
      const p = pair({}, "11".repeat(32));
      p.server.start();
      p.flush();
      assert.deepEqual(p.serverSink.events, ["handshake-failed:" + kit.wrongKeyReason]);
      // The client never hears a Success; its socket closes under it.
      p.client.transportClosed();
      assert.deepEqual(p.clientSink.events, ["handshake-failed:peer-closed"]);
    });

    it("a message or KeepAlive before the handshake completes is a handshake failure", () => {
      const p = pair();
      p.server.start();
      p.server.receive(kit.earlyKeepAlive);
      assert.deepEqual(p.serverSink.events, ["handshake-failed:wrong-type"]);
    });

    it("a handshake packet or unknown TYPE in an open session closes it with a reason, and nothing after it is delivered", () => {
      for (const [bytes, reason] of kit.sessionGarbage) {
        const p = pair();
        p.server.start();
        p.flush();
        p.server.receive(bytes);
        assert.deepEqual(p.serverSink.events, ["handshake-success", "ended:" + reason]);
        assert.deepEqual(p.serverSink.messages, []);
      }
    });

    it("disconnect() from inside a message callback stops processing the rest of the chunk", () => {
      const p = pair();
      p.server.start();
      p.flush();
      p.serverSink.message = (bytes, at, length) => {
        p.serverSink.messages.push(Buffer.from(bytes.subarray(at, at + length)).toString());
        p.server.disconnect();
      };
      p.client.sendBytes(text("a"), 0, 1);
      p.client.sendBytes(text("b"), 0, 1);
      const merged = Buffer.concat(p.clientSink.wire.splice(0));
      p.server.receive(merged);
      assert.deepEqual(p.serverSink.messages, ["a"]);
      assert.equal(p.serverSink.closed, 1);
    });

    it("validates keep-alive settings with clear errors", () => {
      assert.throws(() => pair({ keepAliveIntervalMs: 0 }), /keep-alive interval/);
      assert.throws(() => pair({ keepAliveIntervalMs: 1000, inactivityTimeoutMs: 1000 }), /must be shorter than the inactivity timeout/);
      assert.throws(() => pair({ inactivityTimeoutMs: -2 }), /or -1 to disable/);
      assert.throws(() => pair({ handshakeTimeoutMs: 0 }), /handshake timeout/);
    });
  });
}
