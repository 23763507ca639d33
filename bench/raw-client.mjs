// The client half of the raw node:net baseline (bench/server-child.mjs kind "raw"): the same
// shapes of load as lwstcp-bench, with no protocol and no crypto. argv: port mode sessions
// durationMs size. Prints one JSON report like lwstcp-bench --json (the fields it has).
//   handshake: connect, read 25 bytes, send 25, read 33 = "handshake" done, send 1 byte and end;
//   idle: open `sessions` sockets that way and hold them for the duration, writing 1 byte to
//         each every `size` ms (an lwstcp client's keep-alives);
//   echo: after that exchange, send `size + 3` bytes and wait for them back, closed loop.
import net from "node:net";

const [port, mode, sessions, durationMs, size] = process.argv.slice(2).map((a, i) => (i === 1 ? a : Number(a)));
const now = () => performance.now();
const latencies = [];
const rtt = [];

/** Connects and runs the 25/25/33-byte exchange; resolves with the socket. */
function open() {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const socket = net.connect({ port, host: "127.0.0.1", noDelay: true });
    let have = 0;
    let stage = 0;
    socket.on("error", reject);
    const onData = (chunk) => {
      have += chunk.length;
      if (stage === 0 && have >= 25) {
        stage = 1;
        have -= 25;
        socket.write(Buffer.alloc(25, 3));
      }
      if (stage === 1 && have >= 33) {
        socket.removeListener("data", onData);
        latencies.push(now() - t0);
        resolve(socket);
      }
    };
    socket.on("data", onData);
  });
}

function pct(values) {
  const s = values.slice().sort((a, b) => a - b);
  const at = (q) => (s.length ? +s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)].toFixed(3) : 0);
  return { count: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s.length ? +s[s.length - 1].toFixed(3) : 0 };
}

let handshakes = 0;
let messages = 0;
let start = now();
let end = 0;
if (mode === "handshake") {
  const deadline = start + durationMs;
  await Promise.all(
    Array.from({ length: sessions }, async () => {
      while (now() < deadline) {
        const socket = await open();
        handshakes++;
        socket.end(Buffer.from([6]));
        socket.resume();
      }
    }),
  );
  end = now();
} else {
  const sockets = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(100, sessions) }, async () => {
      while (next < sessions) {
        next++;
        sockets.push(await open());
      }
    }),
  );
  if (mode === "idle") {
    // Keep-alive traffic as an lwstcp client makes it: 1 byte per socket every `size` ms.
    const one = Buffer.from([5]);
    const timer = setInterval(() => {
      for (const socket of sockets) socket.write(one);
    }, size);
    await new Promise((resolve) => setTimeout(resolve, durationMs));
    clearInterval(timer);
    for (const socket of sockets) socket.destroy();
    process.stdout.write(JSON.stringify({ mode, sessions, sessionsOpened: sockets.length }) + "\n");
    process.exit(0);
  }
  const packet = Buffer.alloc(size + 3, 1);
  let measuring = true;
  start = now();
  for (const socket of sockets) {
    let have = 0;
    let sentAt = now();
    socket.on("data", (chunk) => {
      have += chunk.length;
      while (have >= packet.length) {
        have -= packet.length;
        if (!measuring) return;
        messages++;
        rtt.push(now() - sentAt);
        sentAt = now();
        socket.write(packet);
      }
    });
    socket.write(packet);
  }
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  measuring = false;
  end = now();
  for (const socket of sockets) socket.destroy();
}
const seconds = (end - start) / 1000;
process.stdout.write(
  JSON.stringify({
    mode,
    sessions,
    durationMs: Math.round(end - start),
    handshakes,
    handshakesPerSecond: Math.round(handshakes / seconds),
    messages,
    messagesPerSecond: Math.round(messages / seconds),
    handshakeLatency: pct(latencies),
    roundTripLatency: pct(rtt),
  }) + "\n",
);
process.exit(0);
