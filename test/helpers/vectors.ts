// The C++ implementation's byte-exact outputs (test/vectors/lwstcp-v1.json), and the
// small conversions every test that uses them needs.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: the nearest folder above this file holding package.json. */
export const repoRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("package.json not found above " + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
})();

export interface XteaVector {
  rounds: number;
  key: string;
  plaintext: string;
  ciphertext: string;
}
export interface HandshakeVector {
  nonce: string;
  num1: string;
  num2: string;
  transformedNonce: string;
  sum: string;
  xor: string;
  sessionKey: string;
  request: string;
  requestPlaintext: string;
  response: string;
  responsePlaintext: string;
  success: string;
}
export interface MessageVector {
  sessionKey: string;
  message: string;
  packet: string;
  paddedPlaintext: string;
}
export interface Vectors {
  xtea256: XteaVector[];
  handshakeKey: string;
  rounds: number;
  handshake: HandshakeVector[];
  messages: MessageVector[];
}

export const vectors: Vectors = JSON.parse(readFileSync(join(repoRoot, "test", "vectors", "lwstcp-v1.json"), "utf8"));

export function hex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "hex"));
}

export function toHex(bytes: Uint8Array, from = 0, length = bytes.length - from): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + from, length).toString("hex");
}

/** A 64-bit hex numeral (most significant digit first) as [hi, lo]. */
export function u64(text: string): [number, number] {
  const padded = text.padStart(16, "0");
  return [parseInt(padded.slice(0, 8), 16), parseInt(padded.slice(8), 16)];
}

/**
 * A RandomFill that replays recorded bytes in order, so encoders reproduce recorded
 * packets byte for byte. Throws when asked for more than was recorded.
 */
export function recordedRandom(...chunks: Uint8Array[]): (buf: Uint8Array, at: number, length: number) => void {
  const all = Buffer.concat(chunks);
  let used = 0;
  return (buf, at, length) => {
    if (used + length > all.length) throw new Error("recorded randomness exhausted: asked " + length + " more after " + used + " of " + all.length);
    for (let i = 0; i < length; i++) buf[at + i] = all[used++];
  };
}
