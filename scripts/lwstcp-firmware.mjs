#!/usr/bin/env node
// lwstcp-firmware: the Espruino build as a command, for a user's own device app.
//   lwstcp-firmware build src/app.ts [--board ESP32] [--out dist/app.js]
//   lwstcp-firmware check file.js [--module]
//   lwstcp-firmware init my-device
// `build` runs the pipeline the project's own bundles go through (scripts/rollup-plugin.mjs) and
// reports problems at the user's .ts file and line: TypeScript's own errors carry them, and a
// failed Espruino check is mapped back through the source map of a second build that stops
// after terser (the alias and hoisting passes edit text without a map, and add none of the
// problems the check looks for, so a problem found in both builds is the same one).

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { originalPositionFor, TraceMap } from "@jridgewell/trace-mapping";
import { rollup } from "rollup";
import { runTool, UsageError } from "../build/server/cli/args.js";
import { readBoards } from "./boards.mjs";
import { checkEspruinoSource } from "./espruino-check.mjs";
import { ESPRUINO_OUTPUT, espruino } from "./rollup-plugin.mjs";

const DEVICE_TYPES = new URL("../device", import.meta.url).pathname;
const COMMANDS = ["build", "check", "init"];

/** @type {import("../build/server/cli/args.js").ToolSpec} */
const SPEC = {
  program: "lwstcp-firmware",
  summary:
    "Builds a TypeScript device app for Espruino (TypeScript → ES5 → terser → hoisting → static check, with a size and JsVar report), checks any ES5 file, or writes a starter project.",
  usage: "build FILE.ts [--board NAME] [--out FILE] | check FILE.js [--module] | init DIRECTORY",
  flags: [
    { name: "board", value: "NAME", help: "the board the app is built for (a boards/*.json name)", default: "ESP32" },
    { name: "out", value: "FILE", help: "build: where the bundle goes", default: "dist/app.js" },
    { name: "module", help: "check: the file is a module body (exports exists), like dist/lwstcp.js" },
  ],
  examples: ["lwstcp-firmware build src/app.ts --out dist/app.js", "lwstcp-firmware check dist/app.js", "lwstcp-firmware init my-device"],
};

// The command and its file come first; the shared layer parses the flags after them.
const positional = [];
while (process.argv.length > 2 && !process.argv[2].startsWith("-") && positional.length < 2) positional.push(process.argv.splice(2, 1)[0]);

// TypeScript's program can keep the event loop alive after a failed build: end when main is done.
runTool(SPEC, async (flags) => {
  const code = await main(flags);
  setImmediate(() => process.exit(code));
  return code;
});

/** @param {import("../build/server/cli/args.js").Flags} flags @returns {Promise<number>} */
async function main(flags) {
  const [command, file] = positional;
  if (!command) throw new UsageError("a command is needed: " + COMMANDS.join(", "));
  if (!COMMANDS.includes(command)) throw new UsageError("unknown command '" + command + "' (commands: " + COMMANDS.join(", ") + ")");
  if (!file) throw new UsageError(command + " needs a " + (command === "init" ? "directory" : "file"));
  for (const name of flags.keys()) {
    const allowed = { build: ["board", "out"], check: ["module"], init: [] }[command];
    if (!allowed.includes(name)) throw new UsageError("--" + name + " does not apply to " + command);
  }
  if (command === "init") {
    const { writeStarter } = await import("./lwstcp-firmware-init.mjs");
    const written = writeStarter(resolve(file));
    for (const path of written) console.log("wrote " + relative(process.cwd(), path));
    console.log(`next: cd ${file} && npm install && npm test`);
    return 0;
  }
  if (!existsSync(file)) throw new UsageError(file + " not found");
  if (command === "check") return checkFile(file, flags.has("module"));
  return build(file, flags.get("board") || "ESP32", flags.get("out") || "dist/app.js");
}

/** @param {string} file @param {boolean} asModule */
function checkFile(file, asModule) {
  const text = readFileSync(file, "latin1");
  const { ok, problems } = checkEspruinoSource(text, { module: asModule });
  for (const p of problems) console.error(`${file}:${p.line}:${p.column + 1}: ${p.code}: ${p.message}`);
  if (ok) console.log(`${file}: runs on Espruino 2v29 as far as the static check can tell (${Buffer.byteLength(text, "latin1")} bytes)`);
  return ok ? 0 : 1;
}

/**
 * @param {string} board
 * @returns {import("./boards.mjs").Board}
 */
