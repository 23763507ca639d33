// A LightweightSecureServer alone in its own process, so a test or a stress scenario can read
// that server's memory (RSS, heap, array buffers) without its own sockets and buffers in the
// figures. Started with fork() (an IPC channel) and --expose-gc:
//
//   node --expose-gc build/test/helpers/memory-server.js v1|v2   (key in LWSTCP_KEY)
//
// It sends { port } once listening, then answers each "report" message with a MemoryReport
// taken after a full GC. RSS is sampled every 10 ms; "reset" starts a new peak.
import { LightweightSecureServer } from "../../server/index.js";

export interface MemoryReport {
  rss: number;
  peakRss: number;
  heapUsed: number;
  arrayBuffers: number;
  /** Connections the server still holds (handshaking or open). */
  connections: number;
  handshakesFailed: number;
  reasons: Record<string, number>;
}

const profile = process.argv[2] === "v2" ? "v2" : "v1";
const server = new LightweightSecureServer(0, {
  host: "127.0.0.1",
  key: process.env.LWSTCP_KEY,
  profile,
  // Long enough that an attack's connections are still held when the peak is read.
  handshakeTimeoutMs: 20000,
});
server.on("error", () => {});
const reasons: Record<string, number> = {};
let failed = 0;
server.on("handshakeFailed", (r: { reason: string }) => {
  failed++;
  reasons[r.reason] = (reasons[r.reason] ?? 0) + 1;
});
let peakRss = 0;
setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 10);

const collect = (globalThis as { gc?: () => void }).gc ?? (() => {});
function report(): MemoryReport {
  collect();
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  return {
    rss: m.rss,
    peakRss,
    heapUsed: m.heapUsed,
    arrayBuffers: m.arrayBuffers,
    connections: (server as unknown as { drivers: Set<unknown> }).drivers.size,
    handshakesFailed: failed,
    reasons,
  };
}

process.on("message", (message: string) => {
  if (message === "reset") peakRss = process.memoryUsage().rss;
  else if (message === "report") process.send?.({ report: report() });
  else if (message === "stop") void server.stop().then(() => process.exit(0));
});
process.on("disconnect", () => process.exit(0));
await server.start();
process.send?.({ port: server.port });
