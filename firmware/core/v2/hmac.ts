// HMAC-SHA256 (RFC 2104) built from a one-shot SHA-256, because Espruino's `crypto` module
// has SHA256 but no HMAC. The key's inner and outer pads are computed once per key, so a MAC
// costs exactly two SHA-256 calls: SHA256(ipad ‖ message) and SHA256(opad ‖ inner digest).
// A one-shot hash cannot resume from a saved pad state, so the pad bytes must sit in front of
// the message: macWithHeadroom() writes them into 64 spare bytes the caller keeps before the
// message (the record buffers do, see RECORD_AT), and mac() copies short inputs into its own
// scratch for the handshake.

import { copyBytes } from "../bytes.js";
import { HMAC_BLOCK_SIZE, SHA256_SIZE } from "./constants.js";
import type { V2Primitives } from "./primitives.js";

const IPAD = 0x36;
const OPAD = 0x5c;

export class Hmac {
  private readonly primitives: V2Primitives;
  private readonly ipad = new Uint8Array(HMAC_BLOCK_SIZE);
  /** opad ‖ inner digest: the whole input of the outer hash, so it is never assembled per call. */
  private readonly outer = new Uint8Array(HMAC_BLOCK_SIZE + SHA256_SIZE);
  private scratch: Uint8Array;

  constructor(primitives: V2Primitives, key?: Uint8Array, at?: number, length?: number) {
    this.primitives = primitives;
    this.scratch = new Uint8Array(HMAC_BLOCK_SIZE * 2);
    if (key) this.setKey(key, at || 0, length === undefined ? key.length - (at || 0) : length);
  }

  /** Sets the key `key[at .. at + length)`: a key longer than the 64-byte block is hashed first (RFC 2104). */
  setKey(key: Uint8Array, at: number, length: number): void {
    const ipad = this.ipad;
    const outer = this.outer;
    ipad.fill(0);
    if (length > HMAC_BLOCK_SIZE) this.primitives.sha256(key, at, length, ipad, 0);
    else copyBytes(key, at, ipad, 0, length);
    for (let i = 0; i < HMAC_BLOCK_SIZE; i++) {
      outer[i] = ipad[i] ^ OPAD;
      ipad[i] ^= IPAD;
    }
  }

  /**
   * out[outAt .. +32) = HMAC(key, buf[at .. at + length)). Overwrites buf[at - 64 .. at) with the
   * inner pad: the caller keeps those 64 bytes free (at >= 64). No copy of the message, no allocation.
   */
  macWithHeadroom(buf: Uint8Array, at: number, length: number, out: Uint8Array, outAt: number): void {
    const start = at - HMAC_BLOCK_SIZE;
    const ipad = this.ipad;
    copyBytes(ipad, 0, buf, start, HMAC_BLOCK_SIZE);
    this.primitives.sha256(buf, start, HMAC_BLOCK_SIZE + length, this.outer, HMAC_BLOCK_SIZE);
    this.primitives.sha256(this.outer, 0, HMAC_BLOCK_SIZE + SHA256_SIZE, out, outAt);
  }

  /** out[outAt .. +32) = HMAC(key, data[at .. at + length)), copying the message (handshake and tests). */
  mac(data: Uint8Array, at: number, length: number, out: Uint8Array, outAt: number): void {
    if (HMAC_BLOCK_SIZE + length > this.scratch.length) this.scratch = new Uint8Array(HMAC_BLOCK_SIZE + length);
    const scratch = this.scratch;
    copyBytes(data, at, scratch, HMAC_BLOCK_SIZE, length);
    this.macWithHeadroom(scratch, HMAC_BLOCK_SIZE, length, out, outAt);
    scratch.fill(0);
  }

  /** Forgets the key (the pads are the key in disguise). */
  wipe(): void {
    this.ipad.fill(0);
    this.outer.fill(0);
    this.scratch.fill(0);
  }
}

/**
 * True when a[aAt .. +length) equals b[bAt .. +length). Looks at every byte whatever it finds
 * (no early exit), so the time taken does not tell an attacker how many leading bytes of a
 * forged tag or proof were right.
 */
export function equalConstantTime(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number, length: number): boolean {
  let diff = 0;
  for (let i = 0; i < length; i++) diff |= a[aAt + i] ^ b[bAt + i];
  return diff === 0;
}
