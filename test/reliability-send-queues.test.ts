// Send queues under peers that hold the key and stop reading, over real sockets: such a session
// ends with "send-stalled", all queues together stay within the server's budget, honest
// handshakes stay fast meanwhile, the caps count wire bytes, and a protocol error after valid
// messages still lets their echoes out. (`npm run stress` runs the slow-reader scenario at 120
// sessions with the default limits.)

import assert from "node:assert/strict";
import { createKeySchedule, openMessage } from "../firmware/core/index.js";
import type { LightweightSecureServer, Session } from "../server/index.js";
import { ERR_SEND_QUEUE_FULL, REASON_SEND_STALLED } from "../server/index.js";
import {
  delay,
  guardProcess,
  handHandshake,
  makeMessage,
  newClient,
  nonReadingPusher,
  type Pusher,
  rawMessageHeader,
  startServer,
  until,
  within,
} from "./helpers/reliability.js";
import { testBytes } from "./helpers/seed.js";

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** An echo server as lwstcp-server --mode echo runs one; counts refused echoes by their message. */
function echoing(server: LightweightSecureServer) {
  const refusals: string[] = [];
  const ended = new Map<string, string>();
  server.on("session", (s: Session) => {
    s.on("message", (_t: string, bytes: Buffer) => {
      try {
        s.sendMessage(bytes);
      } catch (err) {
        if ((err as { code?: string }).code !== ERR_SEND_QUEUE_FULL) throw err;
        refusals.push((err as Error).message);
      }
    });
    s.on("ended", (reason: string) => ended.set(s.peer, reason));
  });
  return { refusals, ended };
}

