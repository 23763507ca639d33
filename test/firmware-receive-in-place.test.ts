// The device library opens a message that arrives alone in its chunk where it lies, without
// the framer (firmware/core/connection.ts, openInPlace), and frames everything else. Whatever
// way TCP cuts the stream, a simulated board running the built bundle gets every message
// byte-exact: alone in a chunk, several in one chunk, one byte at a time, longer than a chunk.
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type SimulatedDevice, startDevice } from "lwstcp/sim";
import type { LightweightSecureServer, Session } from "../server/index.js";
import { type ProxyMode, TcpProxy } from "./helpers/reliability.js";
import { testBytes } from "./helpers/seed.js";
import { KEY_HEX, startServer, until } from "./helpers/server.js";

const DIR = join("build", "test", "firmware-receive-in-place");
/** Echoes every message back, as bytes. */
const APP = `var cfg = require("Storage").readJSON("lwstcp-config.json", true);
var lw = require("lwstcp");
lw.setHandshakeKey(cfg.key);
require("Wifi").connect(cfg.ssid, { password: cfg.password }, function () {
  var client = new lw.LightweightSecureClient(cfg.host, cfg.port);
  client.setOnMessageReceived(function (text) { client.sendMessage(text); });
  client.connectToServer();
});
`;
/** 1 to 9 bytes (one chunk each), a 300-byte one, and two longer than a 536-byte chunk. */
const SIZES = [1, 7, 8, 9, 16, 300, 600, 4096];

describe("device library: messages opened in their chunk or framed, however TCP cuts them", function () {
  this.timeout(60000);
  let device: SimulatedDevice | undefined;
  let server: LightweightSecureServer | undefined;
  let proxy: TcpProxy | undefined;
  before(() => {
    mkdirSync(DIR, { recursive: true });
    writeFileSync(join(DIR, "app.js"), APP);
  });
  afterEach(async () => {
    device?.stop();
    await proxy?.close();
    await server?.stop();
    device = server = proxy = undefined;
  });
  after(() => rmSync(DIR, { recursive: true, force: true }));

  for (const mode of ["pass", "batch", "bytes"] as ProxyMode[]) {
    it(`${mode}: every echo of ${SIZES.join(", ")} bytes comes back byte-exact`, async () => {
      const echoes: Buffer[] = [];
      let session: Session | undefined;
      server = await startServer();
      server.on("session", (s: Session) => {
        session = s;
        s.on("message", (_t: string, bytes: Buffer) => echoes.push(bytes));
      });
      proxy = await new TcpProxy(server.port, mode).start();
      device = await startDevice({
        app: join(DIR, "app.js"),
        config: { ssid: "lab", password: "pw", host: "127.0.0.1", port: proxy.port, key: KEY_HEX },
      });
      await until(() => session !== undefined, { timeoutMs: 15000, what: "the device's session" });
      const payloads = SIZES.map((n) => testBytes(n));
      for (const p of payloads) session?.sendMessage(p);
      await until(() => echoes.length === payloads.length, { timeoutMs: 30000, what: () => `${echoes.length} of ${payloads.length} echoes` });
      assert.deepEqual(echoes, payloads);
      assert.deepEqual(device.device.uncaught, []);
    });
  }
});
