// Cryptographic randomness for the core (nonces, numbers, session keys, padding), from
// node:crypto only. A message needs a few padding bytes and a handshake a few dozen, so
// asking OpenSSL each time costs more than the bytes: a small pool is refilled in one call
// and handed out piecewise. Handed-out bytes are zeroed in the pool so a session key drawn
// from it does not linger there.

import { randomFillSync, randomInt } from "node:crypto";
import type { RandomFill } from "../firmware/core/index.js";

const POOL_SIZE = 4096;
/** Requests larger than this bypass the pool (they would drain it for one caller). */
const DIRECT_THRESHOLD = 256;
const pool = new Uint8Array(POOL_SIZE);
let used = POOL_SIZE;

export const nodeRandom: RandomFill = (buf: Uint8Array, at: number, length: number): void => {
  if (length > DIRECT_THRESHOLD) {
    randomFillSync(buf, at, length);
    return;
  }
  if (used + length > POOL_SIZE) {
    randomFillSync(pool);
    used = 0;
  }
  for (let i = 0; i < length; i++) {
    buf[at + i] = pool[used + i];
    pool[used + i] = 0;
  }
  used += length;
};

/** A uniform fraction in [0, 1) for backoff jitter: not secret, but from the same source by rule. */
export function randomFraction(): number {
  return randomInt(0, 0x1000000) / 0x1000000;
}
