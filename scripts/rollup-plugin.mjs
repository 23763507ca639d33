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

// The options (EspruinoOptions) and the report (BundleReport) are described once, with the
// exported names' types, in rollup-plugin.d.mts (what `lwstcp/rollup` users' editors read).
/** @typedef {import("./rollup-plugin.mjs").EspruinoOptions} EspruinoOptions */

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
