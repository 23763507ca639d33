// Shared pieces of the v2 tests: the vectors file, a stand-in for Espruino's `crypto` module
// with Espruino's semantics (ArrayBuffer results, no padding, errors printed and undefined
// returned), recorded randomness; the v2 pair is test/helpers/pair.ts's.
import { createCipheriv, createDecipheriv, createHash, randomFillSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RandomFill } from "../../firmware/core/bytes.js";
import type { V2Primitives } from "../../firmware/core/v2/primitives.js";
import type { EspruinoCryptoModule } from "../../firmware/crypto-v2.js";
import { createEspruinoPrimitives } from "../../firmware/crypto-v2.js";
import { nodePrimitives } from "../../server/crypto-v2.js";
import { repoRoot } from "./vectors.js";

export interface RecordVector {
  direction: "c2s" | "s2c";
  sequence: number;
  type: number;
  plaintext: string;
  ivBlock: string;
  iv: string;
  ciphertext: string;
  tag: string;
  record: string;
}
export interface V2Vectors {
  psk: string;
  ns: string;
  nc: string;
  salt: string;
  prk: string;
  labels: Record<string, string>;
  keys: Record<"c2sEncryption" | "s2cEncryption" | "c2sMac" | "s2cMac" | "clientProof" | "serverProof" | "exporter", string>;
  handshake: { serverHello: string; clientProof: string; clientHello: string; serverProof: string; serverFinished: string };
  records: RecordVector[];
  highSequence: RecordVector;
  /** The same PSK and nonces with a device id in the ClientHello. */
  identified: {
    deviceId: string;
    salt: string;
    prk: string;
    keys: V2Vectors["keys"];
    handshake: V2Vectors["handshake"];
    records: RecordVector[];
  };
}

export const v2Vectors: V2Vectors = JSON.parse(readFileSync(join(repoRoot, "test", "vectors", "lwstcp-v2.json"), "utf8"));

export const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Bytes of an argument as Espruino's crypto reads them (string, typed array view, ArrayBuffer, array). */
function bytesOf(value: unknown): Buffer {
  if (typeof value === "string") return Buffer.from(value, "latin1");
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (Array.isArray(value)) return Buffer.from(value);
  throw new Error("unsupported argument");
}

function arrayBufferOf(b: Buffer): ArrayBuffer {
  const ab = new ArrayBuffer(b.length);
  new Uint8Array(ab).set(b);
  return ab;
}

/**
 * Espruino 2v29's `crypto` (ESPRUINO.md §6) on node:crypto: ArrayBuffer results, uppercase modes
 * only, CBC default with a zero IV, no padding, a non-block CBC input prints an error and gives
 * undefined, a bad key length gives undefined. `calls` counts native calls for the cost claim.
 */
export function fakeEspruinoCrypto(): EspruinoCryptoModule & { calls: Record<string, number>; printed: string[] } {
  const calls: Record<string, number> = { ECB: 0, CBC: 0, SHA256: 0 };
  const printed: string[] = [];
  const aes = (decrypt: boolean, message: unknown, key: unknown, options?: { mode?: string; iv?: unknown }): ArrayBuffer | undefined => {
    const mode = options && options.mode !== undefined ? options.mode : "CBC";
    if (mode !== "ECB" && mode !== "CBC") throw new Error(`Unknown Crypto mode "${mode}" (the fake knows ECB and CBC only)`);
    const k = bytesOf(key);
    if (![16, 24, 32].includes(k.length)) {
      printed.push("ERROR: Unknown error: -0x20");
      return undefined;
    }
    const input = bytesOf(message);
    calls[mode]++;
    const name = `aes-${k.length * 8}-${mode.toLowerCase()}`;
    if (mode === "CBC" && input.length % 16 !== 0) {
      printed.push("ERROR: Invalid input length");
      return undefined;
    }
    const iv = Buffer.alloc(16);
    if (options && options.iv !== undefined) bytesOf(options.iv).copy(iv, 0, 0, 16);
    const cipher = decrypt ? createDecipheriv(name, k, mode === "ECB" ? null : iv) : createCipheriv(name, k, mode === "ECB" ? null : iv);
    cipher.setAutoPadding(false);
    return arrayBufferOf(Buffer.concat([cipher.update(input), cipher.final()]));
  };
  return {
    calls,
    printed,
    AES: {
      encrypt: (m, k, o) => aes(false, m, k, o),
      decrypt: (m, k, o) => aes(true, m, k, o),
    },
    SHA256: (m) => {
      calls.SHA256++;
      return arrayBufferOf(createHash("sha256").update(bytesOf(m)).digest());
    },
  };
}

export const primitiveSets: Array<{ name: string; make: () => V2Primitives }> = [
  { name: "node:crypto", make: () => nodePrimitives },
  { name: "Espruino crypto (fake)", make: () => createEspruinoPrimitives(fakeEspruinoCrypto()) },
];

/** A RandomFill that hands out the given bytes in order, then fails loudly. */
export function recordedRandom(...chunks: Uint8Array[]): RandomFill {
  const queue = Buffer.concat(chunks.map((c) => Buffer.from(c)));
  let used = 0;
  return (buf, at, length) => {
    if (used + length > queue.length) throw new Error("recorded randomness used up");
    for (let i = 0; i < length; i++) buf[at + i] = queue[used + i];
    used += length;
  };
}

export const cryptoRandom: RandomFill = (buf, at, length) => void randomFillSync(buf, at, length);

export { pairV2 } from "./pair.js";
