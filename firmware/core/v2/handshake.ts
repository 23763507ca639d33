// The v2 handshake as two pure state machines (docs/PROTOCOL-v2.md "Handshake"):
//
//   server                                   client
//   start() ── ServerHello 0x12: Ns ────────▶ receive(): draws Nc, derives keys,
//                                              computes the client proof
//   receive() ◀── ClientHello 0x13: Nc ‖ Pc ── (0x17 ‖ n ‖ id ‖ Nc ‖ Pc with a device id)
//   [AWAITING_KEY until resume(psk) when it was built without a PSK: the driver looks the id up]
//   derives keys, checks Pc (proof-failed; unknown-device when resume() got no key),
//   computes the server proof
//             ── ServerFinished 0x14: Ps ───▶ receive(): checks Ps (proof-failed)
//   DONE                                      DONE
//
//   T   = ServerHello ‖ ClientHello without its proof (0x12 ‖ Ns ‖ 0x13 ‖ Nc, or 0x12 ‖ Ns ‖ 0x17 ‖ n ‖ id ‖ Nc)
//   PRK = HKDF-Extract(salt = Ns ‖ Nc [‖ n ‖ id], IKM = PSK)
//   K_x = HKDF-Expand(PRK, label_x, 32) for the seven labels in constants.ts
//   Pc  = HMAC(K_client_proof, "lwstcp v2 client finished" ‖ T)[0..16)
//   Ps  = HMAC(K_server_proof, "lwstcp v2 server finished" ‖ T ‖ Pc)[0..16)
//
// Both nonces enter the keys, so neither side's RNG alone decides them; each side proves it
// holds the PSK, so a fake server fails at ServerFinished and a fake client at ClientHello.
// The id enters the salt and both proofs, so a key that is valid for another id fails.

import { copyBytes, type RandomFill } from "../bytes.js";
import { REASON_BAD_SIZE, REASON_WRONG_TYPE } from "../constants.js";
import { checkPacket } from "../framer-core.js";
import {
  asciiBytes,
  CLIENT_HELLO_ID_HEADER_SIZE,
  CLIENT_HELLO_SIZE,
  DERIVED_KEY_SIZE,
  deviceIdProblem,
  HMAC_BLOCK_SIZE,
  LABEL_C2S_ENC,
  LABEL_C2S_MAC,
  LABEL_CLIENT_FINISHED,
  LABEL_CLIENT_PROOF_KEY,
  LABEL_EXPORTER,
  LABEL_S2C_ENC,
  LABEL_S2C_MAC,
  LABEL_SERVER_FINISHED,
  LABEL_SERVER_PROOF_KEY,
  MAX_CLIENT_HELLO_SIZE,
  MAX_DEVICE_ID_LENGTH,
  NONCE_SIZE,
  PROOF_SIZE,
  PSK_SIZE,
  REASON_BAD_DEVICE_ID,
  REASON_PROOF_FAILED,
  REASON_UNKNOWN_DEVICE,
  SERVER_FINISHED_SIZE,
  SERVER_HELLO_SIZE,
  SHA256_SIZE,
  TYPE_V2_CLIENT_HELLO,
  TYPE_V2_CLIENT_HELLO_ID,
  TYPE_V2_SERVER_FINISHED,
  TYPE_V2_SERVER_HELLO,
} from "./constants.js";
import { hkdfExpand } from "./hkdf.js";
import { equalConstantTime, Hmac } from "./hmac.js";
import type { V2Primitives } from "./primitives.js";

export const V2_AWAITING_START = 0;
export const V2_AWAITING_SERVER_HELLO = 1;
export const V2_AWAITING_CLIENT_HELLO = 2;
export const V2_AWAITING_SERVER_FINISHED = 3;
export const V2_DONE = 4;
export const V2_FAILED = 5;
/** Server built without a PSK: the ClientHello is in, waiting for resume() with the key for its id. */
export const V2_AWAITING_KEY = 6;

const C2S_ENC = asciiBytes(LABEL_C2S_ENC);
const S2C_ENC = asciiBytes(LABEL_S2C_ENC);
const C2S_MAC = asciiBytes(LABEL_C2S_MAC);
const S2C_MAC = asciiBytes(LABEL_S2C_MAC);
const CLIENT_PROOF_KEY = asciiBytes(LABEL_CLIENT_PROOF_KEY);
const SERVER_PROOF_KEY = asciiBytes(LABEL_SERVER_PROOF_KEY);
const EXPORTER = asciiBytes(LABEL_EXPORTER);
const CLIENT_FINISHED = asciiBytes(LABEL_CLIENT_FINISHED);
const SERVER_FINISHED = asciiBytes(LABEL_SERVER_FINISHED);

