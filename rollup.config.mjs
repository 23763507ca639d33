// Firmware bundles for Espruino (docs/ESPRUINO.md §1.4 is why each step exists):
//   TypeScript → ES5 without helpers → terser (ES5 output, mangled) → prototype aliases →
//   hoisting pass → check.
// dist/lwstcp.js is the library as an Espruino module body (it assigns to `exports`): what
// espruino-tools uploads as the Storage file "lwstcp" and what Modules.addCached accepts.
// dist/app-<board>.js is the demo app, one per board file in boards/ that has a `lwstcp` section.
// The build fails when a bundle is not ES5, names something Espruino lacks, uses a name before
// its declaration, or (the library) exceeds its size budget.

import terser from "@rollup/plugin-terser";
import typescript from "@rollup/plugin-typescript";
import { LIBRARY_BUDGET_BYTES, readBoards } from "./scripts/boards.mjs";
import { checkEspruinoSource } from "./scripts/espruino-check.mjs";
import { espruinoHoist } from "./scripts/espruino-hoist.mjs";
import { espruinoShrink } from "./scripts/espruino-shrink.mjs";
import { FIRMWARE_COMPILER_OPTIONS } from "./scripts/firmware-typescript.mjs";

const boards = readBoards();
/** process.env.BOARD → the facts the library needs at run time (firmware/board-facts.ts). */
const boardFacts = Object.fromEntries(boards.map((b) => [b.board, { rngRegister: b.rngRegister, jsVars: b.jsVars }]));

/**
 * Replaces build-time names in the compiled firmware (there is no @rollup/plugin-replace here,
 * and these are the only two names).
 * @param {Record<string, string>} values name → JavaScript expression
 * @returns {import("rollup").Plugin}
 */
function defines(values) {
  return {
    name: "lwstcp-defines",
    transform(code, id) {
      if (!id.includes("/firmware/")) return null;
      let out = code;
      for (const [name, value] of Object.entries(values)) out = out.split(name).join(`(${value})`);
      return out === code ? null : { code: out, map: null };
    },
  };
}

/**
 * Swaps a core module for its device-tuned twin in the firmware bundles: the XTEA block
 * routines tuned for V8 (firmware/core/xtea-blocks.ts) become the Espruino form
 * (xtea-blocks-device.ts). Same output; test/core-xtea-device.test.ts holds both to the vectors.
 * @returns {import("rollup").Plugin}
 */
function deviceForms() {
  const twins = { "./xtea-blocks.js": "xtea-blocks-device.ts" };
  return {
    name: "lwstcp-device-forms",
    resolveId(source, importer) {
      const twin = twins[source];
      if (!twin || !importer || !importer.includes("/firmware/core/")) return null;
      return new URL(`./firmware/core/${twin}`, import.meta.url).pathname;
    },
  };
}

/**
 * The last renderChunk step: fail the build on anything Espruino cannot run, or over budget.
 * @param {{ module: boolean, budget?: number }} options
 * @returns {import("rollup").Plugin}
 */
function espruinoCheck(options) {
  return {
    name: "espruino-check",
    renderChunk(code, chunk) {
      const { ok, problems } = checkEspruinoSource(code, { module: options.module });
      if (!ok) {
        this.error(`${chunk.fileName} would not run on Espruino:\n` + problems.map((p) => `  line ${p.line}: ${p.code}: ${p.message}`).join("\n"));
      }
      const size = Buffer.byteLength(code);
      if (options.budget && size > options.budget) {
        this.error(`${chunk.fileName} is ${size} bytes, over its ${options.budget}-byte budget`);
      }
      return null;
    },
  };
}

/**
 * Internal property names of the library (core and device layer) that terser may shorten.
 * Only names listed here are renamed, and only inside dist/lwstcp.js, where every object that
 * carries them is made: never a public API name, an option the application passes, an
 * Espruino or socket member (end, write, close, message, error, host, port, fill, start…),
 * or a field of an object handed to the application (HandshakeResult's reason). A name left
 * off this list just stays long.
 */
const INTERNAL_PROPERTIES = [
  // core: Connection, Framer, handshakes, key schedules, options
  "state",
  "sessionKey",
  "role",
  "keepAliveIntervalMs",
  "inactivityTimeoutMs",
  "handshakeTimeoutMs",
  "options",
  "sink",
  "framer",
  "smallOut",
  "out",
  "server",
  "client",
  "session",
  "startedAt",
  "lastSent",
  "lastReceived",
  "packet",
  "have",
  "need",
  "bytes",
  "text",
  "pos",
  "key",
  "random",
  "expected",
  "received",
  "request",
  "response",
  "words",
  "rounds",
  "handshakeKey",
  "clock",
  "bufferSize",
  "fail",
  "take",
  "grow",
  "feed",
  "next",
  "seal",
  "prepareSend",
  "handshakePacket",
  "sessionPacket",
  "finish",
  "at",
  "capacity",
  "opened",
  "control",
  "wipe",
  "transportClosed",
  "receive",
  "tick",
  "sendBytes",
  "sendByteString",
  "handshakeSucceeded",
  "handshakeFailed",
  "ended",
  "buffered",
  "small",
  "handshake",
  "mine",
  "theirs",
  "isServer",
  "verify",
  "send",
  // device layer: transport, settings, client, server, session, entropy, board facts
  "connection",
  "settings",
  "schedule",
  "wanted",
  "attempt",
  "retryTimer",
  "autoReconnect",
  "reconnectMinMs",
  "reconnectMaxMs",
  "retry",
  "cancelRetry",
  "sessions",
  "maxSessions",
  "accept",
  "forget",
  "word",
  "source",
  "facts",
  "rngRegister",
  "jsVars",
];

