// XTEA with a 256-bit key (PROTOCOL.md "Keys and the cipher"). The key schedule differs
// from classic XTEA: it indexes eight key words with `sum & 7` and `(sum >>> 11) & 7`.
//
// The `sum + k[...]` terms depend only on the key and the round, so they are computed
// once per key into a schedule; the block loop is then shifts, xors and adds on locals.
// Nothing here allocates after createKeySchedule: the hot path writes into the caller's
// buffer and returns nothing (the shape of @noble/ciphers' core functions).

import { BLOCK_SIZE, DEFAULT_ROUNDS, KEY_WORDS, MAX_ROUNDS, MIN_ROUNDS } from "./constants.js";

const DELTA = 0x9e3779b9;

export interface KeySchedule {
  readonly rounds: number;
  /** Two words per round: the addends of the v0 and the v1 half-round. */
  readonly words: Uint32Array;
}

/** Checks a round count against PROTOCOL.md (1..128) and throws a clear error otherwise. */
export function validateRounds(rounds: number): number {
  if (typeof rounds !== "number" || rounds !== Math.floor(rounds) || rounds < MIN_ROUNDS || rounds > MAX_ROUNDS) {
    throw new Error("rounds must be an integer from " + MIN_ROUNDS + " to " + MAX_ROUNDS + ", got " + rounds);
  }
  return rounds;
}

/** Expands eight key words for `rounds` rounds. Reuses `into` when it has the right size. */
export function createKeySchedule(key: Uint32Array, rounds: number = DEFAULT_ROUNDS, into?: KeySchedule): KeySchedule {
  validateRounds(rounds);
  if (key.length !== KEY_WORDS) throw new Error("an XTEA256 key is " + KEY_WORDS + " words, got " + key.length);
  const words = into && into.words.length === rounds * 2 ? into.words : new Uint32Array(rounds * 2);
  let sum = 0;
  for (let i = 0; i < words.length; i += 2) {
    words[i] = sum + key[sum & 7];
    sum = (sum + DELTA) >>> 0;
    words[i + 1] = sum + key[(sum >>> 11) & 7];
  }
  return into && into.words === words ? into : { rounds: rounds, words: words };
}

/** Overwrites the schedule so a finished session leaves no key material behind. */
export function wipeKeySchedule(schedule: KeySchedule): void {
  schedule.words.fill(0);
}

function checkRange(buf: Uint8Array, offset: number, length: number): void {
  if (length % BLOCK_SIZE !== 0 || offset < 0 || offset + length > buf.length) {
    throw new Error("XTEA works on whole 8-byte blocks inside the buffer: offset " + offset + ", length " + length);
  }
}

/** Encrypts `length` bytes (whole blocks) of `buf` from `offset`, in place. */
export function encryptBlocks(schedule: KeySchedule, buf: Uint8Array, offset: number, length: number): void {
  checkRange(buf, offset, length);
  const s = schedule.words;
  const n = s.length;
  const end = offset + length;
  for (let p = offset; p < end; p += 8) {
    let v0 = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
    let v1 = buf[p + 4] | (buf[p + 5] << 8) | (buf[p + 6] << 16) | (buf[p + 7] << 24);
    for (let i = 0; i < n; i += 2) {
      v0 = (v0 + ((((v1 << 4) ^ (v1 >>> 5)) + v1) ^ s[i])) | 0;
      v1 = (v1 + ((((v0 << 4) ^ (v0 >>> 5)) + v0) ^ s[i + 1])) | 0;
    }
    buf[p] = v0;
    buf[p + 1] = v0 >>> 8;
    buf[p + 2] = v0 >>> 16;
    buf[p + 3] = v0 >>> 24;
    buf[p + 4] = v1;
    buf[p + 5] = v1 >>> 8;
    buf[p + 6] = v1 >>> 16;
    buf[p + 7] = v1 >>> 24;
  }
}

/** Decrypts `length` bytes (whole blocks) of `buf` from `offset`, in place. */
export function decryptBlocks(schedule: KeySchedule, buf: Uint8Array, offset: number, length: number): void {
  checkRange(buf, offset, length);
  const s = schedule.words;
  const last = s.length - 2;
  const end = offset + length;
  for (let p = offset; p < end; p += 8) {
    let v0 = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
    let v1 = buf[p + 4] | (buf[p + 5] << 8) | (buf[p + 6] << 16) | (buf[p + 7] << 24);
    for (let i = last; i >= 0; i -= 2) {
      v1 = (v1 - ((((v0 << 4) ^ (v0 >>> 5)) + v0) ^ s[i + 1])) | 0;
      v0 = (v0 - ((((v1 << 4) ^ (v1 >>> 5)) + v1) ^ s[i])) | 0;
    }
    buf[p] = v0;
    buf[p + 1] = v0 >>> 8;
    buf[p + 2] = v0 >>> 16;
    buf[p + 3] = v0 >>> 24;
    buf[p + 4] = v1;
    buf[p + 5] = v1 >>> 8;
    buf[p + 6] = v1 >>> 16;
    buf[p + 7] = v1 >>> 24;
  }
}