describe("reliability: send queues against peers that stop reading", function () {
  this.timeout(60000);
  guardProcess();

  let server: LightweightSecureServer;
  const pushers: Pusher[] = [];
  afterEach(async () => {
    for (const p of pushers.splice(0)) p.socket.destroy();
    await server.stop();
  });

  it("8 non-reading sessions that keep sending are ended with send-stalled, and their queues together stay within the budget", async () => {
    const budget = 1024 * 1024;
    server = await startServer({ queueBudgetBytes: budget, sendStallTimeoutMs: 1500, keepAliveIntervalMs: 1000, inactivityTimeoutMs: 30000 });
    const { refusals, ended } = echoing(server);
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, server.queuedBytes)), 5);
    const size = 16000;
    for (let i = 0; i < 8; i++) pushers.push(await nonReadingPusher(server.port, { total: 8 * 1024 * 1024, size, keepAliveMs: 200, maxMs: 20000 }));
    await within(Promise.all(pushers.map((p) => p.done)), 30000, "the pushers to be closed");
    clearInterval(watch);
    await until(() => ended.size === 8, { timeoutMs: 5000, what: "every session to end" });
    assert.deepEqual([...ended.values()], Array(8).fill(REASON_SEND_STALLED));
    assert.equal(server.stats.stalled, 8);
    // A session with an empty queue may always queue one packet, so the bound is the budget
    // plus one packet per session.
    assert.ok(peak <= budget + 8 * (size + 16), "peak queued " + peak + " over the budget " + budget);
    assert.ok(peak > budget / 2, "the queues did fill (peak " + peak + ")");
    assert.ok(
      refusals.some((m) => /budget/.test(m)),
      "the budget refused echoes",
    );
    await until(() => server.queuedBytes === 0, { timeoutMs: 2000, what: "the budget to be given back" });
  });

  it("24 non-reading sessions push echoes (default per-session cap) while honest handshakes from another address keep p99 < 1.5 s (starved ones would wait out the 5 s handshake timeout)", async () => {
    server = await startServer({ sendStallTimeoutMs: 3000, keepAliveIntervalMs: 1000, inactivityTimeoutMs: 30000 });
    const { refusals, ended } = echoing(server);
    const count = 24;
    const opened = await Promise.all(
      Array.from({ length: count }, () => nonReadingPusher(server.port, { total: 6 * 1024 * 1024, size: 16000, keepAliveMs: 1000, maxMs: 25000 })),
    );
    pushers.push(...opened);
    let pushing = true;
    const all = Promise.all(opened.map((p) => p.done)).finally(() => (pushing = false));
    const latencies: number[] = [];
    const failures: string[] = [];
    let peakQueued = 0;
    await Promise.all(
      Array.from({ length: 2 }, async () => {
        while (pushing) {
          peakQueued = Math.max(peakQueued, server.queuedBytes);
          const client = newClient(server, { localAddress: "127.0.0.2" });
          const t0 = performance.now();
          const result = await within(client.connectToServer(), 10000, "an honest handshake");
          if (result.success) latencies.push(performance.now() - t0);
          else failures.push(result.reason);
          await client.disconnect();
          await delay(20);
        }
      }),
    );
    await within(all, 30000, "the pushers to be closed");
    const pusherEnds = () => [...ended].filter(([peer]) => peer.startsWith("127.0.0.1:")).map(([, reason]) => reason);
    await until(() => pusherEnds().length === count, { timeoutMs: 5000, what: "every pusher's session to end" });
    const summary = `honest ${latencies.length} ok, ${failures.length} failed, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms; refused echoes ${refusals.length}, peak queued ${Math.round(peakQueued / 1024)} KiB`;
    console.log("      " + summary);
    assert.deepEqual(failures, [], summary);
    assert.ok(latencies.length >= 50, summary);
    assert.ok(percentile(latencies, 99) < 1500, summary);
    assert.deepEqual(new Set(pusherEnds()), new Set([REASON_SEND_STALLED]));
    // Every session stopped at its cap: 256 KiB each, plus one packet.
    assert.ok(peakQueued <= count * (256 * 1024 + 16016), summary);
    assert.ok(refusals.length > 0, summary);
  });

  it("counts wire bytes against maxQueuedBytes: a 1-byte message is an 11-byte packet (v1) and a 35-byte record (v2)", async () => {
    for (const [profile, wire] of [
      ["v1", 11],
      ["v2", 35],
    ] as const) {
      for (const cap of [wire - 1, wire]) {
        server = await startServer({ profile, maxQueuedBytes: cap });
        const client = newClient(server, { profile, maxQueuedBytes: cap });
        const opened = new Promise<Session>((resolve) => server.once("session", resolve));
        assert.equal((await client.connectToServer()).success, true);
        const session = await opened;
        const echoed = new Promise((resolve) => client.once("message", resolve));
        if (cap < wire) {
          assert.throws(() => session.sendMessage("x"), { code: ERR_SEND_QUEUE_FULL });
          assert.throws(() => client.sendMessage("x"), { code: ERR_SEND_QUEUE_FULL });
        } else {
          session.sendMessage("x");
          await within(echoed, 3000, "the message");
        }
        await client.disconnect();
        await server.stop();
      }
    }
    server = await startServer();
  });

  it("a protocol error right after valid messages still delivers their echoes (within closeGraceMs), then closes", async () => {
    // A cap large enough for every echo: this test is about the close, not the cap.
    server = await startServer({ closeGraceMs: 5000, maxQueuedBytes: 16 * 1024 * 1024 });
    const { ended } = echoing(server);
    const hand = await handHandshake(server.port);
    // Not reading while the server echoes, so that more than the kernel holds waits in the server's queue.
    hand.socket.pause();
    const payloads = Array.from({ length: 100 }, () => testBytes(60000));
    // 100 messages (6 MB) and then a LENGTH-0 header: the echoes are sealed before the error.
    hand.socket.write(Buffer.concat([...payloads.map((p) => makeMessage(p, hand.sessionKey)), rawMessageHeader(0)]));
    await until(() => ended.size === 1, { timeoutMs: 10000, what: "the session to end" });
    assert.equal([...ended.values()][0], "zero-length");
    hand.socket.resume();
    const key = createKeySchedule(hand.sessionKey);
    for (let i = 0; i < payloads.length; i++) {
      const packet = await hand.reader.read(3 + 60000, 5000);
      const length = openMessage(packet, 0, packet.length, key);
      assert.ok(packet.subarray(3, 3 + length).equals(payloads[i]), "echo " + i + " intact");
    }
    await hand.reader.waitClosed(5000);
  });
});