/**
 * Internal property names of the v2 engine that only dist/lwstcp-v2.js uses. Every name that
 * crosses between it and dist/lwstcp.js (options, sink, the connection's surface) is either on
 * INTERNAL_PROPERTIES, and then mangled to the same name in both through the shared name cache
 * below, or on neither list and kept as it is. Never add a crossing name (preSharedKey, start,
 * isOpen, disconnect, write, close, message) here.
 */
const V2_INTERNAL_PROPERTIES = [
  "primitives",
  "mac",
  "keys",
  "sequenceLo",
  "sequenceHi",
  "sending",
  "receiving",
  "psk",
  "md",
  "transcript",
  "tag",
  "scratch",
  "proof",
  "encryptionKey",
  "setKeys",
  "serverProof",
  "clientProof",
  "s2cMac",
  "s2cEncryption",
  "c2sMac",
  "c2sEncryption",
  "exporter",
  "outer",
  "ipad",
  "outView",
  "smallView",
  "controlView",
  "controlOut",
  "macWithHeadroom",
  "writeSequence",
  "setKey",
  "sendControl",
  "ivBlock",
  "deriveIv",
  "advance",
  "first",
  "serverHello",
  "clientHello",
  "serverFinished",
  "sha256",
  "aes256EcbEncryptBlock",
  "aes256CbcEncrypt",
  "aes256CbcDecrypt",
];

/**
 * One terser name cache for the library and the v2 module, built in that order (rollup builds
 * the configs one after another): the names the two bundles share get the same short names.
 */
const nameCache = {};

/**
 * Marks TypeScript's ES5 class IIFEs (`/** @class *\/ (function () {…}())`) as pure, so Rollup
 * drops the classes a bundle never uses: the v2 module imports constants from the v1
 * connection module and must not carry the v1 Connection, handshake and XTEA along.
 * @returns {import("rollup").Plugin}
 */
function pureClasses() {
  return {
    name: "lwstcp-pure-classes",
    transform(code, id) {
      if (!id.includes("/firmware/") || !code.includes("/** @class */")) return null;
      return { code: code.split("/** @class */").join("/*#__PURE__*/"), map: null };
    },
  };
}

/** @param {Record<string, string>} values @param {{ module: boolean, budget?: number, extraProperties?: string[], pure?: boolean }} check */
function plugins(values, check) {
  return [
    deviceForms(),
    typescript({
      tsconfig: false,
      include: ["firmware/**/*.ts"],
      compilerOptions: FIRMWARE_COMPILER_OPTIONS,
    }),
    defines(values),
    check.pure ? pureClasses() : null,
    terser({
      ecma: 5,
      toplevel: true,
      compress: { ecma: 5, passes: 3, pure_getters: true },
      mangle: check.module
        ? { toplevel: true, properties: { builtins: true, regex: new RegExp(`^(?:${INTERNAL_PROPERTIES.concat(check.extraProperties || []).join("|")})$`) } }
        : { toplevel: true },
      nameCache: check.module ? nameCache : undefined,
      format: { ecma: 5, comments: false },
    }),
    espruinoShrink(),
    espruinoHoist(),
    espruinoCheck(check),
  ];
}

/** The whole bundle runs inside one function, so its names never become device globals. */
const output = {
  format: "cjs",
  exports: "named",
  esModule: false,
  strict: false,
  generatedCode: "es5",
  intro: "(function(){",
  outro: "})();",
};

export default [
  {
    input: "firmware/lwstcp.ts",
    output: { ...output, file: "dist/lwstcp.js" },
    plugins: plugins({ __LWSTCP_BOARD_FACTS__: JSON.stringify(boardFacts) }, { module: true, budget: LIBRARY_BUDGET_BYTES }),
  },
  // After the library (the name cache): the v2 engine, the Storage module "lwstcp-v2".
  {
    input: "firmware/lwstcp-v2.ts",
    output: { ...output, file: "dist/lwstcp-v2.js" },
    plugins: plugins({}, { module: true, extraProperties: V2_INTERNAL_PROPERTIES, pure: true }),
  },
  ...boards.map((b) => ({
    input: "firmware/apps/demo.ts",
    output: { ...output, file: `dist/${b.app}` },
    plugins: plugins({ __LWSTCP_BOARD__: JSON.stringify(b.board) }, { module: false }),
  })),
];
