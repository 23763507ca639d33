// The v2 handshake as two pure state machines (docs/PROTOCOL-v2.md "Handshake"):
//
//   server                                   client
//   start() ── ServerHello 0x12: Ns ────────▶ receive(): draws Nc, derives keys,
//                                              computes the client proof
//   receive() ◀── ClientHello 0x13: Nc ‖ Pc ──
//   derives keys, checks Pc (proof-failed),
//   computes the server proof
//             ── ServerFinished 0x14: Ps ───▶ receive(): checks Ps (proof-failed)
//   DONE                                      DONE
//
//   PRK = HKDF-Extract(salt = Ns ‖ Nc, IKM = PSK)
//   K_x = HKDF-Expand(PRK, label_x, 32) for the seven labels in constants.ts
//   Pc  = HMAC(K_client_proof, "lwstcp v2 client finished" ‖ 0x12 ‖ Ns ‖ 0x13 ‖ Nc)[0..16)
//   Ps  = HMAC(K_server_proof, "lwstcp v2 server finished" ‖ 0x12 ‖ Ns ‖ 0x13 ‖ Nc ‖ Pc)[0..16)
//
// Both nonces enter the keys, so neither side's RNG alone decides them; each side proves it
// holds the PSK, so a fake server fails at ServerFinished and a fake client at ClientHello.

import { copyBytes, type RandomFill } from "../bytes.js";
import { REASON_WRONG_TYPE } from "../constants.js";
import { checkPacket } from "../framer-core.js";
import {
  asciiBytes,
  CLIENT_HELLO_SIZE,
  DERIVED_KEY_SIZE,
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
  NONCE_SIZE,
  PROOF_SIZE,
  PSK_SIZE,
  REASON_PROOF_FAILED,
  SERVER_FINISHED_SIZE,
  SERVER_HELLO_SIZE,
  SHA256_SIZE,
  TYPE_V2_CLIENT_HELLO,
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

const C2S_ENC = asciiBytes(LABEL_C2S_ENC);
const S2C_ENC = asciiBytes(LABEL_S2C_ENC);
const C2S_MAC = asciiBytes(LABEL_C2S_MAC);
const S2C_MAC = asciiBytes(LABEL_S2C_MAC);
const CLIENT_PROOF_KEY = asciiBytes(LABEL_CLIENT_PROOF_KEY);
const SERVER_PROOF_KEY = asciiBytes(LABEL_SERVER_PROOF_KEY);
const EXPORTER = asciiBytes(LABEL_EXPORTER);
const CLIENT_FINISHED = asciiBytes(LABEL_CLIENT_FINISHED);
const SERVER_FINISHED = asciiBytes(LABEL_SERVER_FINISHED);

/** Transcript offsets: 0x12 ‖ Ns ‖ 0x13 ‖ Nc ‖ Pc (the client proof covers the first 34 bytes). */
const NS_AT = 1;
const NC_AT = 1 + NONCE_SIZE + 1;
const PC_AT = NC_AT + NONCE_SIZE;
const CLIENT_TRANSCRIPT_SIZE = PC_AT;
const SERVER_TRANSCRIPT_SIZE = PC_AT + PROOF_SIZE;
/** Longest proof input: the server label and the whole transcript. */
const PROOF_INPUT_MAX = SERVER_FINISHED.length + SERVER_TRANSCRIPT_SIZE;

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

/** PRK = HKDF-Extract(Ns ‖ Nc, PSK), then the seven keys by HKDF-Expand with their labels. */
export function deriveSessionKeys(primitives: V2Primitives, psk: Uint8Array, transcript: Uint8Array, keys: SessionKeysV2): void {
  const salt = new Uint8Array(2 * NONCE_SIZE);
  copyBytes(transcript, NS_AT, salt, 0, NONCE_SIZE);
  copyBytes(transcript, NC_AT, salt, NONCE_SIZE, NONCE_SIZE);
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
  private readonly psk: Uint8Array;
  /** 0x12 ‖ Ns ‖ 0x13 ‖ Nc ‖ Pc, filled as the packets pass. */
  private readonly transcript = new Uint8Array(SERVER_TRANSCRIPT_SIZE);
  private readonly proof = new Uint8Array(PROOF_SIZE);

  constructor(isServer: boolean, primitives: V2Primitives, psk: Uint8Array, random: RandomFill) {
    if (psk.length !== PSK_SIZE) throw new Error("the v2 pre-shared key must have 32 bytes, got " + psk.length);
    this.isServer = isServer;
    this.state = isServer ? V2_AWAITING_START : V2_AWAITING_SERVER_HELLO;
    this.primitives = primitives;
    this.psk = psk;
    this.random = random;
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
    return this.fail(REASON_WRONG_TYPE);
  }

  /** Client: record Ns, draw Nc, derive the keys, answer with Nc and the client proof. */
  private serverHello(packet: Uint8Array, at: number, size: number, out: Uint8Array, outAt: number): number {
    const problem = checkPacket(packet, at, size, TYPE_V2_SERVER_HELLO, SERVER_HELLO_SIZE);
    if (problem) return this.fail(problem);
    const transcript = this.transcript;
    copyBytes(packet, at, transcript, 0, SERVER_HELLO_SIZE);
    transcript[NC_AT - 1] = TYPE_V2_CLIENT_HELLO;
    this.random(transcript, NC_AT, NONCE_SIZE);
    deriveSessionKeys(this.primitives, this.psk, transcript, this.keys);
    computeProof(this.primitives, this.keys.clientProof, CLIENT_FINISHED, transcript, CLIENT_TRANSCRIPT_SIZE, transcript, PC_AT);
    copyBytes(transcript, NC_AT - 1, out, outAt, CLIENT_HELLO_SIZE);
    this.state = V2_AWAITING_SERVER_FINISHED;
    return CLIENT_HELLO_SIZE;
  }

  /** Server: derive the keys from Ns ‖ Nc, check the client proof, answer with the server proof. */
  private clientHello(packet: Uint8Array, at: number, size: number, out: Uint8Array, outAt: number): number {
    const problem = checkPacket(packet, at, size, TYPE_V2_CLIENT_HELLO, CLIENT_HELLO_SIZE);
    if (problem) return this.fail(problem);
    const transcript = this.transcript;
    copyBytes(packet, at, transcript, NC_AT - 1, CLIENT_HELLO_SIZE);
    deriveSessionKeys(this.primitives, this.psk, transcript, this.keys);
    computeProof(this.primitives, this.keys.clientProof, CLIENT_FINISHED, transcript, CLIENT_TRANSCRIPT_SIZE, this.proof, 0);
    if (!equalConstantTime(this.proof, 0, transcript, PC_AT, PROOF_SIZE)) return this.fail(REASON_PROOF_FAILED);
    out[outAt] = TYPE_V2_SERVER_FINISHED;
    computeProof(this.primitives, this.keys.serverProof, SERVER_FINISHED, transcript, SERVER_TRANSCRIPT_SIZE, out, outAt + 1);
    this.state = V2_DONE;
    return SERVER_FINISHED_SIZE;
  }

  /** Client: check the server proof over the whole transcript. */
  private serverFinished(packet: Uint8Array, at: number, size: number): number {
    const problem = checkPacket(packet, at, size, TYPE_V2_SERVER_FINISHED, SERVER_FINISHED_SIZE);
    if (problem) return this.fail(problem);
    computeProof(this.primitives, this.keys.serverProof, SERVER_FINISHED, this.transcript, SERVER_TRANSCRIPT_SIZE, this.proof, 0);
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
