// Board facts from boards/*.json, for the build, the flash script, tests and the simulator.
// A board file is an espruino-tools board description (`info.*`, read by `espruino --board`)
// plus our `lwstcp` section: the name Espruino reports as process.env.BOARD, the hardware RNG
// register read with peek32, the JsVar budget, and the app bundle built for it.

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const BOARDS_DIR = join(ROOT, "boards");
/**
 * The build fails when dist/lwstcp.js exceeds this. The device keeps the library in flash (a
 * Storage file) but parses its functions into JsVars, so every byte costs RAM too. The v2 engine
 * ships as its own module (dist/lwstcp-v2.js) for this. Raised from 14 KB to 16 KB for the
 * pre-key hardening (handshake-mode framer, silent-connection timeout).
 */
export const LIBRARY_BUDGET_BYTES = 16 * 1024;

/**
 * @typedef {{ file: string, board: string, rngRegister: number | undefined, jsVars: number, app: string, builtinModules: string[] }} Board
 * @returns {Board[]}
 */
export function readBoards() {
  return readdirSync(BOARDS_DIR)
    .filter((f) => f.endsWith(".json") && !f.startsWith("config"))
    .sort()
    .map((f) => ({ f, json: JSON.parse(readFileSync(join(BOARDS_DIR, f), "utf8")) }))
    .filter(({ json }) => json.lwstcp)
    .map(({ f, json }) => ({
      file: join(BOARDS_DIR, f),
      board: json.lwstcp.board,
      rngRegister: json.lwstcp.rngRegister ? parseInt(json.lwstcp.rngRegister, 16) : undefined,
      jsVars: json.lwstcp.jsVars,
      app: json.lwstcp.app,
      builtinModules: json.info.builtin_modules,
    }));
}
