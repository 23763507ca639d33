// Stress scenario "handshake-flood" (run by stress/run.mjs): a process holds 4,500 silent
// connections from 127.0.0.1 (more than the 4,096 handshake slots) and reopens each one the
// server drops, for 20 s, while honest clients from 127.0.0.2 handshake two at a time. The
// per-address backstop is lifted so that eviction alone must keep the server fair. Passes
// when >= 99 % of honest handshakes succeed with p99 < 200 ms and the slots are never exceeded.

import { fork } from "node:child_process";
import { join } from "node:path";

export default async function handshakeFlood({ root, key, n }) {
  const { LightweightSecureClient, LightweightSecureServer } = await import(join(root, "build/server/index.js"));
  const H = await import(join(root, "build/test/helpers/reliability.js"));
  const count = n(4500);
  const seconds = 20;
  const server = new LightweightSecureServer(0, { host: "127.0.0.1", key, maxHandshakesPerAddress: 1000000 });
  await server.start();
  const rssBefore = process.memoryUsage().rss;
  let peakHandshakes = 0;
  const watch = setInterval(() => (peakHandshakes = Math.max(peakHandshakes, server.handshakeCount)), 10);
  const child = fork(join(root, "build/test/helpers/silent-flood.js"), [server.port, count, seconds, 1000000].map(String), {
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  let flooding = true;
  const done = new Promise((resolve) => child.once("exit", () => resolve(out ? JSON.parse(out) : {}))).finally(() => (flooding = false));
  const failures = [];
  const slots = Math.min(count, 4096);
  const start = Date.now();
  while (server.handshakeCount < slots && Date.now() - start < 20000) await new Promise((r) => setTimeout(r, 10));
  if (server.handshakeCount < slots) failures.push("the flood never took the slots (" + server.handshakeCount + ")");
  const latencies = [];
  let honestFailed = 0;
  await Promise.all(
    [0, 1].map(async () => {
      while (flooding) {
        const client = new LightweightSecureClient("127.0.0.1", server.port, { key, localAddress: "127.0.0.2", handshakeTimeoutMs: 5000 });
        const t = performance.now();
        const result = await H.withTimeout(client.connectToServer(), 10000, "an honest handshake");
        if (result.success) latencies.push(performance.now() - t);
        else honestFailed++;
        await client.disconnect();
        await new Promise((r) => setTimeout(r, 10));
      }
    }),
  );
  const flood = await done;
  clearInterval(watch);
  const total = latencies.length + honestFailed;
  const sorted = [...latencies].sort((a, b) => a - b);
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))];
  if (latencies.length < 0.99 * total) failures.push("honest success " + latencies.length + "/" + total);
  if (!(p99 < 200)) failures.push("honest p99 " + p99 + " ms");
  if (peakHandshakes > 4096) failures.push("peak handshakes " + peakHandshakes);
  const deadline = Date.now() + 15000;
  while (server.handshakeCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const rssAfter = process.memoryUsage().rss;
  if (server.handshakeCount > 0) failures.push(server.handshakeCount + " handshakes left after the flood");
  await server.stop();
  const mb = (b) => Math.round(b / 1048576);
  return {
    inputs: flood.opens || 0,
    connections: (flood.opens || 0) + total,
    failures,
    latencies,
    note:
      `${count} silent from 127.0.0.1 for ${seconds} s, ${flood.opens} opened: ${server.stats.evicted} evicted, ${server.stats.refused} refused, ` +
      `peak ${peakHandshakes} handshakes; honest ${latencies.length}/${total} ok; RSS ${mb(rssBefore)} → ${mb(rssAfter)} MB after`,
  };
}
