// One seed decides every input the tests make up: fast-check's properties and the random-looking
// bytes tests build packets, keys and payloads from. A run is therefore repeatable: the default
// seed is fixed, `LWSTCP_SEED=<n>` picks another, `LWSTCP_SEED=random` draws one and prints it.
// A failing test prints the seed, and fast-check's own failure message names it beside the shrunk
// counterexample; `LWSTCP_SEED=<that seed>` runs the same inputs again.
//
// Mocha loads this file first (.mocharc.json "require"), so the hooks below apply to every test
// file without each one opting in. Randomness the product draws for itself (session keys,
// nonces, padding from node:crypto) stays real: it is what is under test, not an input.

import { createHash, randomInt } from "node:crypto";
import fc from "fast-check";

/** The seed when LWSTCP_SEED is not set. */
export const DEFAULT_SEED = 42;

/** Reads LWSTCP_SEED: unset or empty gives the default, "random" a fresh one, else a 32-bit signed integer. */
export function parseSeed(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return DEFAULT_SEED;
  const text = raw.trim();
  if (text === "random") return randomInt(0, 2 ** 31 - 1);
  // fast-check reduces a seed to a signed 32-bit integer and prints that, so only such a seed
  // reads back the same from a failure message.
  if (!/^-?\d+$/.test(text) || Number(text) < -(2 ** 31) || Number(text) > 2 ** 31 - 1) {
    throw new Error(`LWSTCP_SEED must be an integer from -2147483648 to 2147483647, or "random"; got "${raw}"`);
  }
  return Number(text);
}

/** This run's seed. */
export const SEED = parseSeed(process.env.LWSTCP_SEED);

/** Every fc.assert of this run starts from SEED (a test's own numRuns and the like still apply). */
fc.configureGlobal({ seed: SEED });

/** A deterministic byte stream: SHA-256 over (seed, label, block counter). */
class ByteStream {
  private block = Buffer.alloc(0);
  private used = 0;
  private counter = 0;

  constructor(private readonly label: string) {}

  take(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) {
      if (this.used === this.block.length) {
        this.block = createHash("sha256")
          .update(`${SEED}\0${this.label}\0${this.counter++}`)
          .digest();
        this.used = 0;
      }
      out[i] = this.block[this.used++];
    }
    return out;
  }
}

let stream = new ByteStream("module load");

/**
 * `length` bytes of test input from this run's seed. Each test draws from its own stream, keyed
 * by its full title, so running one test alone (mocha --grep) gives it the same bytes as a whole run.
 */
export function testBytes(length: number): Buffer {
  return stream.take(length);
}

/** `length` bytes fixed by the seed and `label` alone, for values made once when a module loads. */
export function seededBytes(label: string, length: number): Buffer {
  return new ByteStream("label " + label).take(length);
}

/** A 256-bit key from the seed, as 8 u32 words, for tests that play a peer with a key of its own. */
export function testKeyWords(): Uint32Array {
  return new Uint32Array(Uint8Array.from(testBytes(32)).buffer);
}

let announced = false;

/** Mocha root hooks (loaded through .mocharc.json). */
export const mochaHooks = {
  beforeAll(): void {
    if (announced) return;
    announced = true;
    const how = process.env.LWSTCP_SEED === "random" ? " (drawn at random)" : process.env.LWSTCP_SEED ? "" : " (the default)";
    console.error(`test inputs: LWSTCP_SEED=${SEED}${how}`);
  },
  beforeEach(this: Mocha.Context): void {
    stream = new ByteStream("test " + (this.currentTest ? this.currentTest.fullTitle() : ""));
  },
  afterEach(this: Mocha.Context): void {
    const test = this.currentTest;
    if (test && test.state === "failed") {
      console.error(`\n"${test.fullTitle()}" failed with LWSTCP_SEED=${SEED}; set LWSTCP_SEED=${SEED} to run it on the same inputs`);
    }
  },
};
