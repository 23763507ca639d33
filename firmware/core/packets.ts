// Packet codec for the six v1 packet types (docs/PROTOCOL.md "Packets"). Encoders write into a
// caller's buffer and return the packet's size; decoders decrypt in place and read fields
// into caller's arrays. Lengths are validated here, at the boundary, so the cipher's
// inner loop carries no checks.

import { copyBytes, type RandomFill, readU32LE, writeU32LE } from "./bytes.js";
import {
  HANDSHAKE_NUMBERS_PACKET_SIZE,
  HANDSHAKE_NUMBERS_SIZE,
  HANDSHAKE_SUCCESS_PACKET_SIZE,
  KEY_BYTES,
  KEY_WORDS,
  MAX_MESSAGE_LENGTH,
  MESSAGE_HEADER_SIZE,
  paddedLength,
  TYPE_HANDSHAKE_REQUEST,
  TYPE_HANDSHAKE_RESPONSE,
  TYPE_HANDSHAKE_SUCCESS,
  TYPE_MESSAGE,
} from "./constants.js";
import { decryptBlocks, encryptBlocks, type KeySchedule } from "./xtea.js";

/**
 * The five numbers of a HandshakeRequest or HandshakeResponse, as u32 words:
 * [NONCE] = nonce or transformedNonce; [A_HI],[A_LO] = num1 or sum; [B_HI],[B_LO] = num2 or xor.
 */
export type HandshakeNumbers = Uint32Array;
export const NONCE = 0;
export const A_HI = 1;
export const A_LO = 2;
export const B_HI = 3;
export const B_LO = 4;
export function createHandshakeNumbers(): HandshakeNumbers {
  return new Uint32Array(5);
}

function checkCapacity(buf: Uint8Array, at: number, size: number): void {
  if (at < 0 || at + size > buf.length) {
    throw new Error("buffer too small: need " + (at + size) + " bytes, have " + buf.length);
  }
}

/** Size on the wire of a message of `length` bytes. */
export function messagePacketSize(length: number): number {
  return MESSAGE_HEADER_SIZE + paddedLength(length);
}

/** Throws a clear error for a message length the protocol cannot carry (0, or over 65528). */
export function validateMessageLength(length: number): void {
  if (!(length >= 1 && length <= MAX_MESSAGE_LENGTH)) {
    throw new Error("a message must have at least 1 byte and at most " + MAX_MESSAGE_LENGTH + " bytes, got " + length);
  }
}

/**
 * Completes a RegularMessage whose `length` message bytes the caller already placed at
 * `buf[at + 3 ..]`: writes TYPE and LENGTH, random padding, and encrypts. Returns the packet size.
 * Placing the bytes first lets drivers encode text straight into the packet, with no copy.
 */
export function sealMessage(buf: Uint8Array, at: number, length: number, key: KeySchedule, random: RandomFill): number {
  validateMessageLength(length);
  checkCapacity(buf, at, messagePacketSize(length));
  return sealCheckedMessage(buf, at, length, key, random);
}

/**
 * sealMessage for a caller that has checked the length and the buffer's room itself (the
 * connection's send): on Espruino the two checks again would cost a fifteenth of a block.
 */
export function sealCheckedMessage(buf: Uint8Array, at: number, length: number, key: KeySchedule, random: RandomFill): number {
  const body = paddedLength(length);
  buf[at] = TYPE_MESSAGE;
  buf[at + 1] = length >>> 8;
  buf[at + 2] = length;
  const start = at + MESSAGE_HEADER_SIZE;
  if (body > length) random(buf, start + length, body - length);
  encryptBlocks(key, buf, start, body);
  return MESSAGE_HEADER_SIZE + body;
}

/** Encodes `message[from .. from+length)` as a RegularMessage into `out` at `at`. Returns the packet size. */
export function encodeMessage(out: Uint8Array, at: number, message: Uint8Array, from: number, length: number, key: KeySchedule, random: RandomFill): number {
  validateMessageLength(length);
  checkCapacity(out, at, messagePacketSize(length));
  copyBytes(message, from, out, at + MESSAGE_HEADER_SIZE, length);
  return sealMessage(out, at, length, key, random);
}

/** The LENGTH field of a RegularMessage at `at`. */
export function messageLength(buf: Uint8Array, at: number): number {
  return (buf[at + 1] << 8) | buf[at + 2];
}

