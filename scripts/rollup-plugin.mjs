// The Espruino build as one Rollup plugin (`import { espruino } from "lwstcp/rollup"`): the pipeline
// every firmware bundle goes through (docs/ESPRUINO.md §1.4 is why each step exists):
//   TypeScript → ES5 without helpers → terser (ES5 output, mangled) → prototype aliases →
//   hoisting pass → static Espruino check (and the size budget) → a size and JsVar report.
// The project's own bundles (rollup.config.mjs) and `lwstcp-firmware build` both use it; a user
// with their own rollup.config.mjs puts `espruino()` in `plugins` and keeps Rollup's `output`
// with `format: "cjs"` (the output below wraps the bundle in one function, so its names never
// become device globals: see ESPRUINO_OUTPUT).

import terser from "@rollup/plugin-terser";
import typescript from "@rollup/plugin-typescript";
import { checkEspruinoSource } from "./espruino-check.mjs";
import { espruinoHoist } from "./espruino-hoist.mjs";
import { espruinoShrink } from "./espruino-shrink.mjs";
import { FIRMWARE_COMPILER_OPTIONS } from "./firmware-typescript.mjs";

/** One JsVar holds 14 bytes of a flat string on ESP32 (docs/ESPRUINO.md §8). */
const BYTES_PER_JSVAR = 14;

/**
 * Rollup output options for an Espruino bundle: CommonJS, no ES module marker, no "use strict"
 * (Espruino's strict mode differs), ES5 helpers, and the whole bundle inside one function.
 * @type {import("rollup").OutputOptions}
 */
export const ESPRUINO_OUTPUT = {
  format: "cjs",
  exports: "named",
  esModule: false,
  strict: false,
  generatedCode: "es5",
  intro: "(function(){",
  outro: "})();",
};

/**
 * @typedef {{
 *   module?: boolean,
 *   budget?: number,
 *   defines?: Record<string, string>,
 *   mangleProperties?: string[],
 *   nameCache?: object,
 *   pure?: boolean,
 *   include?: string[],
 *   compilerOptions?: Record<string, unknown>,
 *   deviceForms?: Array<{ importer: string, source: string, replacement: string }>,
 *   jsVars?: number,
 *   report?: (report: BundleReport) => void,
 *   check?: { globals?: string[] },
 * }} EspruinoOptions
 *   module: the bundle is a module body (a Storage file such as "lwstcp", or Modules.addCached):
 *     `exports` exists, and properties on mangleProperties are shortened. Default false: an app.
 *   budget: fail the build when the bundle is larger (bytes).
 *   defines: build-time names replaced in the compiled code by JavaScript expressions.
 *   mangleProperties: property names terser may shorten (only in a module; a name on it must never
 *     cross to code built separately, unless both builds share nameCache).
 *   nameCache: one terser name cache shared by builds that must agree on shortened names.
 *   pure: mark TypeScript's ES5 class IIFEs pure, so classes a bundle never uses are dropped.
 *   include: the TypeScript files to compile (Rollup globs); default every .ts file.
 *   compilerOptions: overrides of FIRMWARE_COMPILER_OPTIONS (target ES5 and no helpers stay).
 *   deviceForms: an import `source` made from a file whose path contains `importer` resolves to
 *     `replacement` instead (a module's device-tuned twin).
 *   jsVars: the board's JsVar count, for the report.
 *   report: called with each bundle's size and estimate (default: none; the CLI prints it).
 *   check: extra options for the static check (e.g. globals a test harness adds).
 * @typedef {{ fileName: string, bytes: number, jsVars: number, boardJsVars?: number }} BundleReport
 *   jsVars: the estimated JsVars the bundle's text takes when the device parses it into RAM
 *     (a flat string: ⌈bytes/14⌉+1); code run from a Storage file stays in flash instead.
 */

/**
 * Replaces build-time names in the compiled code.
 * @param {Record<string, string>} values name → JavaScript expression
 * @returns {import("rollup").Plugin}
 */
function defines(values) {
  return {
    name: "lwstcp-defines",
    transform(code, id) {
      if (id.includes("/node_modules/")) return null;
      let out = code;
      for (const [name, value] of Object.entries(values)) out = out.split(name).join(`(${value})`);
      return out === code ? null : { code: out, map: null };
    },
  };
}

