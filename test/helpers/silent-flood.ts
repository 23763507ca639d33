// A silent-connection flood as its own process (the attacker is not the server's process):
// holds `count` connections to 127.0.0.1:port that never send a byte, and reopens each one the
// server drops, until `seconds` have passed or `maxOpens` connections were made; then closes
// everything, prints one JSON line of counts and exits. Bounded in count and in time.
//
//   node silent-flood.js PORT COUNT SECONDS MAX_OPENS [INFLIGHT]
//
// At most INFLIGHT (default 256) connects are in progress at once, well under the listen
// backlog (1024): filling the kernel's accept queue is a SYN flood, which drops every client's
// SYN whatever the server does, and no admission policy can answer that.

import { connect, type Socket } from "node:net";

const [port, count, seconds, maxOpens, inflightArg] = process.argv.slice(2).map(Number);
const inflight = inflightArg || 256;
const deadline = Date.now() + seconds * 1000;
const open = new Set<Socket>();
let connecting = 0;
let opens = 0;
let dropped = 0;
let failed = 0;
let peakOpen = 0;
let stopping = false;

function topUp(): void {
  while (!stopping && open.size + connecting < count && connecting < inflight && opens < maxOpens && Date.now() < deadline) {
    opens++;
    connecting++;
    const socket = connect({ host: "127.0.0.1", port });
    let connected = false;
    socket.on("error", () => {});
    // Reads (and ignores) what the server sends, so that its close is seen at once.
    socket.resume();
    socket.once("connect", () => {
      connected = true;
      connecting--;
      open.add(socket);
      peakOpen = Math.max(peakOpen, open.size);
      topUp();
    });
    socket.once("close", () => {
      if (connected) {
        open.delete(socket);
        if (!stopping) dropped++;
      } else {
        connecting--;
        failed++;
      }
      if (!stopping) setImmediate(topUp);
    });
  }
}

function finish(): void {
  stopping = true;
  for (const socket of open) socket.destroy();
  process.stdout.write(JSON.stringify({ opens, dropped, failed, peakOpen }) + "\n", () => process.exit(0));
}

topUp();
// Keeps topping up in case a burst of drops found the in-flight limit reached.
const timer = setInterval(topUp, 50);
setTimeout(() => {
  clearInterval(timer);
  finish();
}, seconds * 1000);