function findBoard(board) {
  const boards = readBoards();
  const found = boards.find((b) => b.board.toLowerCase() === board.toLowerCase());
  if (!found) throw new UsageError("--board must be one of " + boards.map((b) => b.board).join(", ") + ", got '" + board + "'");
  return found;
}

/**
 * The options `build` gives the plugin: the app's own files, the device types instead of Node's.
 * @param {string} input
 * @param {import("./boards.mjs").Board} board
 * @param {(r: import("./rollup-plugin.mjs").BundleReport) => void} [report]
 * @param {"all" | "locate"} [passes]
 */
function appPlugins(input, board, report, passes) {
  return espruino({
    // The app's own directory: a project's Node-side tests (test/*.ts) are not device code.
    include: [join(dirname(resolve(input)), "**", "*.ts")],
    defines: { __LWSTCP_BOARD__: JSON.stringify(board.board) },
    compilerOptions: { types: [DEVICE_TYPES], lib: undefined, sourceMap: passes === "locate" },
    jsVars: board.jsVars,
    report,
    passes,
  });
}

/** Rollup's warnings: TypeScript's carry the file and line already. */
function onwarn(/** @type {import("rollup").RollupLog} */ warning) {
  const where = warning.loc ? `${relative(process.cwd(), warning.loc.file || warning.id || "")}:${warning.loc.line}:${warning.loc.column + 1}: ` : "";
  console.error(
    where +
      (warning.pluginCode ? warning.pluginCode + ": " : "") +
      warning.message
        .replace(/^\[plugin [^\]]+\] /, "")
        .replace(/^[^\s:]+ \(\d+:\d+\): /, "")
        .replace(/^@rollup\/plugin-typescript TS\d+: /, ""),
  );
}

/** @param {string} input @param {string} boardName @param {string} out */
async function build(input, boardName, out) {
  const board = findBoard(boardName);
  /** @type {import("./rollup-plugin.mjs").BundleReport | undefined} */
  let report;
  let typeErrors = 0;
  try {
    const bundle = await rollup({
      input,
      plugins: appPlugins(input, board, (r) => (report = r)),
      onwarn: (w) => {
        if (w.plugin === "typescript") typeErrors++;
        onwarn(w);
      },
    });
    await bundle.write({ ...ESPRUINO_OUTPUT, file: out });
    await bundle.close();
  } catch (err) {
    const e = /** @type {any} */ (err);
    if (e.pluginCode === "ESPRUINO_CHECK" && e.meta && e.meta.problems) {
      for (const line of await locate(input, board, e.meta.problems)) console.error(line);
      console.error(`lwstcp-firmware: ${input} would not run on Espruino (${e.meta.problems.length} problem${e.meta.problems.length === 1 ? "" : "s"})`);
      return 1;
    }
    if (typeErrors > 0 || e.plugin === "typescript") {
      if (e.loc) onwarn(e);
      console.error(`lwstcp-firmware: ${input} does not compile`);
      return 1;
    }
    throw err;
  }
  if (report) {
    const share = report.boardJsVars ? ` of the ${board.board}'s ${report.boardJsVars}` : "";
    console.log(
      `${out}: ${report.bytes} bytes, about ${report.jsVars} JsVars${share} when its text is parsed into RAM (uploaded as code; from a Storage file it stays in flash)`,
    );
  }
  return 0;
}

/**
 * The failed check's problems at their TypeScript lines: build again without the passes that
 * carry no map, check that, and map what both builds found.
 * @param {string} input
 * @param {import("./boards.mjs").Board} board
 * @param {Array<{ code: string, message: string, line: number, column: number }>} problems
 */
async function locate(input, board, problems) {
  const bundle = await rollup({ input, plugins: appPlugins(input, board, undefined, "locate"), onwarn: () => {} });
  const { output } = await bundle.generate({ ...ESPRUINO_OUTPUT, sourcemap: true });
  await bundle.close();
  const chunk = output[0];
  const found = checkEspruinoSource(chunk.code, { module: false }).problems;
  const map = chunk.map ? new TraceMap(/** @type {any} */ (chunk.map)) : undefined;
  return problems.map((p) => {
    const twin = found.find((f) => f.code === p.code && f.message === p.message);
    const at = twin && map ? originalPositionFor(map, { line: twin.line, column: twin.column }) : undefined;
    if (at && at.source) {
      // Rollup writes the sources relative to the working directory when there is no output file.
      const source = relative(process.cwd(), resolve(at.source));
      return `${source}:${at.line}:${(at.column || 0) + 1}: ${p.code}: ${p.message}`;
    }
    return `${input} (bundle line ${p.line}): ${p.code}: ${p.message}`;
  });
}
