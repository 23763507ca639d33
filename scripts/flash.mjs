// npm run flash -- --port /dev/ttyUSB0 [--save] [--baud 115200] [--board ESP32] [--config FILE] [--no-build]
// npm run flash -- --out upload.js [...]      (dry run: write the exact upload text, touch no board)
//
// Builds the bundles (unless --no-build), then drives espruino-tools (node_modules/espruino)
// with the project's offline board file. The library goes up as the Storage file "lwstcp"
// (the tool's local modules/ lookup is broken in 0.1.67, docs/ESPRUINO.md §11), the
// settings as the Storage file "lwstcp-config.json", and the board's app as the program; with
// --save the app is stored as .bootcde instead, so it runs at every boot, and the board reboots
// into it. When the settings ask for "profile": "v2", the v2 engine goes up too, as the Storage
// file "lwstcp-v2" (a separate module so that v1 boards never carry it; setProfile("v2") loads
// it). The tool prints "Module lwstcp not found" while it looks for the module online:
// harmless, `require("lwstcp")` is answered by the Storage file on the device.

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { ROOT, readBoards } from "./boards.mjs";

const USAGE = "usage: npm run flash -- (--port DEVICE | --out FILE) [--save] [--baud N] [--board NAME] [--config FILE] [--no-build]";

/**
 * @typedef {{ port?: string, out?: string, save: boolean, baud: string, board: string, config: string, build: boolean }} FlashOptions
 * @param {string[]} argv
 * @returns {FlashOptions}
 */
export function parseFlashArgs(argv) {
  /** @type {FlashOptions} */
  const options = { save: false, baud: "115200", board: "ESP32", config: join("boards", "config.json"), build: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === "--port") options.port = value();
    else if (arg === "--out") options.out = value();
    else if (arg === "--baud") options.baud = value();
    else if (arg === "--board") options.board = value();
    else if (arg === "--config") options.config = value();
    else if (arg === "--save") options.save = true;
    else if (arg === "--no-build") options.build = false;
    else throw new Error(`unknown argument ${arg}`);
  }
  if (!options.port === !options.out) throw new Error("give exactly one of --port DEVICE or --out FILE");
  return options;
}

/**
 * The espruino-tools arguments for these options (paths relative to the repository root).
 * @param {FlashOptions} options
 */
export function espruinoArgs(options) {
  const board = readBoards().find((b) => b.board === options.board);
  if (!board)
    throw new Error(
      `no board ${options.board} in boards/ (known: ${readBoards()
        .map((b) => b.board)
        .join(", ")})`,
    );
  const app = join("dist", board.app);
  const args = ["--board", relative(ROOT, board.file), "--storage", `lwstcp:${join("dist", "lwstcp.js")}`, "--storage", `lwstcp-config.json:${options.config}`];
  if (configProfile(options.config) === "v2") args.push("--storage", `lwstcp-v2:${join("dist", "lwstcp-v2.js")}`);
  if (options.save) args.push("--storage", `.bootcde:${app}`, "-e", "load()");
  else args.push(app);
  if (options.out) args.push("-n", "-o", options.out);
  else args.push("-p", /** @type {string} */ (options.port), "-b", options.baud);
  return args;
}

/**
 * The "profile" of a settings file ("v1" when it has none or cannot be read).
 * @param {string} file
 */
export function configProfile(file) {
  try {
    return JSON.parse(readFileSync(resolve(ROOT, file), "utf8")).profile || "v1";
  } catch {
    return "v1";
  }
}

/** @param {string[]} argv @returns {number} exit code */
export function flash(argv) {
  let options;
  try {
    options = parseFlashArgs(argv);
  } catch (e) {
    console.error(`flash: ${/** @type {Error} */ (e).message}\n${USAGE}`);
    return 2;
  }
  if (!existsSync(resolve(ROOT, options.config))) {
    console.error(`flash: ${options.config} not found: copy boards/config.example.json to boards/config.json and fill in your Wi-Fi and server`);
    return 2;
  }
  const run = (/** @type {string} */ cmd, /** @type {string[]} */ args) => spawnSync(cmd, args, { cwd: ROOT, stdio: "inherit" }).status ?? 1;
  if (options.build && run(process.execPath, [join(ROOT, "node_modules", "rollup", "dist", "bin", "rollup"), "-c"]) !== 0) {
    console.error("flash: the firmware build failed");
    return 1;
  }
  let args;
  try {
    args = espruinoArgs(options);
  } catch (e) {
    console.error(`flash: ${/** @type {Error} */ (e).message}`);
    return 2;
  }
  const cli = join(ROOT, "node_modules", "espruino", "bin", "espruino-cli.js");
  return run(process.execPath, [cli, ...args]);
}

if (process.argv[1] && process.argv[1].endsWith("flash.mjs")) process.exitCode = flash(process.argv.slice(2));
