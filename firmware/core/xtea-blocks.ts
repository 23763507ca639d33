// XTEA256 block routines tuned for V8 (the desktop server and client). In place, whole
// blocks, nothing allocated. Same output as xtea-blocks-device.ts, the Espruino form.
//
// Every half-round depends on the one before, so a single block is a chain of dependent
// instructions and the CPU waits on each. ECB blocks are independent, so two blocks are
// enciphered side by side: the two chains overlap, and each schedule word is loaded once for
// both. On Node 20 this ran ≈ 1.6× the one-block loop (bench/xtea.mjs). Values stay int32
// (`| 0` after each add): letting them grow as doubles, as the Espruino form does, is ≈ 5×
// slower on V8.

import type { KeySchedule } from "./xtea.js";
import { checkBlockRange } from "./xtea-range.js";

/** Encrypts `length` bytes (whole blocks) of `buf` from `offset`, in place. */
export function encryptBlocks(schedule: KeySchedule, buf: Uint8Array, offset: number, length: number): void {
  checkBlockRange(buf, offset, length);
  const s = schedule.words;
  const n = s.length;
  const end = offset + length;
  let p = offset;
  for (; p + 16 <= end; p += 16) {
    let a0 = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
    let a1 = buf[p + 4] | (buf[p + 5] << 8) | (buf[p + 6] << 16) | (buf[p + 7] << 24);
    let b0 = buf[p + 8] | (buf[p + 9] << 8) | (buf[p + 10] << 16) | (buf[p + 11] << 24);
    let b1 = buf[p + 12] | (buf[p + 13] << 8) | (buf[p + 14] << 16) | (buf[p + 15] << 24);
    for (let i = 0; i < n; i += 2) {
      const k0 = s[i];
      a0 = (a0 + ((((a1 << 4) ^ (a1 >>> 5)) + a1) ^ k0)) | 0;
      b0 = (b0 + ((((b1 << 4) ^ (b1 >>> 5)) + b1) ^ k0)) | 0;
      const k1 = s[i + 1];
      a1 = (a1 + ((((a0 << 4) ^ (a0 >>> 5)) + a0) ^ k1)) | 0;
      b1 = (b1 + ((((b0 << 4) ^ (b0 >>> 5)) + b0) ^ k1)) | 0;
    }
    storeBlock(buf, p, a0, a1);
    storeBlock(buf, p + 8, b0, b1);
  }
  if (p < end) {
    let v0 = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
    let v1 = buf[p + 4] | (buf[p + 5] << 8) | (buf[p + 6] << 16) | (buf[p + 7] << 24);
    for (let i = 0; i < n; i += 2) {
      v0 = (v0 + ((((v1 << 4) ^ (v1 >>> 5)) + v1) ^ s[i])) | 0;
      v1 = (v1 + ((((v0 << 4) ^ (v0 >>> 5)) + v0) ^ s[i + 1])) | 0;
    }
    storeBlock(buf, p, v0, v1);
  }
}

/** Decrypts `length` bytes (whole blocks) of `buf` from `offset`, in place. */
export function decryptBlocks(schedule: KeySchedule, buf: Uint8Array, offset: number, length: number): void {
  checkBlockRange(buf, offset, length);
  const s = schedule.words;
  const last = s.length - 2;
  const end = offset + length;
  let p = offset;
  for (; p + 16 <= end; p += 16) {
    let a0 = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
    let a1 = buf[p + 4] | (buf[p + 5] << 8) | (buf[p + 6] << 16) | (buf[p + 7] << 24);
    let b0 = buf[p + 8] | (buf[p + 9] << 8) | (buf[p + 10] << 16) | (buf[p + 11] << 24);
    let b1 = buf[p + 12] | (buf[p + 13] << 8) | (buf[p + 14] << 16) | (buf[p + 15] << 24);
    for (let i = last; i >= 0; i -= 2) {
      const k1 = s[i + 1];
      a1 = (a1 - ((((a0 << 4) ^ (a0 >>> 5)) + a0) ^ k1)) | 0;
      b1 = (b1 - ((((b0 << 4) ^ (b0 >>> 5)) + b0) ^ k1)) | 0;
      const k0 = s[i];
      a0 = (a0 - ((((a1 << 4) ^ (a1 >>> 5)) + a1) ^ k0)) | 0;
      b0 = (b0 - ((((b1 << 4) ^ (b1 >>> 5)) + b1) ^ k0)) | 0;
    }
    storeBlock(buf, p, a0, a1);
    storeBlock(buf, p + 8, b0, b1);
  }
  if (p < end) {
    let v0 = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
    let v1 = buf[p + 4] | (buf[p + 5] << 8) | (buf[p + 6] << 16) | (buf[p + 7] << 24);
    for (let i = last; i >= 0; i -= 2) {
      v1 = (v1 - ((((v0 << 4) ^ (v0 >>> 5)) + v0) ^ s[i + 1])) | 0;
      v0 = (v0 - ((((v1 << 4) ^ (v1 >>> 5)) + v1) ^ s[i])) | 0;
    }
    storeBlock(buf, p, v0, v1);
  }
}

/** Writes one block's two words back, each little-endian (V8 inlines this). */
function storeBlock(buf: Uint8Array, p: number, v0: number, v1: number): void {
  buf[p] = v0;
  buf[p + 1] = v0 >>> 8;
  buf[p + 2] = v0 >>> 16;
  buf[p + 3] = v0 >>> 24;
  buf[p + 4] = v1;
  buf[p + 5] = v1 >>> 8;
  buf[p + 6] = v1 >>> 16;
  buf[p + 7] = v1 >>> 24;
}
