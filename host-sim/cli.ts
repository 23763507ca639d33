// npm run sim -- --host 127.0.0.1 --port 12345 [--key HEX64] [--app fizzbuzz|echo-server] [--devices N]
//                [--bundle dist/app-esp32.js] [--library dist/lwstcp.js] [--count N] [--rounds N] [--duration S]
// Boots N simulated ESP32s running the app bundle (library from the Storage file "lwstcp", settings
// from "lwstcp-config.json"), prints each console line with a [devN] prefix, and ends with a summary.
import { parseArgs } from "node:util";
import type { Device } from "./device.js";
import { bootFirmware, DEFAULT_APP_PATH, DEFAULT_LIBRARY_PATH, type FirmwareConfig } from "./runner.js";

/** A key for local simulation only, used when --key is not given (it is printed so nobody mistakes it). */
const SIMULATION_KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

// What the demo app prints (firmware/apps/demo.ts), counted for the summary. Messages: every line
// sent or received ("sending 1" opens each FizzBuzz session). Reconnects: for a client, sessions
// opened again after a lost one (handshakes after the first); for an echo server, Wi-Fi re-joins.
// A FizzBuzz client's final "disconnected: local-disconnect" is not a reconnect.
const SUMMARY_PATTERNS = {
  handshakes: /handshake succeeded|session opened/,
  clientHandshakes: /handshake succeeded/,
  failedHandshakes: /handshake failed/,
  messages: /^lwstcp: (<-|->) |^lwstcp: handshake succeeded; sending /,
  wifiUp: /^lwstcp: Wi-Fi: up/,
  done: /FizzBuzz done/,
};

function reconnects(device: Device, role: FirmwareConfig["role"]): number {
  const opened = countLines(device, role === "client" ? SUMMARY_PATTERNS.clientHandshakes : SUMMARY_PATTERNS.wifiUp);
  return Math.max(0, opened - 1);
}

const USAGE = `usage: npm run sim -- --host HOST --port PORT [--key HEX64] [--app fizzbuzz|echo-server] [--devices N]
       [--bundle ${DEFAULT_APP_PATH}] [--library ${DEFAULT_LIBRARY_PATH}] [--count N] [--rounds N] [--duration SECONDS]`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function countLines(device: Device, pattern: RegExp): number {
  return device.consoleLines.filter((line) => pattern.test(line)).length;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string" },
      key: { type: "string" },
      app: { type: "string", default: "fizzbuzz" },
      devices: { type: "string", default: "1" },
      bundle: { type: "string", default: DEFAULT_APP_PATH },
      library: { type: "string", default: DEFAULT_LIBRARY_PATH },
      count: { type: "string" },
      rounds: { type: "string" },
      duration: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) fail("--port is required (1..65535)");
  if (values.app !== "fizzbuzz" && values.app !== "echo-server") fail(`--app must be fizzbuzz or echo-server, not ${values.app}`);
  const deviceCount = Number(values.devices);
  if (!Number.isInteger(deviceCount) || deviceCount < 1) fail("--devices must be a positive integer");
  if (values.app === "echo-server" && deviceCount > 1) fail("--app echo-server listens on --port: run one device");
  const key = values.key ?? SIMULATION_KEY;
  if (!/^[0-9a-fA-F]{64}$/.test(key)) fail("--key must be 64 hex digits");
  if (!values.key) process.stdout.write(`host-sim: no --key given, using the simulation-only key ${SIMULATION_KEY}\n`);

  const config: FirmwareConfig = {
    ssid: "lwstcp-sim",
    password: "lwstcp-sim-password",
    host: values.host,
    port,
    key,
    role: values.app === "echo-server" ? "server" : "client",
    ...(values.count ? { count: Number(values.count) } : {}),
    ...(values.rounds ? { rounds: Number(values.rounds) } : {}),
  };

  const devices: Device[] = [];
  for (let i = 1; i <= deviceCount; i++) {
    const name = `dev${i}`;
    try {
      devices.push(
        await bootFirmware({
          name,
          prefix: true,
          console: (line) => process.stdout.write(line + "\n"),
          app: { path: values.bundle! },
          library: { path: values.library! },
          config,
        }),
      );
    } catch (error) {
      for (const device of devices) device.stop();
      fail(`[${name}] ${(error as Error).message}`);
    }
  }

  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    clearInterval(poll);
    if (deadline) clearTimeout(deadline);
    let problems = 0;
    for (const device of devices) {
      const failure = device.failure ? `, FAILED ${device.failure.kind}: ${device.failure.message}` : "";
      problems += device.uncaught.length + (device.failure ? 1 : 0);
      process.stdout.write(
        `[${device.name}] summary: handshakes ${countLines(device, SUMMARY_PATTERNS.handshakes)}` +
          `, failed handshakes ${countLines(device, SUMMARY_PATTERNS.failedHandshakes)}` +
          `, messages ${countLines(device, SUMMARY_PATTERNS.messages)}` +
          `, reconnects ${reconnects(device, config.role)}` +
          `, uncaught errors ${device.uncaught.length}, peak JsVars ${device.peakJsVars}/${device.memory().total}${failure}\n`,
      );
      device.stop();
    }
    const sum = (pattern: RegExp) => devices.reduce((n, d) => n + countLines(d, pattern), 0);
    process.stdout.write(
      `summary: ${devices.length} device(s), handshakes ${sum(SUMMARY_PATTERNS.handshakes)}, ` +
        `messages ${sum(SUMMARY_PATTERNS.messages)}, reconnects ${devices.reduce((n, d) => n + reconnects(d, config.role), 0)}, ` +
        `peak JsVars ${Math.max(...devices.map((d) => d.peakJsVars))}, problems ${problems}\n`,
    );
    process.exitCode = problems > 0 ? 1 : 0;
  };

  // Ends when every device finished its rounds or stopped, after --duration, or on Ctrl-C.
  const poll = setInterval(() => {
    if (devices.every((d) => d.stopped || countLines(d, SUMMARY_PATTERNS.done) > 0)) finish();
  }, 100);
  const deadline = values.duration ? setTimeout(finish, Number(values.duration) * 1000) : undefined;
  process.once("SIGINT", finish);
}

main().catch((error: unknown) => fail((error as Error).stack ?? String(error)));