/** Transcript: ServerHello ‖ ClientHello, i.e. 0x12 ‖ Ns ‖ 0x13 ‖ Nc ‖ Pc or 0x12 ‖ Ns ‖ 0x17 ‖ n ‖ id ‖ Nc ‖ Pc. */
const NS_AT = 1;
const CLIENT_HELLO_AT = SERVER_HELLO_SIZE;
const TRANSCRIPT_MAX = SERVER_HELLO_SIZE + MAX_CLIENT_HELLO_SIZE;
/** Longest proof input: the server label and the whole transcript. */
const PROOF_INPUT_MAX = SERVER_FINISHED.length + TRANSCRIPT_MAX;

/** Where Nc sits in a transcript whose ClientHello part is filled (after the id, when there is one). */
function ncAt(transcript: Uint8Array): number {
  return transcript[CLIENT_HELLO_AT] === TYPE_V2_CLIENT_HELLO_ID
    ? CLIENT_HELLO_AT + CLIENT_HELLO_ID_HEADER_SIZE + transcript[CLIENT_HELLO_AT + 1]
    : CLIENT_HELLO_AT + 1;
}

/** The seven 32-byte keys of one session (all zero until derived, wiped by wipe()). */
export class SessionKeysV2 {
  readonly c2sEncryption = new Uint8Array(DERIVED_KEY_SIZE);
  readonly s2cEncryption = new Uint8Array(DERIVED_KEY_SIZE);
  readonly c2sMac = new Uint8Array(DERIVED_KEY_SIZE);
  readonly s2cMac = new Uint8Array(DERIVED_KEY_SIZE);
  readonly clientProof = new Uint8Array(DERIVED_KEY_SIZE);
  readonly serverProof = new Uint8Array(DERIVED_KEY_SIZE);
  /** Not a traffic key: what the driver may show as the session's key (the v1 API has getSessionKey). */
  readonly exporter = new Uint8Array(DERIVED_KEY_SIZE);

  wipe(): void {
    this.c2sEncryption.fill(0);
    this.s2cEncryption.fill(0);
    this.c2sMac.fill(0);
    this.s2cMac.fill(0);
    this.clientProof.fill(0);
    this.serverProof.fill(0);
    this.exporter.fill(0);
  }
}

/** PRK = HKDF-Extract(Ns ‖ Nc [‖ n ‖ id], PSK), then the seven keys by HKDF-Expand with their labels. */
export function deriveSessionKeys(primitives: V2Primitives, psk: Uint8Array, transcript: Uint8Array, keys: SessionKeysV2): void {
  const nc = ncAt(transcript);
  // The id's length byte and the id (none without an id); n >= 1, so no salt with an id ends like one without.
  const idPart = nc - CLIENT_HELLO_AT - 1;
  const salt = new Uint8Array(2 * NONCE_SIZE + idPart);
  copyBytes(transcript, NS_AT, salt, 0, NONCE_SIZE);
  copyBytes(transcript, nc, salt, NONCE_SIZE, NONCE_SIZE);
  copyBytes(transcript, CLIENT_HELLO_AT + 1, salt, 2 * NONCE_SIZE, idPart);
  const prk = new Uint8Array(SHA256_SIZE);
  const extract = new Hmac(primitives, salt, 0, salt.length);
  extract.mac(psk, 0, PSK_SIZE, prk, 0);
  extract.wipe();
  const expand = new Hmac(primitives, prk, 0, SHA256_SIZE);
  hkdfExpand(expand, C2S_ENC, DERIVED_KEY_SIZE, keys.c2sEncryption, 0);
  hkdfExpand(expand, S2C_ENC, DERIVED_KEY_SIZE, keys.s2cEncryption, 0);
  hkdfExpand(expand, C2S_MAC, DERIVED_KEY_SIZE, keys.c2sMac, 0);
  hkdfExpand(expand, S2C_MAC, DERIVED_KEY_SIZE, keys.s2cMac, 0);
  hkdfExpand(expand, CLIENT_PROOF_KEY, DERIVED_KEY_SIZE, keys.clientProof, 0);
  hkdfExpand(expand, SERVER_PROOF_KEY, DERIVED_KEY_SIZE, keys.serverProof, 0);
  hkdfExpand(expand, EXPORTER, DERIVED_KEY_SIZE, keys.exporter, 0);
  expand.wipe();
  prk.fill(0);
}

/** Writes the 16-byte proof HMAC(key, label ‖ transcript[0 .. transcriptLength))[0..16) to out[outAt ..]. */
export function computeProof(
  primitives: V2Primitives,
  key: Uint8Array,
  label: Uint8Array,
  transcript: Uint8Array,
  transcriptLength: number,
  out: Uint8Array,
  outAt: number,
): void {
  const input = new Uint8Array(HMAC_BLOCK_SIZE + PROOF_INPUT_MAX);
  copyBytes(label, 0, input, HMAC_BLOCK_SIZE, label.length);
  copyBytes(transcript, 0, input, HMAC_BLOCK_SIZE + label.length, transcriptLength);
  const digest = new Uint8Array(SHA256_SIZE);
  const hmac = new Hmac(primitives, key, 0, DERIVED_KEY_SIZE);
  hmac.macWithHeadroom(input, HMAC_BLOCK_SIZE, label.length + transcriptLength, digest, 0);
  hmac.wipe();
  copyBytes(digest, 0, out, outAt, PROOF_SIZE);
  digest.fill(0);
}

