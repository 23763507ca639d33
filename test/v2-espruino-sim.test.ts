// The v2 engine and the Espruino primitives as the device runs them: bundled the way the
// firmware is (TypeScript → ES5 without helpers → terser → hoisting pass → Espruino static
// check), loaded into the host simulator, where `require("crypto")` is Espruino's API on aes-js
// with Espruino's semantics. The simulated device (client) handshakes with a Node ConnectionV2
// (server, node:crypto) and they exchange messages both ways: the desktop ↔ device cross pair.
import assert from "node:assert/strict";
import { join } from "node:path";
import terserPlugin from "@rollup/plugin-terser";
import typescriptPlugin from "@rollup/plugin-typescript";
import { type Plugin, rollup } from "rollup";
// @ts-expect-error plain JavaScript build scripts without type declarations
import { checkEspruinoSource } from "../../scripts/espruino-check.mjs";
// @ts-expect-error plain JavaScript build scripts without type declarations
import { espruinoHoist } from "../../scripts/espruino-hoist.mjs";
// @ts-expect-error: plain ESM JavaScript with JSDoc types
import { FIRMWARE_COMPILER_OPTIONS } from "../../scripts/firmware-typescript.mjs";
import { ROLE_SERVER } from "../firmware/core/connection.js";
import { ConnectionV2 } from "../firmware/core/v2/connection.js";
import { nodePrimitives } from "../server/crypto-v2.js";
import { assertHealthy, bootDevice, stopAllDevices } from "./helpers/host-sim.js";
import { recorder } from "./helpers/pair.js";
import { cryptoRandom, hex, v2Vectors } from "./helpers/v2.js";
import { repoRoot } from "./helpers/vectors.js";

// The plugins are CommonJS with a default export that NodeNext typing does not see as callable.
const typescript = typescriptPlugin as unknown as (options: object) => Plugin;
const terser = terserPlugin as unknown as (options: object) => Plugin;

const ENTRY = "\0lwstcp-v2-entry";

async function bundleV2(): Promise<string> {
  const file = (p: string) => JSON.stringify(join(repoRoot, p));
  const bundle = await rollup({
    input: ENTRY,
    plugins: [
      {
        name: "entry",
        resolveId: (id: string) => (id === ENTRY ? id : null),
        load: (id: string) =>
          id === ENTRY
            ? `export { ConnectionV2 } from ${file("firmware/core/v2/connection.ts")};\n` +
              `export { ROLE_CLIENT } from ${file("firmware/core/connection.ts")};\n` +
              `export { createEspruinoPrimitives } from ${file("firmware/crypto-v2.ts")};\n`
            : null,
      },
      typescript({
        tsconfig: false,
        include: [join(repoRoot, "firmware/**/*.ts")],
        compilerOptions: FIRMWARE_COMPILER_OPTIONS,
      }),
      terser({ ecma: 5, compress: { ecma: 5, passes: 2 }, mangle: true, format: { ecma: 5, comments: false } }),
      espruinoHoist(),
    ],
    onwarn: () => undefined,
  });
  const { output } = await bundle.generate({ format: "cjs", exports: "named", esModule: false, strict: false, generatedCode: "es5" });
  await bundle.close();
  return output[0].code;
}

describe("v2 on the simulated Espruino device (bundled ES5, native-crypto API)", function () {
  this.timeout(60000);
  let code = "";
  before(async () => {
    code = await bundleV2();
  });
  afterEach(stopAllDevices);

  it("the bundle is ES5 that Espruino 2v29 can run (the firmware build's static check)", () => {
    const { ok, problems } = checkEspruinoSource(code, { module: true });
    assert.ok(ok, JSON.stringify(problems, null, 1));
  });

  it("device client <-> Node server: handshake, messages both ways, keep-alive, disconnect", () => {
    const device = bootDevice({ name: "v2" });
    device.addModule("lwstcp-v2", code);
    // Node side.
    const serverSink = recorder();
    let now = 0;
    const server = new ConnectionV2(
      ROLE_SERVER,
      { preSharedKey: hex(v2Vectors.psk), primitives: nodePrimitives, random: cryptoRandom, clock: () => now },
      serverSink,
    );
    // Device side: sink writes become binary strings, as the transport sends them.
    device.run(`
      var V = require("lwstcp-v2");
      var out = [], events = [], got = [];
      var rnd = function (b, at, n) { for (var i = 0; i < n; i++) b[at + i] = (E.hwRand() >>> 3) & 255; };
      var psk = new Uint8Array(32); for (var i = 0; i < 32; i++) psk[i] = i;
      var conn = new V.ConnectionV2(V.ROLE_CLIENT, { preSharedKey: psk, primitives: V.createEspruinoPrimitives(),
        random: rnd, clock: function () { return 0; } }, {
        write: function (b, n) { out.push(E.toString(b.subarray(0, n))); },
        close: function () { events.push("close"); },
        handshakeSucceeded: function () { events.push("handshake-success"); },
        handshakeFailed: function (r) { events.push("handshake-failed:" + r); },
        message: function (b, at, n) { got.push(E.toString(b.subarray(at, at + n))); },
        ended: function (r) { events.push("ended:" + r); }
      });
      conn.start();
    `);
    const toDevice = (bytes: Uint8Array) => device.run(`conn.receive(${JSON.stringify(Buffer.from(bytes).toString("latin1"))})`);
    const fromDevice = () => device.run("JSON.stringify(out.splice(0, out.length))") as string;
    const pump = () => {
      for (let i = 0; i < 4; i++) {
        for (const c of serverSink.wire.splice(0)) toDevice(c);
        for (const s of JSON.parse(fromDevice()) as string[]) server.receive(Buffer.from(s, "latin1"));
      }
    };
    server.start();
    pump();
    assert.deepEqual(serverSink.events, ["handshake-success"]);
    assert.equal(device.run("events.join()"), "handshake-success");
    assert.equal(device.run("conn.sessionKey.join()"), Array.from(server.sessionKey).join(","));

    device.run(`conn.sendByteString("from the device \\xff\\x00"); conn.sendByteString(E.toString(new Uint8Array(300).fill(65)));`);
    server.sendByteString("from the desktop");
    pump();
    assert.deepEqual(
      serverSink.messages.map((m) => m.length),
      [18, 300],
    );
    assert.equal(device.run("got.join('|')"), "from the desktop");

    now += 6000; // keep-alive due on the server (default interval 5 s); the device's clock stays at 0
    server.tick();
    pump();
    assert.ok(device.run("conn.isOpen"));
    device.run("conn.disconnect()");
    pump();
    assert.deepEqual(serverSink.events, ["handshake-success", "ended:disconnect"]);
    assert.equal(device.run("events.join()"), "handshake-success,close,ended:local-disconnect");
    assertHealthy(device);
  });
});
