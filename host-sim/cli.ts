#!/usr/bin/env node
// lwstcp-sim (npm run sim): boots simulated ESP32s running an app bundle, as `npm run flash`
// would set a board up (the library as the Storage file "lwstcp", the settings as
// "lwstcp-config.json"), prints each console line with a [devN] prefix, and ends with a summary
// counted from the library's own events (host-sim/library-events.ts), so it is right for any app.
// With no flags it pairs with `npm start`: one FizzBuzz client against 127.0.0.1:12345 with the
// public demo key. It runs until Ctrl-C unless --count or --duration ends it.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { DEMO_KEY_WORDS, keyToHex, parseKey } from "../firmware/core/index.js";
import { deviceIdProblem } from "../firmware/core/v2/constants.js";
import {
  choiceFlag,
  DEMO_KEY_WARNING,
  DEVICE_ID_FLAG_SPEC,
  deviceIdFlag,
  type Flags,
  intFlag,
  isDemoKey,
  KEY_FLAG_SPECS,
  keyFromFlags,
  numberFlag,
  portFlag,
  runTool,
  type ToolSpec,
  UsageError,
} from "../server/cli/args.js";
import type { Device } from "./device.js";
import { DEVICE_SPEED_NAMES } from "./device-speed.js";
import { ensureFreshBundles, PACKAGE_ROOT } from "./fresh-bundles.js";
import { type AppConfig, bootFirmware, DEFAULT_APP_PATH, DEFAULT_LIBRARY_PATH, type FirmwareConfig, profileModule } from "./runner.js";
import { deviceSummary, runProblems, totalSummary } from "./summary.js";

const PROGRAM = "lwstcp-sim";
const DEFAULT_PORT = 12345;
const ROLES = ["client", "server"] as const;
const PROFILES = ["v1", "v2"] as const;
/** The demo key's words as the C++ example writes them (public: printing them gives nothing away). */
const DEMO_KEY_WORDS_TEXT = DEMO_KEY_WORDS.map((word) => "0x" + word.toString(16).toUpperCase().padStart(8, "0")).join(",");
/** How often the run checks whether every device has finished, and how many checks in a row it must hold. */
const POLL_MS = 100;
const SETTLED_POLLS = 3;

export const SIM_SPEC: ToolSpec = {
  program: PROGRAM,
  summary:
    "Boots simulated ESP32s (Espruino 2v29) running an app bundle against a LightweightSecureTCP peer, prints their consoles, and ends with a summary of the library's events. Exit 0 only when every device completed a handshake and none had an uncaught error, a throwing callback or ran out of memory.",
  usage:
    "[--host H] [--port P] [key flags] [--role client|server] [--profile v1|v2] [--rounds R] [--device-speed instant|esp32] [--devices N] [--count N] [--duration S] [--app FILE] [--library FILE]",
  flags: [
    { name: "host", value: "HOST", help: "the server the devices connect to (role client)", default: "127.0.0.1" },
    { name: "port", value: "PORT", help: "its port; with --role server the port the device listens on (0: any free port)", default: DEFAULT_PORT },
    // With no key flag and no LWSTCP_KEY: the demo key, so that a bare run pairs with `npm start`.
    ...KEY_FLAG_SPECS.map((spec, i) => (i === 0 ? { ...spec, default: "the public demo key, as npm start uses" } : spec)),
    {
      name: "role",
      value: "client|server",
      help: "the demo app's role: client plays FizzBuzz against the server; server echoes what a desktop client sends",
      default: "client",
    },
    { name: "profile", value: "v1|v2", help: "v1: the C++ library's wire format; v2: authenticated; must match the peer", default: "v1" },
    { ...DEVICE_ID_FLAG_SPEC, help: DEVICE_ID_FLAG_SPEC.help + "; with --devices N they are ID-1 … ID-N" },
    { name: "rounds", value: "R", help: "XTEA rounds, 1..128; must match the peer (profile v1 only)", default: 32 },
    { name: "devices", value: "N", help: "how many devices to boot (role client)", default: 1 },
    { name: "count", value: "N", help: "the demo client stops after N correct replies; the run ends when every device has finished" },
    { name: "duration", value: "S", help: "end the run after S seconds (default: run until Ctrl-C)" },
    { name: "app", value: "FILE", help: "the app bundle each device runs (uploaded as the program)", default: DEFAULT_APP_PATH },
    { name: "library", value: "FILE", help: "the library bundle, stored as the Storage file lwstcp", default: DEFAULT_LIBRARY_PATH },
    {
      name: "device-speed",
      value: "instant|esp32",
      help: "esp32: ciphering and the library's path take the time an ESP32 flashed for the profile would need (a projection), and the device's timers wait while it works",
      default: "instant",
    },
    {
      name: "config",
      value: "FILE",
      help: "your app's settings (JSON), stored as the Storage file lwstcp-config.json instead of the demo's; its ssid/password are the simulated Wi-Fi's",
    },
  ],
  examples: [
    "npm run sim                     # next to `npm start`: one device plays FizzBuzz with the demo key",
    "npm run sim -- --devices 5 --count 10 --key-file my.key --host 127.0.0.1 --port 12345",
    "npm run sim -- --role server --port 0   # then run the lwstcp-client line it prints",
    "lwstcp-sim --app dist/app.js --config config.json --duration 30   # your own app and its settings",
  ],
};

