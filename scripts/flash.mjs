#!/usr/bin/env node
// npm run flash -- --port /dev/ttyUSB0 [--save] [--baud 115200] [--board ESP32] [--config FILE] [--no-build]
// npm run flash -- --out upload.js [...]      (dry run: write the exact upload text, touch no board)
// lwstcp-flash --app dist/app.js [--config settings.json] (--port DEVICE | --out FILE) [--save]
//   (your own app, built with lwstcp-firmware build; the demo is the default)
//
// Checks the settings (boards/config.json) first, then builds the bundles (unless --no-build),
// then drives espruino-tools (node_modules/espruino) with the project's offline board file. The
// library goes up as the Storage file "lwstcp", the settings (without their "_" note fields) as
// the Storage file "lwstcp-config.json", and the board's app as the program; with --save the
// app is stored as .bootcde instead, so it runs at every boot, and the board reboots into it.
// Beside it goes the profile's module: for v1 (the default) "lwstcp-xtea", the 32-round cipher
// written out, which the library uses when present; for "profile": "v2" the v2 engine,
// "lwstcp-v2" (a separate module so that v1 boards never carry it; setProfile("v2") loads it).
//
// The upload holds only our code. espruino-tools answers every require() of a module it does
// not know as built in by looking the name up online (www.espruino.com/modules, with TLS
// checks off) and prepending what it finds as Modules.addCached(...), which would shadow our
// Storage file. So the tool gets a copy of the board file that lists our Storage modules
// among the device's own (it never looks them up), MODULE_URL empty (no online lookup for
// anything), and the app is checked beforehand to require nothing else.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseKey } from "../build/firmware/core/index.js";
import { deviceIdProblem } from "../build/firmware/core/v2/constants.js";
import { DEMO_KEY_WARNING, intFlag, isDemoKey, parseTool, runTool, UsageError } from "../build/server/cli/args.js";
import { ROOT, readBoards } from "./boards.mjs";

let PROGRAM = "npm run flash";
const DEFAULT_CONFIG = join("boards", "config.json");

export const FLASH_SPEC = {
  program: PROGRAM,
  summary: "Checks the settings, builds, and uploads the lwstcp library, the settings and the app (the board's demo, or yours with --app) — only that code.",
  usage: "-- (--port DEVICE | --out FILE) [--app FILE] [--save] [--baud N] [--board NAME] [--config FILE] [--no-build]",
  flags: [
    { name: "port", value: "DEVICE", help: "serial device of the board, e.g. /dev/ttyUSB0 (or COM3); one of --port or --out is required" },
    { name: "out", value: "FILE", help: "dry run: write the exact upload text to FILE and touch no board" },
    { name: "save", help: "store the app as .bootcde so it runs at every boot, and reboot into it (default: run it once, from RAM)" },
    { name: "baud", value: "N", help: "serial speed", default: 115200 },
    { name: "board", value: "NAME", help: "board description in boards/ (" + safeBoardNames() + ")", default: "ESP32" },
    { name: "config", value: "FILE", help: "the settings uploaded as lwstcp-config.json (start from boards/config.example.json)", default: DEFAULT_CONFIG },
    { name: "no-build", help: "upload dist/ as it is, without running the firmware build first" },
    {
      name: "app",
      value: "FILE",
      help: "your app bundle (lwstcp-firmware build) instead of the demo; its settings (--config, optional) are any JSON object, and nothing is rebuilt",
    },
  ],
  examples: [
    "npm run flash -- --port /dev/ttyUSB0 --save",
    "npm run flash -- --out upload.js --config boards/config.json",
    "lwstcp-flash --app dist/app.js --config config.json --port /dev/ttyUSB0 --save",
  ],
};

function safeBoardNames() {
  try {
    return readBoards()
      .map((b) => b.board)
      .join(", ");
  } catch {
    return "ESP32";
  }
}

/** Our Storage modules: the device answers require() of these from Storage, never the tool. */
export const STORAGE_MODULES = ["lwstcp", "lwstcp-v2", "lwstcp-xtea"];

/** The Storage modules a profile uploads beside lwstcp: v1's written-out cipher, or the v2 engine (which ciphers with AES). */
function profileModules(/** @type {string} */ profile) {
  return profile === "v2" ? ["lwstcp-v2"] : ["lwstcp-xtea"];
}

