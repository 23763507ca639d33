// Wire constants of the authenticated v2 profile (docs/PROTOCOL-v2.md). The record layer,
// the handshake, the framer, the vector script's output and the tests all import these.
//
// v2 TYPE bytes (0x11-0x16) never overlap v1's (0x01-0x06): each profile's framer names the
// other's first packet `profile-mismatch` (../framer-core.ts unknownTypeReason).

// The v2 server's first byte and the reason both profiles give the other's first packet live
// with v1's constants: a v1 client names a first ServerHello too.
export { REASON_PROFILE_MISMATCH, TYPE_V2_SERVER_HELLO } from "../constants.js";

export const TYPE_V2_DATA = 0x11;
export const TYPE_V2_CLIENT_HELLO = 0x13;
export const TYPE_V2_SERVER_FINISHED = 0x14;
export const TYPE_V2_KEEP_ALIVE = 0x15;
export const TYPE_V2_DISCONNECT = 0x16;
/** A ClientHello that names the device: 0x17 ‖ u8(n) ‖ id ‖ Nc ‖ Pc. */
export const TYPE_V2_CLIENT_HELLO_ID = 0x17;

/** The v1 TYPE range (RegularMessage .. Disconnect): seen first, it means the peer speaks v1. */
export const FIRST_V1_TYPE = 0x01;
export const LAST_V1_TYPE = 0x06;

export const NONCE_SIZE = 16;
export const PROOF_SIZE = 16;
export const PSK_SIZE = 32;
/** AES-256 and HMAC-SHA256 keys derived by HKDF. */
export const DERIVED_KEY_SIZE = 32;
export const AES_BLOCK_SIZE = 16;
export const SHA256_SIZE = 32;
/** SHA-256 block size: HMAC pads the key to this. */
export const HMAC_BLOCK_SIZE = 64;
/** HMAC-SHA256 truncated to 128 bits. */
export const TAG_SIZE = 16;
/** The implicit sequence number as it enters the MAC and the IV block: u64 big-endian. */
export const SEQUENCE_SIZE = 8;

/** ServerHello: TYPE + Ns. */
export const SERVER_HELLO_SIZE = 1 + NONCE_SIZE;
/** ClientHello: TYPE + Nc + client proof. */
export const CLIENT_HELLO_SIZE = 1 + NONCE_SIZE + PROOF_SIZE;
/** Device ids are 1..32 bytes of printable ASCII without space (0x21..0x7E), like a host name. */
export const MAX_DEVICE_ID_LENGTH = 32;
/** ClientHello with an id, before the id: TYPE + its length byte (the framer sizes the rest from it). */
export const CLIENT_HELLO_ID_HEADER_SIZE = 2;
/** The largest ClientHello: TYPE, length, a 32-byte id, Nc and the proof. */
export const MAX_CLIENT_HELLO_SIZE = CLIENT_HELLO_ID_HEADER_SIZE + MAX_DEVICE_ID_LENGTH + NONCE_SIZE + PROOF_SIZE;
/** ServerFinished: TYPE + server proof. */
export const SERVER_FINISHED_SIZE = 1 + PROOF_SIZE;
/** Every record: TYPE + LENGTH (u16 big-endian, the plaintext length). */
export const RECORD_HEADER_SIZE = 3;
/** A keep-alive or disconnect record: header with LENGTH 0, no ciphertext, tag. */
export const CONTROL_RECORD_SIZE = RECORD_HEADER_SIZE + TAG_SIZE;
/** Same limit as v1, so an application never sees a difference between profiles. */
export const MAX_V2_MESSAGE_LENGTH = 65528;

/**
 * Where a record's TYPE byte sits inside the engine's working buffers. The 72 bytes in front
 * hold the HMAC inner pad (64) and the sequence number (8), so the MAC input
 * `ipad ‖ seq ‖ TYPE ‖ LENGTH ‖ ciphertext` is contiguous and the ciphertext is never copied.
 */
export const SEQUENCE_AT = HMAC_BLOCK_SIZE;
export const RECORD_AT = HMAC_BLOCK_SIZE + SEQUENCE_SIZE;

/** Whole AES blocks holding `length` plaintext bytes (zero padding, 0 for an empty record). */
export function ciphertextLength(length: number): number {
  return (length + 15) & ~15;
}

/** Size on the wire of a record carrying `length` plaintext bytes. */
export function recordSize(length: number): number {
  return RECORD_HEADER_SIZE + ciphertextLength(length) + TAG_SIZE;
}

/** ASCII text as bytes (labels are plain ASCII; built once at load time). */
export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

// HKDF-Expand `info` labels, one per derived key (docs/PROTOCOL-v2.md "Key schedule").
export const LABEL_C2S_ENC = "lwstcp v2 c2s enc";
export const LABEL_S2C_ENC = "lwstcp v2 s2c enc";
export const LABEL_C2S_MAC = "lwstcp v2 c2s mac";
export const LABEL_S2C_MAC = "lwstcp v2 s2c mac";
export const LABEL_CLIENT_PROOF_KEY = "lwstcp v2 client proof key";
export const LABEL_SERVER_PROOF_KEY = "lwstcp v2 server proof key";
export const LABEL_EXPORTER = "lwstcp v2 exporter";
// Prefixes of the transcript each proof MACs, so the two proofs never MAC the same bytes.
export const LABEL_CLIENT_FINISHED = "lwstcp v2 client finished";
export const LABEL_SERVER_FINISHED = "lwstcp v2 server finished";

// Failure reasons added by v2 (v1's constants.ts has the shared ones: wrong-type, bad-size,
// unknown-type, zero-length, bad-length, handshake-timeout, peer-closed, disconnect, ...).
/** The peer's handshake proof is wrong: it does not hold the pre-shared key, or the handshake was altered. */
export const REASON_PROOF_FAILED = "proof-failed";
/** A record's tag does not verify: altered, replayed, reordered, reflected, dropped before, or forged. */
export const REASON_MAC_FAILED = "mac-failed";
/**
 * The server has no key for the id the client named (or for a client without an id, when it has
 * per-device keys only). The peer sees exactly what proof-failed shows it: only the server tells them apart.
 */
export const REASON_UNKNOWN_DEVICE = "unknown-device";
/** The id in a ClientHello is not 1..32 characters 0x21..0x7E (a syntax check: it says nothing about which ids exist). */
export const REASON_BAD_DEVICE_ID = "bad-device-id";

/** Why `id` cannot be a device id, or "" when it can (1..32 characters 0x21..0x7E). */
export function deviceIdProblem(id: unknown): string {
  if (typeof id !== "string" || id.length < 1 || id.length > MAX_DEVICE_ID_LENGTH)
    return (
      "a device id must be a string of 1 to " + MAX_DEVICE_ID_LENGTH + " characters, got " + (typeof id === "string" ? id.length + " characters" : typeof id)
    );
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return "a device id may hold only printable ASCII without spaces (0x21-0x7E); character " + i + " is code " + c;
  }
  return "";
}
