// Firmware bundles for Espruino, built through the project's Rollup plugin (scripts/rollup-plugin.mjs,
// what `lwstcp/rollup` exports and `lwstcp-firmware build` runs): TypeScript → ES5 without helpers →
// terser → prototype aliases → hoisting pass → static check. This file holds only the inputs
// and their options.
// dist/lwstcp.js is the library as an Espruino module body (it assigns to `exports`): what
// espruino-tools uploads as the Storage file "lwstcp" and what Modules.addCached accepts.
// dist/app-<board>.js is the demo app, one per board file in boards/ that has a `lwstcp` section.
// The build fails when a bundle is not ES5, names something Espruino lacks, uses a name before
// its declaration, or (the library) exceeds its size budget.

import { LIBRARY_BUDGET_BYTES, readBoards } from "./scripts/boards.mjs";
import { ESPRUINO_OUTPUT, espruino } from "./scripts/rollup-plugin.mjs";
import { UNROLLED_XTEA_BUDGET_BYTES, unrolledXteaEntry } from "./scripts/xtea-unrolled.mjs";

const boards = readBoards();
/** process.env.BOARD → the facts the library needs at run time (firmware/board-facts.ts). */
const boardFacts = Object.fromEntries(boards.map((b) => [b.board, { rngRegister: b.rngRegister, jsVars: b.jsVars }]));

/**
 * Swaps a core module for its device-tuned twin in the firmware bundles: the XTEA block
 * routines tuned for V8 (firmware/core/xtea-blocks.ts) become the Espruino form
 * (xtea-blocks-device.ts; same output, test/core-xtea-device.test.ts holds both to the
 * vectors), and the core's string inputs, which only Node callers use, drop out (inputs.ts).
 */
const deviceForms = [
  { importer: "/firmware/core/", source: "./xtea-blocks.js", replacement: new URL("./firmware/core/xtea-blocks-device.ts", import.meta.url).pathname },
  { importer: "/firmware/core/", source: "./inputs.js", replacement: new URL("./firmware/core/inputs-device.ts", import.meta.url).pathname },
];

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
  "openInPlace",
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
  "resume",
  "keyFound",
  "handshakeReply",
  "keyForDevice",
];

/**
 * One terser name cache for the library and the v2 module, built in that order (rollup builds
 * the configs one after another): the names the two bundles share get the same short names.
 */
const nameCache = {};

/** The options every firmware bundle shares. */
const common = { include: ["firmware/**/*.ts"], deviceForms };

export default [
  {
    input: "firmware/lwstcp.ts",
    output: { ...ESPRUINO_OUTPUT, file: "dist/lwstcp.js" },
    plugins: espruino({
      ...common,
      module: true,
      budget: LIBRARY_BUDGET_BYTES,
      defines: { __LWSTCP_BOARD_FACTS__: JSON.stringify(boardFacts) },
      mangleProperties: INTERNAL_PROPERTIES,
      nameCache,
    }),
  },
  // After the library (the name cache): the v2 engine, the Storage module "lwstcp-v2". Its classes
  // are marked pure: it imports constants from the v1 connection module and must not carry the
  // v1 Connection, handshake and XTEA along.
  {
    input: "firmware/lwstcp-v2.ts",
    output: { ...ESPRUINO_OUTPUT, file: "dist/lwstcp-v2.js" },
    plugins: espruino({ ...common, module: true, mangleProperties: INTERNAL_PROPERTIES.concat(V2_INTERNAL_PROPERTIES), nameCache, pure: true }),
  },
  // The Storage module "lwstcp-xtea": the 32-round cipher written out, generated (not compiled
  // from TypeScript) by scripts/xtea-unrolled.mjs; the library uses it when the board has it.
  {
    input: "lwstcp-xtea",
    output: { ...ESPRUINO_OUTPUT, file: "dist/lwstcp-xtea.js" },
    plugins: [unrolledXteaEntry("lwstcp-xtea"), espruino({ ...common, module: true, budget: UNROLLED_XTEA_BUDGET_BYTES })],
  },
  ...boards.map((b) => ({
    input: "firmware/apps/demo.ts",
    output: { ...ESPRUINO_OUTPUT, file: `dist/${b.app}` },
    plugins: espruino({ ...common, defines: { __LWSTCP_BOARD__: JSON.stringify(b.board) } }),
  })),
];