/**
 * @typedef {{ port?: string, out?: string, save: boolean, baud: string, board: string, config?: string, build: boolean, app?: string }} FlashOptions
 *   app: the user's bundle (absolute); then config is theirs and optional, and nothing is built.
 * @param {string[]} argv
 * @returns {FlashOptions}
 */
export function parseFlashArgs(argv) {
  return flashOptions(parseTool(FLASH_SPEC, argv));
}

/**
 * @param {import("../build/server/cli/args.js").Flags} flags
 * @returns {FlashOptions}
 */
function flashOptions(flags) {
  const app = flags.get("app");
  if (app === "") throw new UsageError("--app needs a non-empty value");
  const options = {
    port: flags.get("port"),
    // espruino-tools runs in the package's directory: the upload goes where you are.
    out: flags.get("out") ? resolve(/** @type {string} */ (flags.get("out"))) : flags.get("out"),
    save: flags.has("save"),
    baud: String(intFlag(flags, "baud", 300, 5000000) ?? 115200),
    board: flags.get("board") ?? "ESP32",
    config: flags.get("config") ?? (app === undefined ? DEFAULT_CONFIG : undefined),
    build: !flags.has("no-build") && app === undefined,
    app: app === undefined ? undefined : resolve(app),
  };
  if (options.port === "" || options.out === "" || options.config === "") throw new UsageError("--port, --out and --config need a non-empty value");
  if (!options.port === !options.out) throw new UsageError("give exactly one of --port DEVICE or --out FILE");
  return options;
}

/** The fields the board demo (firmware/apps/demo.ts) reads. */
const KNOWN_FIELDS = ["ssid", "password", "host", "port", "key", "rounds", "profile", "deviceId", "role", "count", "keepAliveMs", "timeoutMs"];
/** Values copied from boards/config.example.json that cannot be anyone's network. */
const PLACEHOLDERS = { ssid: "your-wifi-name", password: "your-wifi-password" };

const isWhole = (v) => typeof v === "number" && Number.isInteger(v);
const shown = (v) => {
  const text = JSON.stringify(v);
  return text === undefined ? "nothing" : text.length > 72 ? text.slice(0, 72) + "…" : text;
};

/**
 * A settings file's text as an object, or the one problem that stops it being one.
 * @param {string} text
 * @returns {{ config: Record<string, any>, problem?: undefined } | { problem: string, config?: undefined }}
 */
function parseSettings(text) {
  let config;
  try {
    config = JSON.parse(text);
  } catch (e) {
    return { problem: "not valid JSON: " + String(/** @type {Error} */ (e).message).split("\n")[0] };
  }
  if (config === null || typeof config !== "object" || Array.isArray(config)) return { problem: "must be a JSON object { ... }, got " + shown(config) };
  return { config };
}

/**
 * The settings as uploaded: fields starting with "_" are notes for the person and stay behind.
 * @param {Record<string, unknown>} config
 */
function withoutNotes(config) {
  /** @type {Record<string, unknown>} */
  const upload = {};
  for (const [name, value] of Object.entries(config)) if (!name.startsWith("_")) upload[name] = value;
  return upload;
}

/**
 * Checks the settings text as the board demo will read it. Each problem and warning is one
 * line naming the field; `upload` is the object to upload (without "_" fields).
 * @param {string} text
 * @returns {{ problems: string[], warnings: string[], upload?: Record<string, unknown> }}
 */
