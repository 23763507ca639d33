// The four block operations the v2 profile needs, injected so the engine stays pure: the
// desktop passes node:crypto (server/crypto-v2.ts), the device passes Espruino's native
// `crypto` module (firmware/crypto-v2.ts), the simulator gets the latter on its aes-js fake.
//
// Every operation reads `length` bytes at `at` and writes its result into the caller's
// buffer at `outAt`; `out`/`outAt` may equal the input (in place). Keys are 32-byte arrays.
// No padding anywhere: lengths are whole AES blocks, the record layer pads.

export interface V2Primitives {
  /** out[outAt .. +16) = AES-256-ECB-encrypt(key, input[at .. +16)). Derives record IVs. */
  aes256EcbEncryptBlock(key: Uint8Array, input: Uint8Array, at: number, out: Uint8Array, outAt: number): void;
  /** AES-256-CBC encryption of `length` bytes (a multiple of 16) with a 16-byte IV, no padding. */
  aes256CbcEncrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array, at: number, length: number, out: Uint8Array, outAt: number): void;
  /** AES-256-CBC decryption of `length` bytes (a multiple of 16) with a 16-byte IV, no padding. */
  aes256CbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array, at: number, length: number, out: Uint8Array, outAt: number): void;
  /** out[outAt .. +32) = SHA-256(data[at .. at + length)). */
  sha256(data: Uint8Array, at: number, length: number, out: Uint8Array, outAt: number): void;
}
