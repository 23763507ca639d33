// The types of `lwstcp/rollup` (scripts/rollup-plugin.mjs): the Espruino build as Rollup plugins.

import type { OutputOptions, Plugin } from "rollup";

/** What the pipeline does with a bundle; every field is optional. */
export interface EspruinoOptions {
  /** The bundle is a module body (a Storage file such as "lwstcp", or Modules.addCached): `exports` exists, and names on mangleProperties are shortened. Default false: an app. */
  module?: boolean;
  /** Fail the build when the bundle is larger than this many bytes. */
  budget?: number;
  /** Build-time names replaced in the compiled code by JavaScript expressions. */
  defines?: Record<string, string>;
  /** Property names terser may shorten (only in a module; such a name must never cross to code built separately, unless both builds share nameCache). */
  mangleProperties?: string[];
  /** One terser name cache shared by builds that must agree on shortened names. */
  nameCache?: object;
  /** Mark TypeScript's ES5 class IIFEs pure, so classes a bundle never uses are dropped. */
  pure?: boolean;
  /** The TypeScript files to compile (Rollup globs); default every .ts file. */
  include?: string[];
  /** Overrides of the firmware compiler options (target ES5 and no helpers stay). */
  compilerOptions?: Record<string, unknown>;
  /** An import `source` made from a file whose path contains `importer` resolves to `replacement` instead (a module's device-tuned twin). */
  deviceForms?: Array<{ importer: string; source: string; replacement: string }>;
  /** The board's JsVar count, for the report. */
  jsVars?: number;
  /** Called with each bundle's size and estimate (default: none; the CLI prints it). */
  report?: (report: BundleReport) => void;
  /** Extra options for the static check (e.g. globals a test harness adds). */
  check?: { globals?: string[] };
}

/** One bundle's size, and the JsVars its text takes when the device parses it into RAM (a flat string: ⌈bytes/14⌉+1; code run from a Storage file stays in flash instead). */
export interface BundleReport {
  fileName: string;
  bytes: number;
  jsVars: number;
  boardJsVars?: number;
}

/** Rollup output options for an Espruino bundle: CommonJS, no ES module marker, no "use strict", ES5 helpers, the whole bundle inside one function. */
export declare const ESPRUINO_OUTPUT: OutputOptions;

/** The error a failed static check raises: the problems ride along for tools that map them to sources. */
export declare class EspruinoCheckError extends Error {
  constructor(fileName: string, problems: Array<{ code: string; message: string; line: number }>);
  fileName: string;
  problems: Array<{ code: string; message: string; line: number }>;
}

/**
 * The whole Espruino pipeline as a list of Rollup plugins (Rollup accepts the nested list in
 * `plugins`): TypeScript → ES5 → terser → prototype aliases → hoisting pass → static check.
 * `passes: "locate"` stops after terser (what `lwstcp-firmware build` builds again to map a
 * failed check to the source).
 */
export declare function espruino(options?: EspruinoOptions & { passes?: "all" | "locate" }): Plugin[];
