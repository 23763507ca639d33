// The argument check shared by both forms of the XTEA block routines (xtea-blocks.ts for V8,
// xtea-blocks-device.ts for Espruino): done once per call, so the block loops carry no checks.

import { BLOCK_SIZE } from "./constants.js";

export function checkBlockRange(buf: Uint8Array, offset: number, length: number): void {
  if (length % BLOCK_SIZE !== 0 || offset < 0 || offset + length > buf.length) {
    throw new Error("XTEA needs whole 8-byte blocks inside the buffer, got offset " + offset + ", length " + length);
  }
}