export function checkConfig(text) {
  const parsed = parseSettings(text);
  if (parsed.problem) return { problems: [parsed.problem], warnings: [] };
  const config = parsed.config;
  const problems = [];
  const warnings = [];
  const role = config.role;
  if (role !== "client" && role !== "server") problems.push(`role must be "client" or "server", got ${shown(role)}`);
  if (typeof config.ssid !== "string" || config.ssid === "") problems.push(`ssid must be the name of your Wi-Fi network, got ${shown(config.ssid)}`);
  else if (config.ssid === PLACEHOLDERS.ssid) problems.push(`ssid is still the example's placeholder "${PLACEHOLDERS.ssid}": put your Wi-Fi network's name`);
  if (typeof config.password !== "string")
    problems.push(`password must be a string (the Wi-Fi password; "" for an open network), got ${shown(config.password)}`);
  else if (config.password === PLACEHOLDERS.password)
    problems.push(`password is still the example's placeholder "${PLACEHOLDERS.password}": put your Wi-Fi password`);
  if (role !== "server" && (typeof config.host !== "string" || config.host.trim() === ""))
    problems.push(`host must be the server's address (a string such as "192.168.1.10"), got ${shown(config.host)}`);
  if (!isWhole(config.port) || config.port < 1 || config.port > 65535) problems.push(`port must be a whole number from 1 to 65535, got ${shown(config.port)}`);
  const keyProblem = checkKey(config.key);
  if (keyProblem) problems.push(keyProblem);
  else if (isDemoKey(parseKey(config.key))) warnings.push("key is the public demo key:\n" + DEMO_KEY_WARNING);
  if (config.profile !== undefined && config.profile !== "v1" && config.profile !== "v2")
    problems.push(`profile must be "v1" or "v2", got ${shown(config.profile)}`);
  if (config.rounds !== undefined && (!isWhole(config.rounds) || config.rounds < 1 || config.rounds > 128))
    problems.push(`rounds must be a whole number from 1 to 128, got ${shown(config.rounds)}`);
  if (config.profile === "v2" && config.rounds !== undefined && config.rounds !== 32) warnings.push("rounds is ignored with profile v2");
  if (config.deviceId !== undefined) {
    const problem = deviceIdProblem(config.deviceId);
    if (problem) problems.push(`deviceId: ${problem}, got ${shown(config.deviceId)}`);
    else if (config.profile !== "v2") problems.push(`deviceId needs "profile": "v2" (the v1 wire format cannot carry a device id)`);
    else if (role === "server") warnings.push("deviceId is used only by role client");
  }
  if (config.count !== undefined && (!isWhole(config.count) || config.count < 0))
    problems.push(`count must be a whole number, 0 or more (0: never stop), got ${shown(config.count)}`);
  if (config.count !== undefined && role === "server") warnings.push("count is used only by role client");
  const { keepAliveMs, timeoutMs } = config;
  if (keepAliveMs !== undefined && (!isWhole(keepAliveMs) || keepAliveMs < 1))
    problems.push(`keepAliveMs must be a whole number of ms, 1 or more, got ${shown(keepAliveMs)}`);
  if (timeoutMs !== undefined && (!isWhole(timeoutMs) || (timeoutMs < 1 && timeoutMs !== -1)))
    problems.push(`timeoutMs must be a whole number of ms, 1 or more, or -1 (none), got ${shown(timeoutMs)}`);
  if (isWhole(keepAliveMs) && isWhole(timeoutMs) && timeoutMs !== -1 && keepAliveMs >= timeoutMs)
    problems.push(`keepAliveMs (${keepAliveMs}) must be shorter than timeoutMs (${timeoutMs})`);
  if (timeoutMs !== undefined && keepAliveMs === undefined) warnings.push("timeoutMs is used only together with keepAliveMs");
  const upload = withoutNotes(config);
  for (const name of Object.keys(upload))
    if (!KNOWN_FIELDS.includes(name))
      warnings.push(`unknown field "${name}" (the demo reads ${KNOWN_FIELDS.join(", ")}; fields starting with _ are notes and stay here)`);
  return { problems, warnings, upload };
}

/**
 * Checks the settings of the user's own app: any JSON object; "_" fields stay behind, and a key,
 * when there is one, must be one the device accepts.
 * @param {string} text
 * @returns {{ problems: string[], warnings: string[], upload?: Record<string, unknown> }}
 */
export function checkAppConfig(text) {
  const parsed = parseSettings(text);
  if (parsed.problem) return { problems: [parsed.problem], warnings: [] };
  const config = parsed.config;
  const problems = [];
  if (config.key !== undefined) {
    const bad = checkKey(config.key);
    if (bad) problems.push(bad);
  }
  return { problems, warnings: [], upload: withoutNotes(config) };
}

