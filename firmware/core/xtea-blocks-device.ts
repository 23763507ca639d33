// XTEA256 block routines tuned for Espruino, which interprets the source text: the cost of a
// block is the number of tokens lexed and operations evaluated, so every one is counted
// (bench/device-ops.mjs counts them per block). The firmware build (rollup.config.mjs)
// substitutes this module for xtea-blocks.ts; test/core-xtea-device.test.ts holds it to the
// same vectors and reference as the V8 form, and the bundle is run in host-sim.
//
// - The round keys come from the per-key schedule: no `sum`, no key indexing per round.
// - Values accumulate with `+=` and are never wrapped inside the block: they stay exact
//   integers (|v| < 2^40 after 128 rounds, far below 2^53), shifts and xors read them
//   modulo 2^32 (ToInt32, which Espruino follows below 2^63, ESPRUINO.md §3), and the byte
//   stores into the Uint8Array wrap them. This saves `(… ) | 0` on every half-round — and is
//   ≈ 5× slower on V8, where values leave int32; hence the two forms.
// - `s[i++]` reads the schedule and steps the index in one operation; bytes are read with
//   `buf[p++]` and written back with `buf[--p]`, so no `p + k` additions.
// - Locals only, no calls or property lookups in the loops; Rollup + terser shorten names.
// - One function serves both directions (a test per block, none per round), so the bundle
//   carries the block load and store once.

import { BLOCK_SIZE } from "./constants.js";
import type { KeySchedule } from "./xtea.js";

/** The Storage module "lwstcp-xtea" (scripts/xtea-unrolled.mjs): the 32-round cipher written out. */
interface UnrolledXtea {
  readonly unrolledRounds: number;
  cipher(words: Uint32Array, buf: Uint8Array, offset: number, length: number, decrypt: boolean): void;
}

/**
 * lwstcp-xtea when the board has it (`npm run flash` uploads it), else undefined and the loop
 * below does all the work: ≈ 1.4× slower a block, 3.7 KB less flash. Espruino's require
 * throws for a missing module; so does the absent `require` of an ES module on Node. The module
 * is not checked further (the library has a few bytes left under its gate): one without
 * `unrolledRounds` is never used, one without `cipher` fails each connection with a TypeError.
 */
const unrolled: UnrolledXtea | undefined = loadUnrolled();

function loadUnrolled(): UnrolledXtea | undefined {
  try {
    return require("lwstcp-xtea") as UnrolledXtea;
  } catch (_) {
    return undefined;
  }
}

/** Encrypts `length` bytes (whole blocks) of `buf` from `offset`, in place. */
export function encryptBlocks(schedule: KeySchedule, buf: Uint8Array, offset: number, length: number): void {
  cipherBlocks(schedule, buf, offset, length, false);
}

/** Decrypts `length` bytes (whole blocks) of `buf` from `offset`, in place. */
export function decryptBlocks(schedule: KeySchedule, buf: Uint8Array, offset: number, length: number): void {
  cipherBlocks(schedule, buf, offset, length, true);
}

/**
 * Both directions in one function, so the bundle carries the block load and store once; the
 * direction costs one test per block, none per round.
 *
 * A long range is ciphered a segment at a time in a small buffer. Espruino keeps a typed
 * array's bytes contiguous ("flat") only when its heap has that many blocks free in one run;
 * otherwise the bytes are a chain of blocks and every buf[i] walks it from the start, so a
 * 64 KB message in a heap as full as a session's costs the cipher ≈ 3 ms a block at its end
 * against 0.2–0.5 ms at its start (docs/PERFORMANCE.md). The native copies in and out walk the
 * chain once per segment.
 */
function cipherBlocks(schedule: KeySchedule, buf: Uint8Array, offset: number, length: number, decrypt: boolean): void {
  // xtea-range.ts's check, written out: with one caller left, terser would inline the helper as
  // a function expression, which Espruino would create anew on every call.
  if (length % BLOCK_SIZE !== 0 || offset < 0 || offset + length > buf.length) {
    throw new Error("XTEA needs whole 8-byte blocks inside the buffer, got offset " + offset + ", length " + length);
  }
  // The loop is a function of its own: skipping its text and declaring its variables here cost
  // Espruino a tenth of a block on every call lwstcp-xtea serves.
  if (unrolled && schedule.words.length === 2 * unrolled.unrolledRounds) unrolled.cipher(schedule.words, buf, offset, length, decrypt);
  else loopCipher(schedule, buf, offset, length, decrypt);
}

/** The library's own cipher (no lwstcp-xtea, or another number of rounds); the range is checked. */
function loopCipher(schedule: KeySchedule, buf: Uint8Array, offset: number, length: number, decrypt: boolean): void {
  const end = offset + length;
  // The in-place loop first: Espruino finds a local by scanning the function's variables in the
  // order they were made (terser declares them in source order), so the loop's come first.
  // 512: the longest range ciphered in place; a longer one goes through a buffer this long
  // (a literal: a module constant would cost a scope search per call).
  if (length <= 512) {
    const s = schedule.words;
    const n = s.length;
    for (let p = offset; p < end; p += 8) {
      let v0 = buf[p++] | (buf[p++] << 8) | (buf[p++] << 16) | (buf[p++] << 24);
      let v1 = buf[p++] | (buf[p++] << 8) | (buf[p++] << 16) | (buf[p++] << 24);
      if (decrypt) {
        for (let i = n; i; ) {
          v1 -= (((v0 << 4) ^ (v0 >>> 5)) + v0) ^ s[--i];
          v0 -= (((v1 << 4) ^ (v1 >>> 5)) + v1) ^ s[--i];
        }
      } else {
        for (let i = 0; i < n; ) {
          v0 += (((v1 << 4) ^ (v1 >>> 5)) + v1) ^ s[i++];
          v1 += (((v0 << 4) ^ (v0 >>> 5)) + v0) ^ s[i++];
        }
      }
      buf[--p] = v1 >> 24;
      buf[--p] = v1 >> 16;
      buf[--p] = v1 >> 8;
      buf[--p] = v1;
      buf[--p] = v0 >> 24;
      buf[--p] = v0 >> 16;
      buf[--p] = v0 >> 8;
      buf[--p] = v0;
    }
    return;
  }
  const segment = new Uint8Array(512);
  for (let at = offset; at < end; at += 512) {
    const count = Math.min(512, end - at);
    segment.set(buf.subarray(at, at + count));
    loopCipher(schedule, segment, 0, count, decrypt);
    buf.set(segment.subarray(0, count), at);
  }
}
