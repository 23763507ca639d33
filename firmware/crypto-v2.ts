// The v2 profile's primitives on Espruino's native `crypto` module (ESPRUINO.md §6), for the
// device. Espruino 2v29 runs AES-ECB and AES-CBC natively (mbedtls; on the ESP32 the IDF's),
// takes Uint8Array views with an offset as input, returns every result as a new ArrayBuffer,
// pads nothing, and prints an error and returns undefined instead of throwing. Its CTR mode
// ignores the IV, so v2 never uses it.
//
// Per record this means: data record sent or received = 1 ECB (IV) + 1 CBC + 2 SHA256 native
// calls; keep-alive/disconnect = 2 SHA256. Each call allocates its result ArrayBuffer (plus the
// subarray view of its input): the platform forces that, the engine allocates nothing else.
// Written to ES5-safe rules: plain functions and loops, no spread or typed-array `set` (which
// silently truncates on Espruino), no classes.

import type { V2Primitives } from "./core/v2/primitives.js";

type Bytes = Uint8Array | ArrayBuffer | string | number[];

/** The part of `require("crypto")` v2 uses. */
export interface EspruinoCryptoModule {
  AES: {
    encrypt(message: Bytes, key: Bytes, options?: { mode?: string; iv?: Bytes }): ArrayBuffer | undefined;
    decrypt(message: Bytes, key: Bytes, options?: { mode?: string; iv?: Bytes }): ArrayBuffer | undefined;
  };
  SHA256(message: Bytes): ArrayBuffer | undefined;
}

function copyResult(result: ArrayBuffer | undefined, expected: number, what: string, out: Uint8Array, outAt: number): void {
  if (!result || result.byteLength !== expected) throw new Error("crypto." + what + " failed (Espruino printed the cause above)");
  const bytes = new Uint8Array(result);
  for (let i = 0; i < expected; i++) out[outAt + i] = bytes[i];
}

/**
 * Primitives on `cryptoModule`, which defaults to the device's `require("crypto")`; tests pass a
 * stand-in with Espruino's semantics.
 */
export function createEspruinoPrimitives(cryptoModule?: EspruinoCryptoModule): V2Primitives {
  const crypto: EspruinoCryptoModule = cryptoModule || (require("crypto") as EspruinoCryptoModule);
  const AES = crypto.AES;
  const ECB = { mode: "ECB" };
  return {
    aes256EcbEncryptBlock: function (key: Uint8Array, input: Uint8Array, at: number, out: Uint8Array, outAt: number): void {
      copyResult(AES.encrypt(input.subarray(at, at + 16), key, ECB), 16, "AES ECB", out, outAt);
    },
    aes256CbcEncrypt: function (key: Uint8Array, iv: Uint8Array, data: Uint8Array, at: number, length: number, out: Uint8Array, outAt: number): void {
      copyResult(AES.encrypt(data.subarray(at, at + length), key, { mode: "CBC", iv: iv }), length, "AES CBC encrypt", out, outAt);
    },
    aes256CbcDecrypt: function (key: Uint8Array, iv: Uint8Array, data: Uint8Array, at: number, length: number, out: Uint8Array, outAt: number): void {
      copyResult(AES.decrypt(data.subarray(at, at + length), key, { mode: "CBC", iv: iv }), length, "AES CBC decrypt", out, outAt);
    },
    sha256: function (data: Uint8Array, at: number, length: number, out: Uint8Array, outAt: number): void {
      copyResult(crypto.SHA256(data.subarray(at, at + length)), 32, "SHA256", out, outAt);
    },
  };
}