/**
 * One side's handshake. One class for both roles (no `extends`: Espruino cannot run TypeScript's
 * ES5 subclassing without the prelude, and the two roles share almost all of their state).
 * The connection feeds it whole packets and sends what it writes into `out`.
 */
export class HandshakeV2 {
  state: number;
  /** Why the handshake failed; "" otherwise. */
  reason = "";
  readonly isServer: boolean;
  /** Filled when the state is V2_DONE; the connection moves them into its record directions. */
  readonly keys = new SessionKeysV2();
  private readonly primitives: V2Primitives;
  private readonly random: RandomFill;
  private readonly psk: Uint8Array | null;
  /**
   * The id the client names itself by: the client's own (null: it sends none), or, on the server,
   * the one its ClientHello carried (null until then, and for a ClientHello without an id).
   */
  deviceId: string | null;
  /** ServerHello ‖ ClientHello, filled as the packets pass. */
  private readonly transcript = new Uint8Array(TRANSCRIPT_MAX);
  private readonly proof = new Uint8Array(PROOF_SIZE);

  /**
   * `psk` null (server only): the key depends on the client's id, so after the ClientHello the
   * handshake waits in V2_AWAITING_KEY for resume(). `deviceId` (client only) is sent in the ClientHello.
   */
  constructor(isServer: boolean, primitives: V2Primitives, psk: Uint8Array | null, random: RandomFill, deviceId?: string | null) {
    if (psk ? psk.length !== PSK_SIZE : !isServer) throw new Error("the v2 pre-shared key must have 32 bytes, got " + (psk ? psk.length : "none"));
    const problem = deviceId ? deviceIdProblem(deviceId) : "";
    if (problem) throw new Error(problem);
    this.isServer = isServer;
    this.state = isServer ? V2_AWAITING_START : V2_AWAITING_SERVER_HELLO;
    this.primitives = primitives;
    this.psk = psk;
    this.random = random;
    this.deviceId = (!isServer && deviceId) || null;
  }

  /** Server only: draws Ns and writes the ServerHello into out[at ..]. Returns its size. */
  start(out: Uint8Array, at: number): number {
    if (this.state !== V2_AWAITING_START) throw new Error("v2 server handshake already started (or this is the client)");
    const transcript = this.transcript;
    transcript[0] = TYPE_V2_SERVER_HELLO;
    this.random(transcript, NS_AT, NONCE_SIZE);
    copyBytes(transcript, 0, out, at, SERVER_HELLO_SIZE);
    this.state = V2_AWAITING_CLIENT_HELLO;
    return SERVER_HELLO_SIZE;
  }

  /**
   * Takes the whole packet packet[at .. at + size). Returns the size of the reply written into
   * out[outAt ..] (0 when there is none), or -1 on failure with `reason` set and secrets wiped.
   */
  receive(packet: Uint8Array, at: number, size: number, out: Uint8Array, outAt: number): number {
    if (this.state === V2_AWAITING_SERVER_HELLO) return this.serverHello(packet, at, size, out, outAt);
    if (this.state === V2_AWAITING_CLIENT_HELLO) return this.clientHello(packet, at, size, out, outAt);
    if (this.state === V2_AWAITING_SERVER_FINISHED) return this.serverFinished(packet, at, size);
    // Includes V2_AWAITING_KEY: the client may send nothing before our ServerFinished.
    return this.fail(REASON_WRONG_TYPE);
  }

  /** Client: record Ns, draw Nc, derive the keys, answer with [the id,] Nc and the client proof. */
  private serverHello(packet: Uint8Array, at: number, size: number, out: Uint8Array, outAt: number): number {
    const problem = checkPacket(packet, at, size, TYPE_V2_SERVER_HELLO, SERVER_HELLO_SIZE);
    if (problem) return this.fail(problem);
    const transcript = this.transcript;
    copyBytes(packet, at, transcript, 0, SERVER_HELLO_SIZE);
    const id = this.deviceId;
    let nc = CLIENT_HELLO_AT + 1;
    if (id) {
      transcript[CLIENT_HELLO_AT] = TYPE_V2_CLIENT_HELLO_ID;
      transcript[CLIENT_HELLO_AT + 1] = id.length;
      for (let i = 0; i < id.length; i++) transcript[CLIENT_HELLO_AT + 2 + i] = id.charCodeAt(i);
      nc += 1 + id.length;
    } else {
      transcript[CLIENT_HELLO_AT] = TYPE_V2_CLIENT_HELLO;
    }
    this.random(transcript, nc, NONCE_SIZE);
    const pc = nc + NONCE_SIZE;
    deriveSessionKeys(this.primitives, this.psk as Uint8Array, transcript, this.keys);
    computeProof(this.primitives, this.keys.clientProof, CLIENT_FINISHED, transcript, pc, transcript, pc);
    const helloSize = pc + PROOF_SIZE - CLIENT_HELLO_AT;
    copyBytes(transcript, CLIENT_HELLO_AT, out, outAt, helloSize);
    this.state = V2_AWAITING_SERVER_FINISHED;
    return helloSize;
  }

