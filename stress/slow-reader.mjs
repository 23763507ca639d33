// Stress scenario "slow-reader" (run by stress/run.mjs): 120 sessions that hold the key, push
// echoes and never read, against a server with the default limits (256 KiB per session, the
// server-wide budget, send-stalled after 20 s), while honest clients from 127.0.0.2 handshake
// one after another. Passes when every pusher is ended "send-stalled", the queues stay within
// 120 × 256 KiB (plus one packet each), and honest handshakes all succeed with p99 < 200 ms.

import { join } from "node:path";

export default async function slowReader({ root, key, n }) {
  const { LightweightSecureClient, LightweightSecureServer } = await import(join(root, "build/server/index.js"));
  const H = await import(join(root, "build/test/helpers/reliability.js"));
  const count = n(120);
  const size = 16000;
  const server = new LightweightSecureServer(0, { host: "127.0.0.1", key });
  await server.start();
  const ended = [];
  let refused = 0;
  server.on("session", (s) => {
    s.on("message", (_t, bytes) => {
      try {
        s.sendMessage(bytes);
      } catch {
        refused++;
      }
    });
    if (s.remoteAddress === "127.0.0.1") s.on("ended", (reason) => ended.push(reason));
  });
  const rssBefore = process.memoryUsage().rss;
  let peakQueued = 0;
  let peakRss = rssBefore;
  const watch = setInterval(() => {
    peakQueued = Math.max(peakQueued, server.queuedBytes);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 20);
  const t0 = Date.now();
  const pushers = [];
  for (let i = 0; i < count; i++)
    pushers.push(await H.nonReadingPusher(server.port, { total: 6 * 1024 * 1024, size, keepAliveMs: 2000, maxMs: 120000, keyHex: key }));
  let pushing = true;
  const all = Promise.all(pushers.map((p) => p.done)).finally(() => (pushing = false));
  const latencies = [];
  const failures = [];
  while (pushing) {
    const client = new LightweightSecureClient("127.0.0.1", server.port, { key, localAddress: "127.0.0.2", handshakeTimeoutMs: 10000 });
    const t = performance.now();
    const result = await H.withTimeout(client.connectToServer(), 15000, "an honest handshake");
    if (result.success) latencies.push(performance.now() - t);
    else failures.push("honest: " + result.reason);
    await client.disconnect();
    await new Promise((r) => setTimeout(r, 20));
  }
  await H.withTimeout(all, 130000, "the pushers to be closed");
  const seconds = Math.round((Date.now() - t0) / 100) / 10;
  clearInterval(watch);
  const deadline = Date.now() + 10000;
  while (ended.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const stalled = ended.filter((r) => r === "send-stalled").length;
  if (stalled !== count)
    failures.push(stalled + " of " + count + " pushers ended send-stalled (others: " + [...new Set(ended.filter((r) => r !== "send-stalled"))].join(",") + ")");
  const bound = count * (256 * 1024 + size + 16);
  if (peakQueued > bound) failures.push("queues peaked at " + peakQueued + " bytes, over " + bound);
  const sorted = [...latencies].sort((a, b) => a - b);
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))];
  if (!(p99 < 200)) failures.push("honest p99 " + p99 + " ms");
  await server.stop();
  const mb = (b) => Math.round(b / 1048576);
  return {
    inputs: count,
    connections: count + latencies.length,
    failures,
    latencies,
    note:
      `${count} non-reading pushers: all ended send-stalled within ${seconds} s; queues peaked at ${mb(peakQueued)} MB ` +
      `(cap ${mb(bound)} MB), RSS ${mb(rssBefore)} → ${mb(peakRss)} MB; ${refused} echoes refused`,
  };
}
