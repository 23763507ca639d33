// The library's RAM budget: what an ESP32 runs out of is JsVars, not Storage bytes. The built
// dist/lwstcp.js runs in host-sim (whose process.memory() is the closure-aware JsVar estimate,
// host-sim/memory.ts), loaded and holding one open, idle client session with the desktop
// server; its usage over the bare device must stay within LIBRARY_BUDGET_JSVARS
// (scripts/boards.mjs, beside the byte gate, where the real-interpreter lane reads it too).
// Skipped before a build.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
// @ts-expect-error: plain ESM JavaScript with JSDoc types
import { LIBRARY_BUDGET_JSVARS } from "../../scripts/boards.mjs";
import { LightweightSecureServer } from "../server/server.js";
import { assertHealthy, bootDevice, stopAllDevices } from "./helpers/host-sim.js";
import { KEY_HEX } from "./helpers/server.js";
import { repoRoot } from "./helpers/vectors.js";

const bundlePath = join(repoRoot, "dist", "lwstcp.js");

describe("library JsVar budget (host-sim)", function () {
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

  it(`the library loaded with one idle session stays within ${LIBRARY_BUDGET_JSVARS} JsVars`, async () => {
    server = new LightweightSecureServer(0, { host: "127.0.0.1", key: KEY_HEX });
    await server.start();
    const device = bootDevice({ name: "budget", storage: { lwstcp: readFileSync(bundlePath, "latin1") } });
    const bare = device.run("process.memory().usage") as number;
    device.run(
      `var lw = require("lwstcp"); lw.setHandshakeKey("${KEY_HEX}");` +
        `var c = new lw.LightweightSecureClient("127.0.0.1", ${server.port});` +
        `c.setOnHandshakeSuccess(function () { print("open"); });` +
        `c.connectToServer();`,
    );
    await device.waitForConsole("open", 8000);
    const used = (device.run("process.memory().usage") as number) - bare;
    console.log(`      library + one idle session: ${used} JsVars (budget ${LIBRARY_BUDGET_JSVARS})`);
    assert.ok(used <= LIBRARY_BUDGET_JSVARS, `the library with one idle session uses ${used} JsVars, over its ${LIBRARY_BUDGET_JSVARS} budget`);
    assertHealthy(device);
  });
});
