// A server process for bench/server.mjs, driven over IPC. argv[2] is a JSON object:
//   { kind: "lwstcp", keepAliveIntervalMs?, inactivityTimeoutMs?, maxSessions? }
//       LightweightSecureServer (the library, no logging) echoing every message;
//   { kind: "raw" }  the same-run baseline with no protocol and no crypto: plain node:net that
//       answers a connection with 25 bytes, the first 25 bytes it receives with 33 (the
//       handshake's packet sizes), and echoes everything after that; with keepAliveIntervalMs it
//       also writes 1 byte to each socket that sent nothing for that long (idle keep-alive traffic).
// It sends { ready, port } once listening, and answers { cmd: "stats" } with heap, RSS, CPU
// time and the session count (after a full GC when asked: { cmd: "stats", gc: true }).
import net from "node:net";
import { LightweightSecureServer } from "../build/server/index.js";

export const BENCH_KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

const ONE_BYTE = Buffer.from([5]);
const config = JSON.parse(process.argv[2] || "{}");
let count = () => 0;
let port = 0;

if (config.kind === "raw") {
  const sockets = new Set();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    let stage = 0;
    let have = 0;
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    socket.write(Buffer.alloc(25, 2));
    socket.on("data", (chunk) => {
      if (stage === 0) {
        have += chunk.length;
        if (have >= 25) {
          stage = 1;
          socket.write(Buffer.alloc(33, 4));
          if (have > 25) socket.write(chunk.subarray(chunk.length - (have - 25)));
        }
      } else socket.write(chunk);
    });
  });
  server.maxConnections = 100000;
  if (config.keepAliveIntervalMs) {
    // The keep-alive traffic of an idle lwstcp session without the protocol: a 1-byte write to
    // each socket that has sent nothing for the interval, checked by one timer.
    const lastSent = new WeakMap();
    setInterval(
      () => {
        const t = Date.now();
        for (const socket of sockets) {
          const last = lastSent.get(socket) || 0;
          if (t - last >= config.keepAliveIntervalMs) {
            if (last) socket.write(ONE_BYTE);
            lastSent.set(socket, t);
          }
        }
      },
      Math.min(1000, config.keepAliveIntervalMs / 4),
    ).unref();
  }
  await new Promise((resolve) => server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, resolve));
  port = server.address().port;
  count = () => sockets.size;
} else {
  const server = new LightweightSecureServer(0, {
    host: "127.0.0.1",
    key: BENCH_KEY,
    keepAliveIntervalMs: config.keepAliveIntervalMs,
    inactivityTimeoutMs: config.inactivityTimeoutMs,
    maxSessions: config.maxSessions || 100000,
    maxHandshakes: 4096,
    backlog: 4096,
  });
  server.on("session", (session) => {
    session.on("message", (_text, bytes) => {
      try {
        session.sendMessage(bytes);
      } catch {}
    });
    session.on("error", () => {});
  });
  server.on("error", () => {});
  await server.start();
  port = server.port;
  count = () => server.sessionCount;
}

process.on("message", (message) => {
  if (message.cmd === "stats") {
    if (message.gc && global.gc) {
      global.gc();
      global.gc();
    }
    const m = process.memoryUsage();
    process.send({
      stats: {
        heapUsed: m.heapUsed,
        rss: m.rss,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
        cpu: process.cpuUsage(),
        sessions: count(),
        at: performance.now(),
      },
    });
  }
});
process.on("disconnect", () => process.exit(0));
process.send({ ready: true, port });
