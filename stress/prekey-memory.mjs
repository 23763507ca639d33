// Stress scenario prekey-memory: 4,000 connections per profile, each sending a message header
// that announces the largest LENGTH (v1 `01 ff f8`, v2 `11 ff f8`) and 65,000 bytes of body (a
// little short of the packet, so a framer that trusts the LENGTH waits holding its buffer),
// against a LightweightSecureServer in its own process (so its RSS is the server's alone).
// Before the handshake-mode framer this took the server from ~51 MB to ~600 MB; now every such
// connection fails at its first byte (wrong-type) and RSS stays flat.
import { join } from "node:path";

const MB = 1048576;
/** Generous: the fixed server grows ~45 MB at 4,000 connections (sockets, allocator); the old one ~550 MB. */
const GROWTH_LIMIT = 128 * MB;

export default async function prekeyMemory({ root, n, key }) {
  const { startMemoryServer, prekeyFlood } = await import(join(root, "build/test/helpers/prekey-attack.js"));
  const count = n(4000);
  const failures = [];
  const notes = [];
  for (const [profile, header] of [
    ["v1", [0x01, 0xff, 0xf8]],
    ["v2", [0x11, 0xff, 0xf8]],
  ]) {
    const server = await startMemoryServer(profile, key);
    try {
      const before = await server.report();
      server.reset();
      const flood = await prekeyFlood(server.port, count, header, 65000);
      const during = await server.report();
      let after = during;
      const deadline = Date.now() + 30000;
      while ((after.connections > 0 || after.handshakesFailed < count) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        after = await server.report();
      }
      const mb = (bytes) => Math.round(bytes / MB);
      notes.push(`${profile} RSS ${mb(before.rss)} → peak ${mb(during.peakRss)} → after ${mb(after.rss)} MB (${flood.ms} ms)`);
      if (during.peakRss - before.rss > GROWTH_LIMIT) failures.push(`${profile}: peak RSS grew by ${mb(during.peakRss - before.rss)} MB`);
      if (after.rss - before.rss > GROWTH_LIMIT) failures.push(`${profile}: RSS after grew by ${mb(after.rss - before.rss)} MB`);
      if (flood.closedByServer !== count) failures.push(`${profile}: the server closed ${flood.closedByServer} of ${count} itself`);
      if ((after.reasons["wrong-type"] ?? 0) !== count) failures.push(`${profile}: reasons ${JSON.stringify(after.reasons)}`);
    } finally {
      await server.stop();
    }
  }
  return { inputs: count * 2, connections: count * 2, failures, note: notes.join("; ") };
}
