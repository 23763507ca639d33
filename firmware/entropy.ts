// Randomness for keys, nonces, padding and reconnect jitter.
//
// On ESP32 builds of Espruino, E.hwRand() and Math's random() come from a software generator
// with a fixed seed (ESPRUINO.md §4): every boot repeats the same numbers, so a device server
// would hand out predictable session keys. The chip has a true RNG register (random while the
// radio is on); we read it with peek32. Each read is mixed into a small pool together with the
// previous output, so a weak or repeated read (radio off) still does not repeat the output
// stream, and a good read makes the output unpredictable. Without a known register we fall
// back to E.hwRand() and say loudly that the keys are predictable. Never Math's random().

import type { RandomFill } from "./core/bytes.js";

export interface EntropyPool {
  /** Fills buf[at .. at + length) with random bytes. */
  fill: RandomFill;
  /** One random u32. */
  word(): number;
  /** "register" when reading the hardware RNG, "hwRand" on the fallback. */
  source: string;
}

const POOL_WORDS = 8;

/**
 * @param registerAddress the board's RNG register (boards/*.json `lwstcp.rngRegister`), or undefined
 * @param warn where the fallback warning goes (console.log on the device)
 */
export function createEntropyPool(registerAddress: number | undefined, warn: (text: string) => void): EntropyPool {
  const pool = new Uint32Array(POOL_WORDS);
  let slot = 0;
  let read: () => number;
  if (registerAddress) {
    read = function () {
      return peek32(registerAddress);
    };
  } else {
    warn("lwstcp: WARNING: no hardware RNG known; using E.hwRand(), a fixed-seed generator: keys are PREDICTABLE");
    read = function () {
      // hwRand gives 31 bits; two reads fill all 32.
      return E.hwRand() ^ (E.hwRand() << 1);
    };
  }

  function word(): number {
    const previous = pool[slot];
    slot = (slot + 1) & (POOL_WORDS - 1);
    // Add-rotate-xor of the fresh read, the previous output and this slot's history.
    let x = (pool[slot] ^ read()) >>> 0;
    x = (x + ((previous << 13) | (previous >>> 19))) >>> 0;
    x = (x ^ (x >>> 16)) >>> 0;
    pool[slot] = x;
    return x;
  }

  // Fill the pool once so the first outputs already depend on several reads.
  for (let i = 0; i < POOL_WORDS; i++) word();

  function fill(buf: Uint8Array, at: number, length: number): void {
    let w = 0;
    for (let i = 0; i < length; i++) {
      if ((i & 3) === 0) w = word();
      buf[at + i] = w;
      w >>>= 8;
    }
  }

  return { fill: fill, word: word, source: registerAddress ? "register" : "hwRand" };
}
