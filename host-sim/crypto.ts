// require("crypto") and the global AES as Espruino 2v29 has them (ESPRUINO.md §6): results are
// ArrayBuffers, no padding, CBC with a zero IV by default, CTR ignores the IV, CFB is CFB-8, CTR and
// CFB *decrypt* use the decryption key schedule in the encrypt direction (broken on Linux), and most
// errors are printed with undefined returned instead of thrown.
import { createHash, pbkdf2Sync } from "node:crypto";
import aesjs from "aes-js";
import type { DeviceCore } from "./core.js";

const BLOCK = 16;
type BlockCipher = (block: Uint8Array) => Uint8Array;

/** Bytes of a message/key/iv argument: string (one byte per char), typed array view, ArrayBuffer or array. */
export function bytesOf(value: unknown): Uint8Array {
  if (typeof value === "string") return Uint8Array.from(value, (c) => c.charCodeAt(0) & 0xff);
  if (ArrayBuffer.isView(value)) {
    const view = value as ArrayBufferView;
    if (Object.prototype.toString.call(view) === "[object DataView]") {
      return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
    }
    // Typed arrays: each element wrapped to a byte, as Espruino iterates elements (a Uint16 300 gives 44).
    return Uint8Array.from(view as unknown as ArrayLike<number>, (x) => x & 0xff);
  }
  if (value !== null && typeof value === "object" && Object.prototype.toString.call(value) === "[object ArrayBuffer]") {
    return new Uint8Array(value as ArrayBuffer).slice();
  }
  if (Array.isArray(value)) return Uint8Array.from(value, (x) => Number(x) & 0xff);
  return new Uint8Array(0);
}

/** An ArrayBuffer of the device's realm holding `bytes`. */
export function contextArrayBuffer(core: DeviceCore, bytes: Uint8Array): ArrayBuffer {
  const buffer = new core.intrinsics.ArrayBuffer(bytes.length);
  new core.intrinsics.Uint8Array(buffer).set(bytes);
  return buffer;
}

/** mbedtls_aes_crypt_ecb(ENCRYPT) run on a context whose key was set for decryption: the Linux bug. */
function encryptWithDecryptionSchedule(key: Uint8Array): BlockCipher {
  const aes = new aesjs.AES(key) as unknown as { _Ke: number[][]; _Kd: number[][]; encrypt: BlockCipher };
  aes._Ke = aes._Kd;
  return (block) => aes.encrypt(block);
}

function ctr(cipher: BlockCipher, input: Uint8Array): Uint8Array {
  const out = new Uint8Array(input.length);
  const counter = new Uint8Array(BLOCK); // starts at 0 whatever the IV (§6)
  for (let offset = 0; offset < input.length; offset += BLOCK) {
    const stream = cipher(counter);
    for (let i = 0; i < BLOCK && offset + i < input.length; i++) out[offset + i] = input[offset + i] ^ stream[i];
    for (let i = BLOCK - 1; i >= 0; i--) {
      counter[i] = (counter[i] + 1) & 0xff;
      if (counter[i] !== 0) break;
    }
  }
  return out;
}

function cfb8(cipher: BlockCipher, iv: Uint8Array, input: Uint8Array, decrypt: boolean): Uint8Array {
  const out = new Uint8Array(input.length);
  const register = new Uint8Array(BLOCK);
  register.set(iv.subarray(0, BLOCK));
  for (let i = 0; i < input.length; i++) {
    const stream = cipher(register);
    out[i] = input[i] ^ stream[0];
    register.copyWithin(0, 1);
    register[BLOCK - 1] = decrypt ? input[i] : out[i];
  }
  return out;
}

function aes(core: DeviceCore, decrypt: boolean, message: unknown, keyArg: unknown, options: unknown): ArrayBuffer | undefined {
  const key = bytesOf(keyArg);
  const opts = (options ?? {}) as { mode?: unknown; iv?: unknown };
  const mode = opts.mode === undefined ? "CBC" : String(opts.mode);
  if (!["CBC", "ECB", "CTR", "CFB", "OFB"].includes(mode)) throw new core.intrinsics.Error(`Unknown Crypto mode "${mode}"`);
  if (![16, 24, 32].includes(key.length)) {
    core.print("ERROR: Unknown error: -0x20");
    return undefined;
  }
  const input = bytesOf(message);
  const iv = new Uint8Array(BLOCK);
  if (opts.iv !== undefined) iv.set(bytesOf(opts.iv).subarray(0, BLOCK));
  const block = new aesjs.AES(key);
  let output: Uint8Array;
  switch (mode) {
    case "ECB": {
      output = new Uint8Array(input.length); // a trailing partial block stays zero
      for (let o = 0; o + BLOCK <= input.length; o += BLOCK) {
        const chunk = input.subarray(o, o + BLOCK);
        output.set(decrypt ? block.decrypt(chunk) : block.encrypt(chunk), o);
      }
      break;
    }
    case "CBC": {
      if (input.length % BLOCK !== 0) {
        core.print("ERROR: Invalid input length");
        return undefined;
      }
      output = new Uint8Array(input.length);
      let chain: Uint8Array = iv;
      for (let o = 0; o < input.length; o += BLOCK) {
        const chunk = input.slice(o, o + BLOCK);
        if (decrypt) {
          const plain = block.decrypt(chunk);
          for (let i = 0; i < BLOCK; i++) plain[i] ^= chain[i];
          output.set(plain, o);
          chain = chunk;
        } else {
          for (let i = 0; i < BLOCK; i++) chunk[i] ^= chain[i];
          chain = block.encrypt(chunk);
          output.set(chain, o);
        }
      }
      break;
    }
    case "CTR":
      output = ctr(decrypt ? encryptWithDecryptionSchedule(key) : (b) => block.encrypt(b), input);
      break;
    case "CFB":
      output = cfb8(decrypt ? encryptWithDecryptionSchedule(key) : (b) => block.encrypt(b), iv, input, decrypt);
      break;
    default:
      core.print("ERROR: Feature unavailable");
      return undefined;
  }
  return contextArrayBuffer(core, output);
}

const SHA_NAMES = { SHA1: "sha1", SHA224: "sha224", SHA256: "sha256", SHA384: "sha384", SHA512: "sha512" } as const;

/** The global AES object (also crypto.AES). */
export function createAES(core: DeviceCore): object {
  const AES = new core.intrinsics.Object() as Record<string, unknown>;
  AES.encrypt = (message: unknown, key: unknown, options: unknown) => aes(core, false, message, key, options);
  AES.decrypt = (message: unknown, key: unknown, options: unknown) => aes(core, true, message, key, options);
  return AES;
}

export function createCryptoModule(core: DeviceCore, AES: object): object {
  const module = new core.intrinsics.Object() as Record<string, unknown>;
  for (const [name, algorithm] of Object.entries(SHA_NAMES)) {
    module[name] = (data: unknown) => contextArrayBuffer(core, createHash(algorithm).update(bytesOf(data)).digest());
  }
  module.PBKDF2 = (pass: unknown, salt: unknown, options: unknown) => {
    const opts = (options ?? {}) as { keySize?: number; iterations?: number; hasher?: string };
    const hasher = SHA_NAMES[(opts.hasher ?? "SHA1") as keyof typeof SHA_NAMES];
    if (!hasher) throw new core.intrinsics.Error(`Unknown hasher ${String(opts.hasher)}`);
    const derived = pbkdf2Sync(bytesOf(pass), bytesOf(salt), opts.iterations ?? 1, (opts.keySize ?? 4) * 4, hasher);
    return contextArrayBuffer(core, derived);
  };
  module.AES = AES;
  return module;
}
