// The three-packet handshake (docs/PROTOCOL.md "The handshake") as two pure state machines: packets
// in, bytes to send and an outcome out. No sockets, no timers: the Connection adds the
// handshake timeout, and drivers move the bytes.
//
//   server                                client
//   start() ── HandshakeRequest (0x02) ──▶ receive(): answers
//   receive() ◀── HandshakeResponse (0x03)   nonce ^ low32(sum) ^ low32(xor), sum, xor
//   verifies all three, draws session key
//             ── HandshakeSuccess (0x04) ──▶ receive(): done, session key known

import { type RandomFill, readU32LE } from "./bytes.js";
import {
  HANDSHAKE_NUMBERS_PACKET_SIZE,
  HANDSHAKE_NUMBERS_SIZE,
  HANDSHAKE_SUCCESS_PACKET_SIZE,
  KEY_BYTES,
  KEY_WORDS,
  REASON_VERIFY_FAILED,
  REASON_WRONG_TYPE,
  TYPE_HANDSHAKE_REQUEST,
  TYPE_HANDSHAKE_RESPONSE,
  TYPE_HANDSHAKE_SUCCESS,
} from "./constants.js";
import { checkPacket } from "./framer-core.js";
import {
  A_HI,
  A_LO,
  B_HI,
  B_LO,
  createHandshakeNumbers,
  decodeHandshakeNumbers,
  decodeHandshakeSuccess,
  encodeHandshakeNumbers,
  encodeHandshakeSuccess,
  type HandshakeNumbers,
  NONCE,
} from "./packets.js";
import { add64, equal64, xor64 } from "./u64.js";
import type { KeySchedule } from "./xtea.js";

export const HANDSHAKE_AWAITING_START = 0;
export const HANDSHAKE_AWAITING_REQUEST = 1;
export const HANDSHAKE_AWAITING_RESPONSE = 2;
export const HANDSHAKE_AWAITING_SUCCESS = 3;
export const HANDSHAKE_DONE = 4;
export const HANDSHAKE_FAILED = 5;

/** The client's answer to a request: sum and xor of num1 and num2, and the transformed nonce. */
export function computeResponse(request: HandshakeNumbers, response: HandshakeNumbers): void {
  add64(request[A_HI], request[A_LO], request[B_HI], request[B_LO], response, A_HI);
  xor64(request[A_HI], request[A_LO], request[B_HI], request[B_LO], response, B_HI);
  response[NONCE] = request[NONCE] ^ response[A_LO] ^ response[B_LO];
}

/**
 * One side of the handshake. The server calls start() and then receive() once; the client
 * calls receive() twice. One class for both roles keeps the device bundle small.
 */
export class Handshake {
  state: number;
  /** Why the handshake failed; "" otherwise. */
  reason = "";
  /** The session key, once the state is HANDSHAKE_DONE. */
  readonly sessionKey = new Uint32Array(KEY_WORDS);
  /** Server: the response it expects. Client: the request it received. */
  private readonly mine = createHandshakeNumbers();
  /** Server: the response it received. Client: the response it sends. */
  private readonly theirs = createHandshakeNumbers();

  constructor(
    readonly isServer: boolean,
    private readonly key: KeySchedule,
    private readonly random: RandomFill,
  ) {
    this.state = isServer ? HANDSHAKE_AWAITING_START : HANDSHAKE_AWAITING_REQUEST;
  }

  /** Server only: draws nonce, num1 and num2 and writes the HandshakeRequest into `out` at `at`. Returns its size. */
  start(out: Uint8Array, at: number): number {
    if (this.state !== HANDSHAKE_AWAITING_START) throw new Error("handshake already started");
    const request = this.theirs; // scratch until the response arrives
    // Drawn in wire order, so a recorded random stream reproduces a recorded request.
    this.random(out, at, HANDSHAKE_NUMBERS_SIZE);
    request[NONCE] = readU32LE(out, at);
    request[A_LO] = readU32LE(out, at + 4);
    request[A_HI] = readU32LE(out, at + 8);
    request[B_LO] = readU32LE(out, at + 12);
    request[B_HI] = readU32LE(out, at + 16);
    computeResponse(request, this.mine);
    this.state = HANDSHAKE_AWAITING_RESPONSE;
    return encodeHandshakeNumbers(TYPE_HANDSHAKE_REQUEST, request, out, at, this.key, this.random);
  }

  /**
   * Takes the peer's next packet. Returns the size of the reply written into `out` (server:
   * the HandshakeSuccess, after which it is done; client: the HandshakeResponse), 0 when the
   * client has received the success and is done, or -1 with `reason` set.
   */
  receive(packet: Uint8Array, at: number, size: number, out: Uint8Array, outAt: number): number {
    const state = this.state;
    let problem = REASON_WRONG_TYPE;
    if (state === HANDSHAKE_AWAITING_RESPONSE) {
      problem = checkPacket(packet, at, size, TYPE_HANDSHAKE_RESPONSE, HANDSHAKE_NUMBERS_PACKET_SIZE);
      if (!problem) return this.verify(packet, at, out, outAt);
    } else if (state === HANDSHAKE_AWAITING_REQUEST) {
      problem = checkPacket(packet, at, size, TYPE_HANDSHAKE_REQUEST, HANDSHAKE_NUMBERS_PACKET_SIZE);
      if (!problem) {
        decodeHandshakeNumbers(packet, at, this.key, this.mine);
        computeResponse(this.mine, this.theirs);
        this.state = HANDSHAKE_AWAITING_SUCCESS;
        return encodeHandshakeNumbers(TYPE_HANDSHAKE_RESPONSE, this.theirs, out, outAt, this.key, this.random);
      }
    } else if (state === HANDSHAKE_AWAITING_SUCCESS) {
      problem = checkPacket(packet, at, size, TYPE_HANDSHAKE_SUCCESS, HANDSHAKE_SUCCESS_PACKET_SIZE);
      if (!problem) {
        decodeHandshakeSuccess(packet, at, this.key, this.sessionKey);
        this.state = HANDSHAKE_DONE;
        return 0;
      }
    }
    this.state = HANDSHAKE_FAILED;
    this.reason = problem;
    return -1;
  }

  private verify(packet: Uint8Array, at: number, out: Uint8Array, outAt: number): number {
    const got = this.theirs;
    const want = this.mine;
    decodeHandshakeNumbers(packet, at, this.key, got);
    // The C++ server skips the xor; checking it too still accepts every honest client.
    if (got[NONCE] !== want[NONCE] || !equal64(got[A_HI], got[A_LO], want[A_HI], want[A_LO]) || !equal64(got[B_HI], got[B_LO], want[B_HI], want[B_LO])) {
      this.state = HANDSHAKE_FAILED;
      this.reason = REASON_VERIFY_FAILED;
      return -1;
    }
    this.random(out, outAt + 1, KEY_BYTES);
    for (let i = 0; i < KEY_WORDS; i++) this.sessionKey[i] = readU32LE(out, outAt + 1 + i * 4);
    this.state = HANDSHAKE_DONE;
    return encodeHandshakeSuccess(this.sessionKey, out, outAt, this.key);
  }
}
