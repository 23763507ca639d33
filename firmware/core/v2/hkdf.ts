// HKDF-SHA256 (RFC 5869) on the injected primitives. The v2 handshake runs Extract once and
// Expand once per derived key; tests check both against node:crypto's hkdfSync.

import { copyBytes } from "../bytes.js";
import { SHA256_SIZE } from "./constants.js";
import { Hmac } from "./hmac.js";
import type { V2Primitives } from "./primitives.js";

/** HKDF-Extract: PRK = HMAC(salt, ikm), written to out[outAt .. +32). An empty salt means 32 zero bytes. */
export function hkdfExtract(
  primitives: V2Primitives,
  salt: Uint8Array,
  saltAt: number,
  saltLength: number,
  ikm: Uint8Array,
  ikmAt: number,
  ikmLength: number,
  out: Uint8Array,
  outAt: number,
): void {
  const hmac = saltLength > 0 ? new Hmac(primitives, salt, saltAt, saltLength) : new Hmac(primitives, new Uint8Array(SHA256_SIZE));
  hmac.mac(ikm, ikmAt, ikmLength, out, outAt);
  hmac.wipe();
}

/**
 * HKDF-Expand: `length` bytes (at most 255 × 32) of OKM for `info`, from `prk` (an Hmac keyed
 * with the PRK), written to out[outAt ..]. T(i) = HMAC(PRK, T(i-1) ‖ info ‖ i).
 */
export function hkdfExpand(prk: Hmac, info: Uint8Array, length: number, out: Uint8Array, outAt: number): void {
  if (length > 255 * SHA256_SIZE) throw new Error("HKDF-Expand: at most " + 255 * SHA256_SIZE + " bytes, asked for " + length);
  // T(i-1) ‖ info ‖ counter; T(0) is empty, so the first block starts after the digest slot.
  const input = new Uint8Array(SHA256_SIZE + info.length + 1);
  const block = new Uint8Array(SHA256_SIZE);
  copyBytes(info, 0, input, SHA256_SIZE, info.length);
  let done = 0;
  for (let counter = 1; done < length; counter++) {
    input[SHA256_SIZE + info.length] = counter;
    if (counter === 1) prk.mac(input, SHA256_SIZE, info.length + 1, block, 0);
    else prk.mac(input, 0, input.length, block, 0);
    copyBytes(block, 0, input, 0, SHA256_SIZE);
    const take = Math.min(SHA256_SIZE, length - done);
    copyBytes(block, 0, out, outAt + done, take);
    done += take;
  }
  input.fill(0);
  block.fill(0);
}