/** A path given on the command line is the user's (relative to the working directory); a default is the package's own. */
function bundlePath(flags: Flags, name: string, fallback: string): string {
  const given = flags.get(name);
  return given === undefined ? resolve(PACKAGE_ROOT, fallback) : resolve(given);
}

function out(line: string): void {
  process.stdout.write(line + "\n");
}

function note(line: string): void {
  process.stderr.write(`${PROGRAM}: ${line}\n`);
}

/** Waits until the device's app listens on `port` (0: any), and returns the real port; undefined if it stopped first. */
async function listeningPort(device: Device, port: number, until: Promise<void>): Promise<number | undefined> {
  let ended = false;
  void until.then(() => (ended = true));
  while (!ended && !device.stopped) {
    try {
      return await device.net.whenListening(port);
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return undefined;
}

async function main(flags: Flags): Promise<number> {
  const role = choiceFlag(flags, "role", ROLES, "client");
  const profile = choiceFlag(flags, "profile", PROFILES, "v1");
  const speed = choiceFlag(flags, "device-speed", DEVICE_SPEED_NAMES, "instant");
  const deviceId = deviceIdFlag(flags, profile);
  const host = flags.get("host") ?? "127.0.0.1";
  if (host === "") throw new UsageError("--host needs a value");
  const port = portFlag(flags, "port", { allowZero: role === "server", fallback: DEFAULT_PORT }) as number;
  const rounds = intFlag(flags, "rounds", 1, 128);
  const deviceCount = intFlag(flags, "devices", 1, 10000) ?? 1;
  const count = intFlag(flags, "count", 1, 1_000_000_000);
  const duration = numberFlag(flags, "duration", 0.001, 31 * 24 * 3600);
  if (role === "server" && deviceCount > 1) throw new UsageError("--role server listens on --port: run one device");
  if (deviceId !== undefined && role === "server") throw new UsageError("--device-id is for --role client: a device names itself to the server it connects to");
  if (deviceId !== undefined && flags.has("config")) throw new UsageError('--device-id with --config: put "deviceId" in your settings instead');
  if (deviceId !== undefined && deviceCount > 1) {
    const problem = deviceIdProblem(deviceId + "-" + deviceCount);
    if (problem) throw new UsageError("--device-id with --devices " + deviceCount + ": " + problem + " (the ids are ID-1 … ID-N)");
  }
  const usesKey = ["key", "key-words", "key-file"].some((name) => flags.has(name)) || !!process.env.LWSTCP_KEY;
  const key = usesKey ? keyFromFlags(flags, process.env) : parseKey(DEMO_KEY_WORDS);
  const demoKey = isDemoKey(key);
  // With --config the key is the config's, not the flags'.
  if (demoKey && !flags.has("config")) process.stderr.write(DEMO_KEY_WARNING + "\n");

  const app = bundlePath(flags, "app", DEFAULT_APP_PATH);
  const library = bundlePath(flags, "library", DEFAULT_LIBRARY_PATH);

  const configFile = flags.get("config");
  let userConfig: AppConfig | undefined;
  if (configFile !== undefined) {
    if (!existsSync(configFile)) throw new UsageError(configFile + " not found");
    try {
      userConfig = JSON.parse(readFileSync(configFile, "utf8"));
    } catch (error) {
      throw new UsageError(configFile + " is not valid JSON: " + (error as Error).message);
    }
    if (!userConfig || typeof userConfig !== "object" || Array.isArray(userConfig)) throw new UsageError(configFile + " must hold a JSON object");
  }
  // The board is set up for the profile its settings name, as npm run flash does: with --config
  // that is the file's, else --profile's (bootFirmware reads it from the settings).
  const boardProfile = userConfig ? (userConfig.profile === "v2" ? "v2" : "v1") : profile;
  ensureFreshBundles([app, library, profileModule(userConfig ?? { profile }).path], note);
  const demoConfig: FirmwareConfig = {
    ssid: "lwstcp-sim",
    password: "lwstcp-sim-password",
    host,
    port,
    key: keyToHex(key),
    role,
    ...(profile === "v2" ? { profile } : {}),
    ...(rounds !== undefined ? { rounds } : {}),
    ...(count !== undefined ? { count } : {}),
  };
  const config: FirmwareConfig | AppConfig = userConfig ?? demoConfig;
  /** Each device's settings: with --device-id, its own id. */
  const configFor = (i: number): FirmwareConfig | AppConfig =>
    deviceId === undefined ? config : { ...demoConfig, deviceId: deviceCount === 1 ? deviceId : deviceId + "-" + i };
  const target = userConfig ? `${String(userConfig.host ?? host)}:${String(userConfig.port ?? port)}` : `${host}:${port}`;
  const what = role === "client" ? `connecting to ${target}` : `listening on 127.0.0.1:${port || "(any free port)"}`;
  note(
    `${deviceCount} device${deviceCount === 1 ? "" : "s"} (${role}, profile ${boardProfile}${boardProfile === "v1" ? `, ${rounds ?? 32} rounds` : ""}${speed === "instant" ? "" : `, ${speed} speed`}) ${what}; ` +
      `app ${flags.get("app") ?? DEFAULT_APP_PATH}; ${duration ? `ends after ${duration} s or on Ctrl-C` : count ? "ends when every device is done, or on Ctrl-C" : "Ctrl-C ends the run"}`,
  );

  const devices: Device[] = [];
  for (let i = 1; i <= deviceCount; i++) {
    const name = `dev${i}`;
    try {
      devices.push(
        await bootFirmware({
          name,
          prefix: true,
          console: out,
          app: { path: app },
          library: { path: library },
          config: configFor(i),
          deviceSpeed: speed,
        }),
      );
    } catch (error) {
      for (const device of devices) device.stop();
      throw new Error(`[${name}] ${(error as Error).message.split("\n")[0]}`);
    }
  }

  let end!: () => void;
  const ended = new Promise<void>((resolveEnd) => (end = resolveEnd));
  let settledPolls = 0;
  const poll = setInterval(() => {
    if (devices.every((d) => d.stopped)) return end();
    settledPolls = devices.every((d) => d.stopped || d.library.settled()) ? settledPolls + 1 : 0;
    if (settledPolls >= SETTLED_POLLS) end();
  }, POLL_MS);
  const deadline = duration ? setTimeout(end, duration * 1000) : undefined;
  process.once("SIGINT", end);
  process.once("SIGTERM", end);

  if (role === "server") {
    void listeningPort(devices[0], port, ended).then((real) => {
      if (real === undefined) return;
      const keyFlag = demoKey ? `--key-words ${DEMO_KEY_WORDS_TEXT}` : "(your key: --key, --key-words, --key-file or LWSTCP_KEY)";
      const extra = (profile === "v2" ? " --profile v2" : "") + (rounds !== undefined && profile === "v1" ? ` --rounds ${rounds}` : "");
      out(`[${devices[0].name}] reachable from this computer at 127.0.0.1:${real}`);
      out(`[${devices[0].name}] try: lwstcp-client --host 127.0.0.1 --port ${real} --mode echo --sizes 1,100,1000${extra} ${keyFlag}`);
    });
  }

  await ended;
  clearInterval(poll);
  if (deadline) clearTimeout(deadline);
  process.removeListener("SIGINT", end);
  process.removeListener("SIGTERM", end);

  for (const device of devices) out(`[${device.name}] summary: ${deviceSummary(device)}`);
  out(`summary: ${totalSummary(devices)}`);
  const problems = runProblems(devices, target);
  out(problems.length ? `result: FAILED: ${problems.join("; ")}` : "result: ok");
  for (const device of devices) device.stop();
  return problems.length ? 1 : 0;
}

runTool(SIM_SPEC, main);
