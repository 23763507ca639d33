// XTEA with a 256-bit key (docs/PROTOCOL.md "The cipher"). The key schedule differs
// from classic XTEA: it indexes eight key words with `sum & 7` and `(sum >>> 11) & 7`.
//
// The `sum + k[...]` terms depend only on the key and the round, so they are computed
// once per key into a schedule; the block loop is then shifts, xors and adds on locals.
// Nothing here allocates after createKeySchedule: the hot path writes into the caller's
// buffer and returns nothing (the shape of @noble/ciphers' core functions).

import { DEFAULT_ROUNDS, KEY_WORDS, MAX_ROUNDS, MIN_ROUNDS } from "./constants.js";

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
  if (key.length !== KEY_WORDS) throw new Error("a key is " + KEY_WORDS + " words, got " + key.length);
  // Reuse is decided by length, never by comparing the arrays: Espruino's === on two typed
  // arrays joins both into strings and compares those (docs/PERFORMANCE.md).
  const reuse = !!into && into.words.length === rounds * 2;
  const words = reuse ? (into as KeySchedule).words : new Uint32Array(rounds * 2);
  let sum = 0;
  for (let i = 0; i < words.length; ) {
    words[i++] = sum + key[sum & 7];
    sum = (sum + DELTA) >>> 0;
    words[i++] = sum + key[(sum >>> 11) & 7];
  }
  return reuse ? (into as KeySchedule) : { rounds: rounds, words: words };
}

/** Overwrites the schedule so a finished session leaves no key material behind. */
export function wipeKeySchedule(schedule: KeySchedule): void {
  schedule.words.fill(0);
}

// The block routines come in two forms with identical output, each tuned for its engine:
// xtea-blocks.ts for V8 (the desktop, and what tests and the core import), and
// xtea-blocks-device.ts for Espruino, which the firmware build (rollup.config.mjs)
// substitutes for it. test/core-xtea-device.test.ts holds both to the same vectors.
export { decryptBlocks, encryptBlocks } from "./xtea-blocks.js";
