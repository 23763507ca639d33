// Device memory per connection (RAM is what a device runs out of): the library's buffers are sized once, and a 64 KB
// message grows them only while it arrives. The built library runs in host-sim as a client of
// the desktop server; the simulator's JsVar estimate (host-sim/memory.ts) is read before, at
// the peak, and after a 65528-byte message. Skipped before a build.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { LightweightSecureServer } from "../server/server.js";
import type { Session } from "../server/session.js";
import { assertHealthy, bootDevice, stopAllDevices, until } from "./helpers/host-sim.js";
import { KEY_HEX } from "./helpers/server.js";
import { repoRoot } from "./helpers/vectors.js";

const bundlePath = join(repoRoot, "dist", "lwstcp.js");

describe("device memory around a 64 KB message (host-sim)", function () {
  this.timeout(20000);
  let server: LightweightSecureServer | undefined;
  before(function () {
    if (!existsSync(bundlePath)) this.skip();
  });
  afterEach(async () => {
    stopAllDevices();
    await server?.stop();
    server = undefined;
  });

  it("JsVars return to the small-message level after a 65528-byte message", async () => {
    let session: Session | undefined;
    server = new LightweightSecureServer(0, { host: "127.0.0.1", key: KEY_HEX });
    server.on("session", (s: Session) => (session = s));
    await server.start();
    const device = bootDevice({ name: "mem", storage: { lwstcp: readFileSync(bundlePath, "latin1") }, memoryCheckMs: 20 });
    device.run(
      `var lw = require("lwstcp"); lw.setHandshakeKey("${KEY_HEX}");` +
        `var c = new lw.LightweightSecureClient("127.0.0.1", ${server.port});` +
        `c.setOnHandshakeSuccess(function () { print("open"); });` +
        // Measured inside the callback, while the framer's buffer and the message are held: a
        // deterministic reading of the peak, where periodic sampling could miss it.
        `c.setOnMessageReceived(function (text) { print("got " + text.length + " holding " + process.memory().usage); });` +
        `c.connectToServer();`,
    );
    await device.waitForConsole("open", 8000);
    await until(() => session !== undefined, { timeoutMs: 3000, what: "server session" });
    const usage = () => device.run("process.memory().usage") as number;

    const holding = (length: number) => {
      const line = device.consoleLines.find((l) => l.startsWith("got " + length + " holding "));
      return Number(line?.split(" ")[3]);
    };
    session!.sendMessage("0123456789abcdef");
    await device.waitForConsole("got 16 ", 5000);
    const small = usage();

    session!.sendMessage(new Uint8Array(65528).fill(0x41));
    await device.waitForConsole("got 65528 ", 8000);
    await new Promise((r) => setTimeout(r, 100));
    const after = usage();

    // The 64 KB message was really held while it was delivered (≈ 4,700 JsVars for its bytes alone) ...
    assert.ok(holding(65528) - holding(16) > 4000, `holding ${holding(65528)} for 64 KB vs ${holding(16)} for 16 bytes: the large message should show`);
    // ... and is gone afterwards: the framer went back to its small buffer.
    assert.ok(after - small < 100, `usage ${after} after vs ${small} before the 64 KB message`);
    assertHealthy(device);
  });
});
