// The TypeScript options every firmware bundle is compiled with (rollup.config.mjs, and tests
// that bundle a piece of firmware themselves): ES5 for Espruino, and no emitted helpers, which
// break there (docs/ESPRUINO.md §1.4); the static check fails a bundle that still needs one.

export const FIRMWARE_COMPILER_OPTIONS = {
  target: "ES5",
  module: "ESNext",
  moduleResolution: "Bundler",
  lib: ["ES2022"],
  types: ["node"],
  strict: true,
  skipLibCheck: true,
  noEmitHelpers: true,
  importHelpers: false,
  noEmitOnError: true,
  declaration: false,
  sourceMap: false,
};
