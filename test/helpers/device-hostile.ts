// The device server under hostile connections, shared by the test and `npm run stress`: a
// simulated ESP32 running the library's LightweightSecureServer (session limit 4) as an echo
// server, flooded with connections that send nothing or a 64 KB message header before the
// key, then an honest desktop LightweightSecureClient over 127.0.0.1.
import { connect, createServer } from "node:net";
import type { Device } from "../../host-sim/device.js";
import { bootFirmware, DEFAULT_LIBRARY_PATH, DEFAULT_V2_LIBRARY_PATH } from "../../host-sim/runner.js";
import { LightweightSecureClient } from "../../server/index.js";

export interface HostileOptions {
  profile: "v1" | "v2";
  keyHex: string;
  /** The device server's silent timeout (ms); undefined keeps the library default. */
  silentTimeoutMs?: number;
}

/** The device program: serve(port) runs an echo server and prints every outcome. */
function program(options: HostileOptions): string {
  return `
var lw = require("lwstcp");
lw.setHandshakeKey("${options.keyHex}");
${options.profile === "v2" ? 'lw.setProfile("v2");' : ""}
function serve(port) {
  var s = new lw.LightweightSecureServer(port);
  ${options.silentTimeoutMs ? `s.setSilentTimeout(${options.silentTimeoutMs});` : ""}
  s.setOnHandshakeFailed(function (r) { print("S failed " + r.reason); });
  s.setOnError(function (text) { if (text.indexOf("refused") !== 0) print("S error " + text); });
  s.setOnHandshakeSuccess(function (r, session) {
    print("S open");
    session.setOnMessageReceived(function (t) { session.sendMessage(t); });
  });
  s.start();
}
`;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export async function bootHostileTarget(options: HostileOptions): Promise<{ device: Device; port: number }> {
  const device = await bootFirmware({
    name: "hostile-" + options.profile,
    app: { source: program(options), filename: "hostile-app.js" },
    library: { path: DEFAULT_LIBRARY_PATH },
    v2Library: options.profile === "v2" ? { path: DEFAULT_V2_LIBRARY_PATH } : null,
    wifi: { connectedAtBoot: true },
  });
  const port = await freePort();
  device.run(`serve(${port})`);
  return { device, port };
}

export interface HostileResult {
  connections: number;
  /** Connections the device closed (refused at its limit, failed at the first byte, or dropped as silent). */
  closedByDevice: number;
  ms: number;
}

/**
 * `count` connections, `concurrency` at a time, alternately silent and sending `header` plus
 * `bodyBytes`; each waits for the device to close it (at most `patienceMs`, then hangs up).
 */
export async function hostileFlood(
  port: number,
  count: number,
  header: number[],
  bodyBytes = 4096,
  concurrency = 8,
  patienceMs = 10000,
): Promise<HostileResult> {
  const payload = Buffer.alloc(header.length + bodyBytes, 0x5a);
  payload.set(header);
  const started = Date.now();
  let closedByDevice = 0;
  let next = 0;
  const one = (silent: boolean) =>
    new Promise<void>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port });
      const timer = setTimeout(() => {
        socket.removeAllListeners("close");
        socket.destroy();
        resolve();
      }, patienceMs);
      socket.resume(); // reading is how a hang-up from the device is noticed
      socket.on("error", () => {});
      socket.on("close", () => {
        clearTimeout(timer);
        closedByDevice++;
        resolve();
      });
      if (!silent) socket.on("connect", () => socket.write(payload));
    });
  const worker = async () => {
    while (next < count) await one(next++ % 2 === 0);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { connections: count, closedByDevice, ms: Date.now() - started };
}

/** An honest desktop client: handshake, one echoed message, disconnect. Resolves to the echo or a failure text. */
export async function honestEcho(port: number, options: HostileOptions, text = "still served"): Promise<string> {
  const client = new LightweightSecureClient("127.0.0.1", port, { key: options.keyHex, profile: options.profile, handshakeTimeoutMs: 8000 });
  try {
    const result = await client.connectToServer();
    if (!result.success) return "handshake failed: " + result.reason;
    const echo = new Promise<string>((resolve) => client.once("message", (message: string) => resolve(message)));
    client.sendMessage(Buffer.from(text));
    const timeout = new Promise<string>((resolve) => setTimeout(() => resolve("no echo within 8 s"), 8000).unref());
    return await Promise.race([echo, timeout]);
  } finally {
    await client.disconnect();
  }
}
