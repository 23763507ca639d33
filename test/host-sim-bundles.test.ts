// The simulator running the real firmware bundles (dist/lwstcp.js as the Storage file "lwstcp",
// dist/app-esp32.js uploaded) against the real desktop server in a child process. Skipped when the
// bundles have not been built (npm run build makes them).
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { Device } from "../host-sim/device.js";
import { bootFirmware, DEFAULT_APP_PATH, DEFAULT_LIBRARY_PATH } from "../host-sim/runner.js";

const KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const SERVER_CLI = "build/server/cli/lwstcp-server.js";

/** Starts the desktop server on a free port; resolves once its "started … port=N" line appears. */
function startServer(key: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [SERVER_CLI, "--port", "0", "--host", "127.0.0.1", "--key", key], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`server did not start:\n${seen}`));
    }, 5000);
    child.stdout!.on("data", (b: Buffer) => {
      seen += b.toString();
      const match = /started .*port=(\d+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]) });
      }
    });
    child.on("exit", () => {
      clearTimeout(timer);
      reject(new Error(`server exited:\n${seen}`));
    });
  });
}

describe("host-sim runs the built firmware bundles against the desktop server", function () {
  this.timeout(15000);
  const devices: Device[] = [];
  let server: ChildProcess | undefined;
  before(function () {
    if (!existsSync(DEFAULT_LIBRARY_PATH) || !existsSync(DEFAULT_APP_PATH) || !existsSync(SERVER_CLI)) this.skip();
  });
  afterEach(() => {
    for (const d of devices.splice(0)) d.stop();
    server?.kill();
    server = undefined;
  });

  async function bootClient(port: number, key: string): Promise<Device> {
    const device = await bootFirmware({
      name: "dev1",
      app: { path: DEFAULT_APP_PATH },
      library: { path: DEFAULT_LIBRARY_PATH },
      config: { ssid: "lab", password: "secret", host: "127.0.0.1", port, key, role: "client", count: 3 },
    });
    devices.push(device);
    return device;
  }

  it("the bundles pass the static check, boot, join Wi-Fi and complete a handshake, with no uncaught error", async () => {
    const started = await startServer(KEY);
    server = started.child;
    const device = await bootClient(started.port, KEY);
    await device.waitForConsole("handshake succeeded", 8000);
    assert.deepEqual(device.uncaught, []);
    assert.equal(device.failure, undefined);
    assert.ok(device.peakJsVars > 0 && device.peakJsVars < 16383);
  });

  it("a wrong key makes the device report a failed handshake", async () => {
    const started = await startServer(KEY);
    server = started.child;
    const device = await bootClient(started.port, "ff".repeat(32));
    await device.waitForConsole("handshake failed", 8000);
    assert.deepEqual(device.uncaught, []);
  });
});
