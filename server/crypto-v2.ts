// The v2 profile's primitives on node:crypto (firmware/core/v2/primitives.ts). node:crypto
// has no "encrypt into this buffer" call: each operation allocates its cipher/hash object and
// result Buffer, then the result is copied into the caller's buffer. That is the platform's
// cost; the protocol engine itself allocates nothing per record.
import { createCipheriv, createDecipheriv, createHash } from "node:crypto";
import type { V2Primitives } from "../firmware/core/v2/primitives.js";

function copyInto(result: Uint8Array, out: Uint8Array, outAt: number): void {
  out.set(result, outAt);
}

function cbc(decrypt: boolean, key: Uint8Array, iv: Uint8Array, data: Uint8Array, at: number, length: number, out: Uint8Array, outAt: number): void {
  if (length % 16 !== 0) throw new Error("AES-256-CBC input must be whole 16-byte blocks, got " + length + " bytes");
  const cipher = decrypt ? createDecipheriv("aes-256-cbc", key, iv) : createCipheriv("aes-256-cbc", key, iv);
  cipher.setAutoPadding(false);
  const result = cipher.update(data.subarray(at, at + length));
  cipher.final();
  copyInto(result, out, outAt);
}

export const nodePrimitives: V2Primitives = {
  aes256EcbEncryptBlock(key, input, at, out, outAt) {
    const cipher = createCipheriv("aes-256-ecb", key, null);
    cipher.setAutoPadding(false);
    const result = cipher.update(input.subarray(at, at + 16));
    cipher.final();
    copyInto(result, out, outAt);
  },
  aes256CbcEncrypt(key, iv, data, at, length, out, outAt) {
    cbc(false, key, iv, data, at, length, out, outAt);
  },
  aes256CbcDecrypt(key, iv, data, at, length, out, outAt) {
    cbc(true, key, iv, data, at, length, out, outAt);
  },
  sha256(data, at, length, out, outAt) {
    copyInto(
      createHash("sha256")
        .update(data.subarray(at, at + length))
        .digest(),
      out,
      outAt,
    );
  },
};
