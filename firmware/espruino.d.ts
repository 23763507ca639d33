// The Espruino globals the device layer uses (docs/ESPRUINO.md §4). Node's own typings
// already declare require, process and the timers; these are the ones Node lacks. Node-side
// tests install stand-ins on globalThis before calling code that reaches them.

/** Espruino's utility object. */
declare const E: {
  /** A binary string (one char per byte) from typed arrays, arrays, numbers and strings; undefined when it cannot be allocated. */
  toString(...data: unknown[]): string | undefined;
  /** Bytes from a binary string or the other inputs toString accepts. */
  toUint8Array(...data: unknown[]): Uint8Array;
  /** An ArrayBuffer over a string's own bytes: a view of the string, not a copy. */
  toArrayBuffer(text: string): ArrayBuffer;
  /** A 31-bit number from Espruino's software generator: fixed seed on ESP32, never a secret. */
  hwRand(): number;
};

/** Reads a 32-bit word of the chip's address space (memory-mapped registers). */
declare function peek32(address: number): number;