/**
 * @param {Array<{ importer: string, source: string, replacement: string }>} forms
 * @returns {import("rollup").Plugin}
 */
function deviceForms(forms) {
  return {
    name: "lwstcp-device-forms",
    resolveId(source, importer) {
      if (!importer) return null;
      const form = forms.find((f) => f.source === source && importer.includes(f.importer));
      return form ? form.replacement : null;
    },
  };
}

/**
 * Marks TypeScript's ES5 class IIFEs (`/** @class *\/ (function () {…}())`) as pure, so Rollup
 * drops the classes a bundle never uses.
 * @returns {import("rollup").Plugin}
 */
function pureClasses() {
  return {
    name: "lwstcp-pure-classes",
    transform(code, id) {
      if (id.includes("/node_modules/") || !code.includes("/** @class */")) return null;
      return { code: code.split("/** @class */").join("/*#__PURE__*/"), map: null };
    },
  };
}

/** The error a failed check raises: the problems ride along for tools that map them to sources. */
export class EspruinoCheckError extends Error {
  /** @param {string} fileName @param {Array<{ code: string, message: string, line: number }>} problems */
  constructor(fileName, problems) {
    super(`${fileName} would not run on Espruino:\n` + problems.map((p) => `  line ${p.line}: ${p.code}: ${p.message}`).join("\n"));
    this.fileName = fileName;
    this.problems = problems;
  }
}

/**
 * The last renderChunk step: fail the build on anything Espruino cannot run, or over budget.
 * @param {EspruinoOptions} options
 * @returns {import("rollup").Plugin}
 */
function espruinoCheck(options) {
  return {
    name: "espruino-check",
    renderChunk(code, chunk) {
      const { ok, problems } = checkEspruinoSource(code, { module: !!options.module, globals: options.check && options.check.globals });
      if (!ok) {
        const error = new EspruinoCheckError(chunk.fileName, problems);
        this.error({ message: error.message, pluginCode: "ESPRUINO_CHECK", meta: { problems } });
      }
      const size = Buffer.byteLength(code);
      if (options.budget && size > options.budget) {
        this.error(`${chunk.fileName} is ${size} bytes, over its ${options.budget}-byte budget`);
      }
      if (options.report) options.report({ fileName: chunk.fileName, bytes: size, jsVars: Math.ceil(size / BYTES_PER_JSVAR) + 1, boardJsVars: options.jsVars });
      return null;
    },
  };
}

/**
 * The whole Espruino pipeline as a list of Rollup plugins (Rollup accepts the nested list in `plugins`).
 * @param {EspruinoOptions & { passes?: "all" | "locate" }} [options]
 *   passes: "locate" stops after terser (no alias, hoisting or check passes, which carry no
 *   source map): what `lwstcp-firmware build` builds again to map a failed check to the source.
 * @returns {import("rollup").Plugin[]}
 */
export function espruino(options = {}) {
  const module = !!options.module;
  const properties = options.mangleProperties || [];
  const list = [
    options.deviceForms && options.deviceForms.length ? deviceForms(options.deviceForms) : null,
    typescript({
      tsconfig: false,
      include: options.include,
      compilerOptions: { ...FIRMWARE_COMPILER_OPTIONS, ...(options.compilerOptions || {}) },
    }),
    options.defines && Object.keys(options.defines).length ? defines(options.defines) : null,
    options.pure ? pureClasses() : null,
    terser({
      ecma: 5,
      toplevel: true,
      compress: { ecma: 5, passes: 3, pure_getters: true },
      mangle:
        module && properties.length
          ? { toplevel: true, properties: { builtins: true, regex: new RegExp(`^(?:${properties.join("|")})$`) } }
          : { toplevel: true },
      nameCache: module ? options.nameCache : undefined,
      format: { ecma: 5, comments: false },
    }),
  ];
  if (options.passes !== "locate") list.push(espruinoShrink(), espruinoHoist(), espruinoCheck(options));
  return /** @type {import("rollup").Plugin[]} */ (list.filter(Boolean));
}
