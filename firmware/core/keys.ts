// Keys and session settings as users write them, checked once with errors that name the
// problem. C++ users write a key as eight u32 words; files and flags carry 64 hex digits
// in wire order (each word little-endian); a byte array carries the same 32 bytes.

import { readU32LE } from "./bytes.js";
import { KEY_BYTES, KEY_WORDS, NO_INACTIVITY_TIMEOUT } from "./constants.js";

/** The key of the C++ library's FizzBuzz example. Public: for demos only, never for real devices. */
export const DEMO_KEY_WORDS = [0x12345678, 0x9abcdef0, 0x13572468, 0xacebdf01, 0x11223344, 0x55667788, 0x99aabbcc, 0xddeeff00];

export type KeyInput = string | Uint8Array | ArrayLike<number>;

const HEX_DIGITS = "0123456789abcdef";

function isU32(value: unknown): boolean {
  return typeof value === "number" && value >= 0 && value <= 0xffffffff && value === Math.floor(value);
}

/** Parses a 256-bit key: eight u32 words, 64 hex digits (wire order), or 32 bytes. Throws a clear error otherwise. */
export function parseKey(input: KeyInput): Uint32Array {
  const words = new Uint32Array(KEY_WORDS);
  let bytes = input;
  if (typeof input === "string") {
    const hex = input.trim().toLowerCase();
    if (hex.length !== KEY_BYTES * 2) throw new Error("a hex key must be exactly 64 hex digits, got " + hex.length + " characters");
    const parsed = new Uint8Array(KEY_BYTES);
    for (let i = 0; i < KEY_BYTES * 2; i++) {
      const digit = HEX_DIGITS.indexOf(hex.charAt(i));
      if (digit < 0) throw new Error("a hex key may contain only 0-9 and a-f; found '" + hex.charAt(i) + "' at byte " + (i >> 1));
      parsed[i >> 1] = (parsed[i >> 1] << 4) | digit;
    }
    bytes = parsed;
  }
  const isBytes = bytes instanceof Uint8Array;
  const length = bytes && typeof bytes === "object" ? bytes.length : -1;
  if (length !== (isBytes ? KEY_BYTES : KEY_WORDS)) {
    throw new Error("a key must be 8 u32 words, 64 hex digits or 32 bytes, got " + (length < 0 ? typeof input : length + (isBytes ? " bytes" : " words")));
  }
  if (isBytes) {
    for (let i = 0; i < KEY_WORDS; i++) words[i] = readU32LE(bytes as Uint8Array, i * 4);
    return words;
  }
  const given = input as ArrayLike<number>;
  for (let i = 0; i < KEY_WORDS; i++) {
    if (!isU32(given[i])) throw new Error("key word " + i + " is not an unsigned 32-bit integer: " + given[i]);
    words[i] = given[i];
  }
  return words;
}

/** The key's 64 hex digits in wire order. */
export function keyToHex(words: Uint32Array): string {
  let out = "";
  for (let i = 0; i < KEY_WORDS; i++) {
    for (let b = 0; b < 4; b++) {
      const byte = (words[i] >>> (b * 8)) & 255;
      out += HEX_DIGITS.charAt(byte >> 4) + HEX_DIGITS.charAt(byte & 15);
    }
  }
  return out;
}

/** Throws "<what> must be whole ms >= 1<alternative>, got <value>" unless value is a whole number of ms >= 1. */
function requireMs(value: number, what: string, alternative?: string): void {
  if (!(typeof value === "number" && value >= 1 && value === Math.floor(value) && value < 1e12)) {
    throw new Error(what + " must be whole ms >= 1" + (alternative || "") + ", got " + value);
  }
}

/**
 * Checks a keep-alive configuration against PROTOCOL.md: interval >= 1; timeout >= 1 or -1;
 * interval < timeout unless the timeout is -1. Throws a clear error otherwise.
 */
export function validateKeepAlive(intervalMs: number, timeoutMs: number): void {
  requireMs(intervalMs, "keep-alive interval");
  if (timeoutMs === NO_INACTIVITY_TIMEOUT) return;
  requireMs(timeoutMs, "inactivity timeout", ", or -1 to disable it");
  if (intervalMs >= timeoutMs) {
    throw new Error("keep-alive interval (" + intervalMs + " ms) must be shorter than the inactivity timeout (" + timeoutMs + " ms)");
  }
}

/** Checks a handshake timeout (whole milliseconds >= 1). */
export function validateHandshakeTimeout(timeoutMs: number): void {
  requireMs(timeoutMs, "handshake timeout");
}