/**
 * Decrypts a whole RegularMessage packet in place. The message bytes are then at
 * `buf[at + 3 .. at + 3 + length)`; returns that length.
 */
export function openMessage(buf: Uint8Array, at: number, packetSize: number, key: KeySchedule): number {
  const length = messageLength(buf, at);
  if (buf[at] !== TYPE_MESSAGE || length < 1 || length > MAX_MESSAGE_LENGTH || packetSize !== messagePacketSize(length)) {
    throw new Error("not a well-formed RegularMessage: type " + buf[at] + ", LENGTH " + length + ", size " + packetSize);
  }
  decryptBlocks(key, buf, at + MESSAGE_HEADER_SIZE, packetSize - MESSAGE_HEADER_SIZE);
  return length;
}

/**
 * Encodes a HandshakeRequest (type 0x02) or HandshakeResponse (0x03): the five numbers
 * little-endian (u64 as low word then high word), 4 random bytes, encrypted. Returns 25.
 */
export function encodeHandshakeNumbers(type: number, numbers: HandshakeNumbers, out: Uint8Array, at: number, key: KeySchedule, random: RandomFill): number {
  if (type !== TYPE_HANDSHAKE_REQUEST && type !== TYPE_HANDSHAKE_RESPONSE) throw new Error("not a handshake numbers type: " + type);
  checkCapacity(out, at, HANDSHAKE_NUMBERS_PACKET_SIZE);
  out[at] = type;
  const p = at + 1;
  writeU32LE(out, p, numbers[NONCE]);
  writeU32LE(out, p + 4, numbers[A_LO]);
  writeU32LE(out, p + 8, numbers[A_HI]);
  writeU32LE(out, p + 12, numbers[B_LO]);
  writeU32LE(out, p + 16, numbers[B_HI]);
  random(out, p + HANDSHAKE_NUMBERS_SIZE, HANDSHAKE_NUMBERS_PACKET_SIZE - 1 - HANDSHAKE_NUMBERS_SIZE);
  encryptBlocks(key, out, p, HANDSHAKE_NUMBERS_PACKET_SIZE - 1);
  return HANDSHAKE_NUMBERS_PACKET_SIZE;
}

/** Decrypts a 25-byte Request or Response in place and reads its numbers into `numbers`. */
export function decodeHandshakeNumbers(buf: Uint8Array, at: number, key: KeySchedule, numbers: HandshakeNumbers): void {
  checkCapacity(buf, at, HANDSHAKE_NUMBERS_PACKET_SIZE);
  const p = at + 1;
  decryptBlocks(key, buf, p, HANDSHAKE_NUMBERS_PACKET_SIZE - 1);
  numbers[NONCE] = readU32LE(buf, p);
  numbers[A_LO] = readU32LE(buf, p + 4);
  numbers[A_HI] = readU32LE(buf, p + 8);
  numbers[B_LO] = readU32LE(buf, p + 12);
  numbers[B_HI] = readU32LE(buf, p + 16);
}

/** Encodes HandshakeSuccess: the session key's eight words little-endian, encrypted. Returns 33. */
export function encodeHandshakeSuccess(sessionKey: Uint32Array, out: Uint8Array, at: number, key: KeySchedule): number {
  checkCapacity(out, at, HANDSHAKE_SUCCESS_PACKET_SIZE);
  out[at] = TYPE_HANDSHAKE_SUCCESS;
  for (let i = 0; i < KEY_WORDS; i++) writeU32LE(out, at + 1 + i * 4, sessionKey[i]);
  encryptBlocks(key, out, at + 1, KEY_BYTES);
  return HANDSHAKE_SUCCESS_PACKET_SIZE;
}

/** Decrypts a HandshakeSuccess in place and reads the session key into `sessionKey`. */
export function decodeHandshakeSuccess(buf: Uint8Array, at: number, key: KeySchedule, sessionKey: Uint32Array): void {
  checkCapacity(buf, at, HANDSHAKE_SUCCESS_PACKET_SIZE);
  decryptBlocks(key, buf, at + 1, KEY_BYTES);
  for (let i = 0; i < KEY_WORDS; i++) sessionKey[i] = readU32LE(buf, at + 1 + i * 4);
}
