// Shared pieces of the host-sim fidelity tests: devices that are always stopped, free ports, and a
// Node TCP peer that records what it receives.
export { until } from "./until.js";

import { readFileSync } from "node:fs";
import net from "node:net";
import { createDevice, type Device, type DeviceOptions } from "../../host-sim/device.js";

const liveDevices = new Set<Device>();

/** A device that `stopAllDevices()` (called from afterEach) will stop. */
export function bootDevice(options: DeviceOptions = {}): Device {
  const device = createDevice({ wifi: { connectedAtBoot: true }, ...options });
  liveDevices.add(device);
  return device;
}

export function stopAllDevices(): void {
  for (const device of liveDevices) device.stop();
  liveDevices.clear();
}

/** Fails with the device's console when it recorded an uncaught error or stopped on its own. */
export function assertHealthy(device: Device): void {
  if (device.uncaught.length > 0 || device.failure) {
    throw new Error(
      `device ${device.name} misbehaved: ${device.uncaught.map((u) => u.printed).join("; ")} ` +
        `${device.failure ? `${device.failure.kind}: ${device.failure.message}` : ""}\nconsole:\n${device.consoleLines.join("\n")}`,
    );
  }
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A Node TCP server on 127.0.0.1 that records bytes and lets a test act on each connection. */
export interface Peer {
  port: number;
  connections: net.Socket[];
  received: Buffer[];
  ended: boolean[];
  /** Resolves with the nth connection (0-based) once it arrives. */
  connection(n?: number): Promise<net.Socket>;
  receivedBytes(n?: number): Buffer;
  close(): Promise<void>;
}

export async function startPeer(onConnection?: (socket: net.Socket, index: number) => void): Promise<Peer> {
  const connections: net.Socket[] = [];
  const received: Buffer[] = [];
  const ended: boolean[] = [];
  const waiters: Array<() => void> = [];
  const server = net.createServer((socket) => {
    const index = connections.length;
    connections.push(socket);
    received.push(Buffer.alloc(0));
    ended.push(false);
    socket.on("data", (b) => {
      received[index] = Buffer.concat([received[index], b]);
    });
    socket.on("end", () => {
      ended[index] = true;
    });
    socket.on("error", () => undefined);
    onConnection?.(socket, index);
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    received,
    ended,
    async connection(n = 0) {
      while (connections.length <= n) await new Promise<void>((resolve) => waiters.push(resolve));
      return connections[n];
    },
    receivedBytes: (n = 0) => received[n] ?? Buffer.alloc(0),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of connections) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * dist/lwstcp-xtea.js with a call counter on its cipher (`require("lwstcp-xtea").calls`): how a
 * test sees that the library ciphers through the Storage module rather than its own loop.
 */
export function countingXteaSource(): string {
  return (
    readFileSync("dist/lwstcp-xtea.js", "latin1") +
    "\nvar cipherUncounted = exports.cipher; exports.calls = 0;\n" +
    "exports.cipher = function (w, b, o, l, d) { exports.calls++; cipherUncounted(w, b, o, l, d); };\n"
  );
}
