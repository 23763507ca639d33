// The checks V8 cannot enforce at run time (no hoisting, ES5 only, no TS helpers, no missing
// built-ins) are made before a bundle runs, by the project's one checker: scripts/espruino-check.mjs
// (shared with the Rollup build). This file only finds and calls it.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface CheckProblem {
  code: string;
  message: string;
  line: number;
}
export interface CheckResult {
  ok: boolean;
  problems: CheckProblem[];
}
export interface CheckOptions {
  module?: boolean;
  globals?: string[];
  allowMathRandom?: boolean;
}

type Checker = (source: string, options?: CheckOptions) => CheckResult;

// From build/host-sim/ (compiled) the repository root is two levels up.
const CHECKER_URL = new URL("../../scripts/espruino-check.mjs", import.meta.url);
let checker: Promise<Checker> | undefined;

function loadChecker(): Promise<Checker> {
  if (!existsSync(fileURLToPath(CHECKER_URL))) {
    return Promise.reject(new Error(`host-sim: the Espruino static checker is missing at ${fileURLToPath(CHECKER_URL)}`));
  }
  return (checker ??= import(CHECKER_URL.href).then((m: { checkEspruinoSource: Checker }) => m.checkEspruinoSource));
}

/** Checks that `source` would run on Espruino 2v29 (ESP32); `module` for Storage files and addCached bodies. */
export async function checkEspruinoSource(source: string, options: CheckOptions = {}): Promise<CheckResult> {
  return (await loadChecker())(source, options);
}

/** Throws one error listing every problem, so a test failure names each line Espruino would trip on. */
export async function assertRunsOnEspruino(source: string, filename: string, options: CheckOptions = {}): Promise<void> {
  const result = await checkEspruinoSource(source, options);
  if (result.ok) return;
  const lines = result.problems.map((p) => `  ${filename}:${p.line} [${p.code}] ${p.message}`);
  throw new Error(`${filename} would not run on Espruino 2v29:\n${lines.join("\n")}`);
}
