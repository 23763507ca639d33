// Little-endian word access on byte buffers, written out by hand: DataView is slower on
// Espruino and its out-of-range reads return 0 there instead of throwing.

export function readU32LE(buf: Uint8Array, at: number): number {
  return (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0;
}

export function writeU32LE(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value;
  buf[at + 1] = value >>> 8;
  buf[at + 2] = value >>> 16;
  buf[at + 3] = value >>> 24;
}

/** Espruino (and its simulator) define E; Node does not. */
const ON_ESPRUINO = typeof E !== "undefined";

/**
 * Copies `length` bytes; callers keep both ranges inside their buffers. On Espruino a native
 * `set` of a view: a byte loop there costs about 17,000 interpreter instructions per byte, the
 * whole `set` of a few bytes about 35,000 (docs/PERFORMANCE.md). On V8 a plain loop, which
 * allocates nothing (the view would be an allocation per call).
 */
export function copyBytes(src: Uint8Array, srcAt: number, dst: Uint8Array, dstAt: number, length: number): void {
  if (ON_ESPRUINO) dst.set(src.subarray(srcAt, srcAt + length), dstAt);
  else for (let i = 0; i < length; i++) dst[dstAt + i] = src[srcAt + i];
}

/** Fills `buf[at..at+length)` with random bytes; cryptographic in production, recorded in tests. */
export type RandomFill = (buf: Uint8Array, at: number, length: number) => void;