  /** Server: take the ClientHello (and its id); with a PSK of its own, answer at once, else wait for resume(). */
  private clientHello(packet: Uint8Array, at: number, size: number, out: Uint8Array, outAt: number): number {
    const named = packet[at] === TYPE_V2_CLIENT_HELLO_ID;
    const idLength = named ? packet[at + 1] : 0;
    if (named && (idLength < 1 || idLength > MAX_DEVICE_ID_LENGTH)) return this.fail(REASON_BAD_SIZE);
    const problem = named
      ? checkPacket(packet, at, size, TYPE_V2_CLIENT_HELLO_ID, CLIENT_HELLO_ID_HEADER_SIZE + idLength + NONCE_SIZE + PROOF_SIZE)
      : checkPacket(packet, at, size, TYPE_V2_CLIENT_HELLO, CLIENT_HELLO_SIZE);
    if (problem) return this.fail(problem);
    let id = "";
    for (let i = 0; i < idLength; i++) id += String.fromCharCode(packet[at + 2 + i]);
    if (named && deviceIdProblem(id)) return this.fail(REASON_BAD_DEVICE_ID);
    this.deviceId = named ? id : null;
    copyBytes(packet, at, this.transcript, CLIENT_HELLO_AT, size);
    this.state = V2_AWAITING_KEY;
    return this.psk ? this.resume(this.psk, out, outAt) : 0;
  }

  /**
   * Server, in V2_AWAITING_KEY: checks the client proof with `psk`, the key for deviceId (null:
   * there is none), and writes the ServerFinished into out[outAt ..]. Returns its size, or -1.
   * Without a key the same derivation and proof check run on a random key, so an unknown id
   * costs what a wrong key costs and ends the same way; only `reason` differs.
   */
  resume(psk: Uint8Array | null, out: Uint8Array, outAt: number): number {
    if (this.state !== V2_AWAITING_KEY) throw new Error("v2 handshake is not waiting for a key");
    let key = psk;
    if (!key) {
      key = new Uint8Array(PSK_SIZE);
      this.random(key, 0, PSK_SIZE);
    }
    const transcript = this.transcript;
    const pc = ncAt(transcript) + NONCE_SIZE;
    deriveSessionKeys(this.primitives, key, transcript, this.keys);
    computeProof(this.primitives, this.keys.clientProof, CLIENT_FINISHED, transcript, pc, this.proof, 0);
    const verified = equalConstantTime(this.proof, 0, transcript, pc, PROOF_SIZE);
    if (!psk) {
      key.fill(0);
      return this.fail(REASON_UNKNOWN_DEVICE);
    }
    if (!verified) return this.fail(REASON_PROOF_FAILED);
    out[outAt] = TYPE_V2_SERVER_FINISHED;
    computeProof(this.primitives, this.keys.serverProof, SERVER_FINISHED, transcript, pc + PROOF_SIZE, out, outAt + 1);
    this.state = V2_DONE;
    return SERVER_FINISHED_SIZE;
  }

  /** Client: check the server proof over the whole transcript. */
  private serverFinished(packet: Uint8Array, at: number, size: number): number {
    const problem = checkPacket(packet, at, size, TYPE_V2_SERVER_FINISHED, SERVER_FINISHED_SIZE);
    if (problem) return this.fail(problem);
    const transcript = this.transcript;
    computeProof(this.primitives, this.keys.serverProof, SERVER_FINISHED, transcript, ncAt(transcript) + NONCE_SIZE + PROOF_SIZE, this.proof, 0);
    if (!equalConstantTime(this.proof, 0, packet, at + 1, PROOF_SIZE)) return this.fail(REASON_PROOF_FAILED);
    this.state = V2_DONE;
    return 0;
  }

  /** Forgets everything secret (the PSK itself belongs to the caller). */
  wipe(): void {
    this.keys.wipe();
    this.transcript.fill(0);
    this.proof.fill(0);
  }

  private fail(reason: string): number {
    this.state = V2_FAILED;
    this.reason = reason;
    this.wipe();
    return -1;
  }
}
