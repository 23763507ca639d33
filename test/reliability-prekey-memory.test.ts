// The pre-key memory attack against a real LightweightSecureServer in its own process: 2,000
// connections on 127.0.0.1 that each send a message header announcing the largest LENGTH and
// 4 KB of body, holding their sockets open. Before the fix each made the server allocate a
// 64 KB buffer and hold it until the handshake timeout (2,000 x 64 KB = 128 MB); now each is
// refused at its first byte (wrong-type) and the server's memory stays flat.
import assert from "node:assert/strict";
import { prekeyFlood, startMemoryServer } from "./helpers/prekey-attack.js";
import { KEY_HEX } from "./helpers/server.js";

const CONNECTIONS = 2000;
const MB = 1048576;
/**
 * Generous: the fixed server grows ~20 MB (sockets, timers, allocator slack); the old framer
 * took it from ~51 MB to ~200 MB peak and after (128 MB of 64 KB buffers alone).
 */
const PEAK_GROWTH_LIMIT = 64 * MB;
const AFTER_GROWTH_LIMIT = 64 * MB;

describe("reliability: the desktop server's memory under pre-key message headers", function () {
  this.timeout(60000);

  for (const [profile, header] of [
    ["v1", [0x01, 0xff, 0xf8]],
    ["v2", [0x11, 0xff, 0xf8]],
  ] as const) {
    it(`${profile}: ${CONNECTIONS} connections sending ${header.map((b) => b.toString(16).padStart(2, "0")).join(" ")} + 4 KB leave RSS flat; each fails with wrong-type`, async () => {
      const server = await startMemoryServer(profile, KEY_HEX);
      try {
        const before = await server.report();
        server.reset();
        const flood = await prekeyFlood(server.port, CONNECTIONS, [...header], 4096);
        const during = await server.report();
        const deadline = Date.now() + 15000;
        let after = during;
        while ((after.connections > 0 || after.handshakesFailed < CONNECTIONS) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
          after = await server.report();
        }
        const figures = `RSS before ${Math.round(before.rss / MB)} MB, peak ${Math.round(during.peakRss / MB)} MB, after ${Math.round(after.rss / MB)} MB; ${flood.ms} ms`;
        console.log(`      ${profile}: ${figures}`);
        assert.ok(during.peakRss - before.rss < PEAK_GROWTH_LIMIT, "peak: " + figures);
        assert.ok(after.rss - before.rss < AFTER_GROWTH_LIMIT, "after: " + figures);
        assert.equal(flood.closedByServer, CONNECTIONS, "the server closed every attacking connection itself");
        assert.deepEqual(after.reasons, { "wrong-type": CONNECTIONS });
        assert.equal(after.connections, 0);
      } finally {
        await server.stop();
      }
    });
  }
});