/** Why `key` is not a key the device accepts (64 hex digits, or an array of 8 u32 numbers), or null. */
function checkKey(key) {
  const shape = "key must be 64 hex digits or 8 u32 words (an array of numbers), got ";
  if (typeof key === "string") return /^[0-9a-f]{64}$/i.test(key.trim()) ? null : shape + shown(key);
  if (Array.isArray(key)) {
    if (key.length !== 8) return shape + key.length + " words";
    const bad = key.findIndex((w) => !isWhole(w) || w < 0 || w > 0xffffffff);
    return bad < 0 ? null : `key: word ${bad} (${shown(key[bad])}) is not a u32 number (write 0x12345678 as 305419896; JSON has no hex)`;
  }
  return shape + shown(key);
}

/** Every module name the code passes to require("…"). */
export function requiredModules(code) {
  const names = new Set();
  for (const m of code.matchAll(/\brequire\s*\(\s*(["'])([^"']+)\1\s*\)/g)) names.add(m[2]);
  return [...names];
}

/**
 * The files the upload is made of, written into `dir`: a copy of the board description that
 * lists our Storage modules among the device's own, and the settings without "_" fields.
 * @param {FlashOptions} options
 * @param {Record<string, unknown> | undefined} upload the settings to upload (none: no lwstcp-config.json)
 * @param {string} dir
 */
export function prepareUpload(options, upload, dir) {
  const board = readBoards().find((b) => b.board === options.board);
  if (!board)
    throw new UsageError(
      `--board: no board ${options.board} in boards/ (known: ${readBoards()
        .map((b) => b.board)
        .join(", ")})`,
    );
  const description = JSON.parse(readFileSync(board.file, "utf8"));
  description.info.builtin_modules = [...description.info.builtin_modules, ...STORAGE_MODULES];
  const boardFile = join(dir, board.board + ".json");
  writeFileSync(boardFile, JSON.stringify(description, null, 2) + "\n");
  const configFile = upload ? join(dir, "lwstcp-config.json") : undefined;
  if (configFile) writeFileSync(configFile, JSON.stringify(upload, null, 2) + "\n");
  const app = options.app ?? join("dist", board.app);
  const foreign = existsSync(resolve(ROOT, app))
    ? requiredModules(readFileSync(resolve(ROOT, app), "latin1")).filter((m) => !description.info.builtin_modules.includes(m))
    : [];
  return { boardFile, configFile, app, profile: upload && upload.profile === "v2" ? "v2" : "v1", foreign };
}

/**
 * The espruino-tools arguments (paths relative to the repository root or absolute).
 * @param {FlashOptions} options
 * @param {{ boardFile: string, configFile?: string, app: string, profile: string }} prepared
 */
export function espruinoArgs(options, prepared) {
  const args = ["--board", prepared.boardFile, "--config", "MODULE_URL=", "--storage", `lwstcp:${join("dist", "lwstcp.js")}`];
  if (prepared.configFile) args.push("--storage", `lwstcp-config.json:${prepared.configFile}`);
  for (const name of profileModules(prepared.profile)) args.push("--storage", `${name}:${join("dist", name + ".js")}`);
  if (options.save) args.push("--storage", `.bootcde:${prepared.app}`, "-e", "load()");
  else args.push(prepared.app);
  if (options.out) args.push("-n", "-o", options.out);
  else args.push("-p", /** @type {string} */ (options.port), "-b", options.baud);
  return args;
}

/**
 * What the upload does, in one line, before the tool runs.
 * @param {FlashOptions} options
 * @param {{ app: string, profile: string }} prepared
 */
export function describeUpload(options, prepared) {
  const size = (/** @type {string} */ file) => readFileSync(resolve(ROOT, file)).length + " bytes";
  const files = [`lwstcp (dist/lwstcp.js, ${size(join("dist", "lwstcp.js"))})`];
  for (const name of profileModules(prepared.profile)) files.push(`${name} (dist/${name}.js, ${size(join("dist", name + ".js"))})`);
  if (options.config) files.push(`lwstcp-config.json (${options.config} without its _ fields)`);
  const app = options.save ? `${prepared.app} as .bootcde (runs at every boot)` : `${prepared.app} as the program (runs until reset)`;
  const target = options.out ? `into ${options.out} (dry run, no board)` : `to ${options.port} at ${options.baud} baud`;
  return `${PROGRAM}: Storage files ${files.join(", ")}; app ${app}; ${target}`;
}

/** Serial devices that look like a USB board (Linux and macOS names). */
export function serialDevices() {
  try {
    return readdirSync("/dev")
      .filter((name) => /^(ttyUSB\d+|ttyACM\d+|cu\.(usbserial|usbmodem|SLAB_USBtoUART|wchusbserial).*)$/.test(name))
      .map((name) => "/dev/" + name)
      .sort();
  } catch {
    return [];
  }
}

/** @param {import("../build/server/cli/args.js").Flags} flags @returns {Promise<number>} exit code */
export async function main(flags) {
  const options = flashOptions(flags);
  if (options.app && !existsSync(options.app)) throw new UsageError(`${flags.get("app")} not found: build it with lwstcp-firmware build`);
  // The demo's settings live in the package (boards/); yours are where you say.
  const configPath = options.config === undefined ? undefined : options.app ? resolve(options.config) : resolve(ROOT, options.config);
  if (configPath && !existsSync(configPath))
    throw new UsageError(
      options.app
        ? `${options.config} not found`
        : `${options.config} not found: copy boards/config.example.json to boards/config.json and fill in your Wi-Fi and server`,
    );
  const checked = configPath
    ? (options.app ? checkAppConfig : checkConfig)(readFileSync(configPath, "utf8"))
    : { problems: [], warnings: [], upload: undefined };
  for (const warning of checked.warnings) console.error(`${PROGRAM}: warning: ${options.config}: ${warning}`);
  if (checked.problems.length) {
    for (const problem of checked.problems) console.error(`${PROGRAM}: ${options.config}: ${problem}`);
    return 2;
  }
  // Only a path can be checked here; espruino-tools also takes tcp:// addresses and BLE names.
  if (options.port?.startsWith("/dev/") && !existsSync(options.port)) {
    const found = serialDevices();
    throw new UsageError(
      `no serial device ${options.port}; connected boards: ${found.length ? found.join(", ") : "none found (is the board plugged in over USB?)"}`,
    );
  }
  const run = (/** @type {string} */ cmd, /** @type {string[]} */ args) => spawnSync(cmd, args, { cwd: ROOT, stdio: "inherit" }).status ?? 1;
  if (options.build && run(process.execPath, [join(ROOT, "node_modules", "rollup", "dist", "bin", "rollup"), "-c"]) !== 0) {
    console.error(`${PROGRAM}: the firmware build failed`);
    return 1;
  }
  const dir = mkdtempSync(join(tmpdir(), "lwstcp-flash-"));
  try {
    const prepared = prepareUpload(options, checked.upload, dir);
    for (const file of [prepared.app, join("dist", "lwstcp.js"), ...profileModules(prepared.profile).map((name) => join("dist", name + ".js"))]) {
      if (!existsSync(resolve(ROOT, file))) {
        console.error(`${PROGRAM}: ${file} is missing: run npm run build:firmware (or drop --no-build)`);
        return 1;
      }
    }
    if (prepared.foreign.length) {
      console.error(`${PROGRAM}: ${prepared.app} requires ${prepared.foreign.join(", ")}, neither built into ${options.board} nor one of our Storage modules`);
      return 1;
    }
    console.log(describeUpload(options, prepared));
    // Where npm put espruino-tools: beside this package when it is installed, inside it in a checkout.
    const cli = createRequire(import.meta.url).resolve("espruino/bin/espruino-cli.js");
    return run(process.execPath, [cli, ...espruinoArgs(options, prepared)]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the tool under its name: "npm run flash" here, "lwstcp-flash" as the package's bin (scripts/lwstcp-flash.mjs). */
export function runFlash(program = PROGRAM) {
  PROGRAM = program;
  runTool({ ...FLASH_SPEC, program, usage: program === "npm run flash" ? FLASH_SPEC.usage : FLASH_SPEC.usage.replace(/^-- /, "") }, main);
}

if (process.argv[1] && /(^|[\\/])flash\.mjs$/.test(process.argv[1])) runFlash();
