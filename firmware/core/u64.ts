// 64-bit unsigned values as (hi, lo) pairs of u32: Espruino has no BigInt, and the
// handshake needs num1 + num2 (mod 2^64) and num1 ^ num2.
//
// Results are written into a caller's Uint32Array at [at] = hi, [at + 1] = lo, so the
// handshake allocates no pair objects; the Uint32Array store does the final wrap.

/** out[at..at+1] = (aHi,aLo) + (bHi,bLo) mod 2^64. Inputs are u32 (0..2^32-1). */
export function add64(aHi: number, aLo: number, bHi: number, bLo: number, out: Uint32Array, at: number): void {
  const lo = (aLo >>> 0) + (bLo >>> 0); // exact: below 2^33
  out[at + 1] = lo;
  out[at] = (aHi >>> 0) + (bHi >>> 0) + (lo > 0xffffffff ? 1 : 0);
}

/** out[at..at+1] = (aHi,aLo) ^ (bHi,bLo). */
export function xor64(aHi: number, aLo: number, bHi: number, bLo: number, out: Uint32Array, at: number): void {
  out[at] = aHi ^ bHi;
  out[at + 1] = aLo ^ bLo;
}

/** True when both pairs hold the same 64-bit value. */
export function equal64(aHi: number, aLo: number, bHi: number, bLo: number): boolean {
  return aHi >>> 0 === bHi >>> 0 && aLo >>> 0 === bLo >>> 0;
}
