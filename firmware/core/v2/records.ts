// The v2 record layer: one RecordDirection per direction of a session, holding that
// direction's AES key, MAC key and implicit sequence number.
//
//   wire:       TYPE(1) ‖ LENGTH(2, BE, plaintext bytes) ‖ C (ceil16(LENGTH)) ‖ TAG(16)
//   IV        = AES-256-ECB(K_enc, 0^8 ‖ seq(8, BE))          (NIST SP 800-38A, appendix C)
//   C         = AES-256-CBC(K_enc, IV, plaintext ‖ 0-padding to whole blocks)
//   TAG       = first 16 bytes of HMAC-SHA256(K_mac, seq(8, BE) ‖ TYPE ‖ LENGTH ‖ C)
//
// Encrypt-then-MAC; the receiver checks the tag before it decrypts anything. The sequence
// number is never sent: both sides count records per direction from 0, so a record that is
// replayed, reordered, dropped before, or reflected (the other direction has other keys)
// fails its tag. A record with LENGTH 0 (keep-alive, disconnect) has no ciphertext and costs
// no AES call, only the two SHA-256 of its tag.
//
// Buffers: records are sealed and opened in place in a buffer whose record starts at
// RECORD_AT (72); the 72 bytes in front take the HMAC inner pad and the sequence number, so
// the MAC input is contiguous and nothing is copied or allocated per record here (the
// platform's crypto call may allocate; see the primitives implementations).

import { copyBytes } from "../bytes.js";
import {
  AES_BLOCK_SIZE,
  ciphertextLength,
  DERIVED_KEY_SIZE,
  RECORD_AT,
  RECORD_HEADER_SIZE,
  SEQUENCE_AT,
  SEQUENCE_SIZE,
  SHA256_SIZE,
  TAG_SIZE,
} from "./constants.js";
import { equalConstantTime, Hmac } from "./hmac.js";
import type { V2Primitives } from "./primitives.js";

const BODY_AT = RECORD_AT + RECORD_HEADER_SIZE;

export class RecordDirection {
  /** Records sealed or opened so far: the next sequence number is hi·2^32 + lo. */
  sequenceHi = 0;
  sequenceLo = 0;
  private readonly primitives: V2Primitives;
  private readonly encryptionKey = new Uint8Array(DERIVED_KEY_SIZE);
  private readonly mac: Hmac;
  /** 0^8 ‖ seq: the block whose encryption is the IV. */
  private readonly ivBlock = new Uint8Array(AES_BLOCK_SIZE);
  private readonly iv = new Uint8Array(AES_BLOCK_SIZE);
  private readonly tag = new Uint8Array(SHA256_SIZE);

  constructor(primitives: V2Primitives) {
    this.primitives = primitives;
    this.mac = new Hmac(primitives);
  }

  /** Installs this direction's keys (32 bytes each) and restarts the sequence at 0. */
  setKeys(encryptionKey: Uint8Array, macKey: Uint8Array): void {
    copyBytes(encryptionKey, 0, this.encryptionKey, 0, DERIVED_KEY_SIZE);
    this.mac.setKey(macKey, 0, DERIVED_KEY_SIZE);
    this.sequenceHi = this.sequenceLo = 0;
  }

  /**
   * Seals the record whose `length` plaintext bytes the caller placed at buf[RECORD_AT + 3 ..]:
   * writes TYPE and LENGTH, zero padding, encrypts in place and appends the tag. The buffer must
   * hold RECORD_AT + recordSize(length) bytes. Returns the record's size on the wire, which
   * starts at buf[RECORD_AT].
   */
  seal(buf: Uint8Array, type: number, length: number): number {
    const cipherLength = ciphertextLength(length);
    buf[RECORD_AT] = type;
    buf[RECORD_AT + 1] = length >>> 8;
    buf[RECORD_AT + 2] = length & 255;
    for (let i = BODY_AT + length; i < BODY_AT + cipherLength; i++) buf[i] = 0;
    this.writeSequence(buf);
    if (cipherLength > 0) {
      this.deriveIv();
      this.primitives.aes256CbcEncrypt(this.encryptionKey, this.iv, buf, BODY_AT, cipherLength, buf, BODY_AT);
    }
    const tagAt = BODY_AT + cipherLength;
    this.mac.macWithHeadroom(buf, SEQUENCE_AT, SEQUENCE_SIZE + RECORD_HEADER_SIZE + cipherLength, this.tag, 0);
    copyBytes(this.tag, 0, buf, tagAt, TAG_SIZE);
    this.advance();
    return RECORD_HEADER_SIZE + cipherLength + TAG_SIZE;
  }

  /**
   * Opens the whole record at buf[RECORD_AT .. RECORD_AT + size) (as the framer delivered it):
   * verifies the tag, then decrypts in place. Returns the plaintext length, the plaintext being
   * at buf[RECORD_AT + 3 ..], or -1 when the tag does not verify (nothing was decrypted and the
   * sequence number did not move).
   */
  open(buf: Uint8Array, size: number): number {
    const length = (buf[RECORD_AT + 1] << 8) | buf[RECORD_AT + 2];
    const cipherLength = size - RECORD_HEADER_SIZE - TAG_SIZE;
    // The framer sized the record from LENGTH; checked again so this class stands on its own.
    if (cipherLength !== ciphertextLength(length)) return -1;
    this.writeSequence(buf);
    this.mac.macWithHeadroom(buf, SEQUENCE_AT, SEQUENCE_SIZE + RECORD_HEADER_SIZE + cipherLength, this.tag, 0);
    if (!equalConstantTime(this.tag, 0, buf, BODY_AT + cipherLength, TAG_SIZE)) return -1;
    if (cipherLength > 0) {
      this.deriveIv();
      this.primitives.aes256CbcDecrypt(this.encryptionKey, this.iv, buf, BODY_AT, cipherLength, buf, BODY_AT);
    }
    this.advance();
    return length;
  }

  /** Zeroes the keys and the scratch that held key-dependent bytes. */
  wipe(): void {
    this.encryptionKey.fill(0);
    this.mac.wipe();
    this.iv.fill(0);
    this.tag.fill(0);
    this.sequenceHi = this.sequenceLo = 0;
  }

  private writeSequence(buf: Uint8Array): void {
    const hi = this.sequenceHi;
    const lo = this.sequenceLo;
    buf[SEQUENCE_AT] = hi >>> 24;
    buf[SEQUENCE_AT + 1] = hi >>> 16;
    buf[SEQUENCE_AT + 2] = hi >>> 8;
    buf[SEQUENCE_AT + 3] = hi;
    buf[SEQUENCE_AT + 4] = lo >>> 24;
    buf[SEQUENCE_AT + 5] = lo >>> 16;
    buf[SEQUENCE_AT + 6] = lo >>> 8;
    buf[SEQUENCE_AT + 7] = lo;
    const block = this.ivBlock;
    copyBytes(buf, SEQUENCE_AT, block, SEQUENCE_SIZE, SEQUENCE_SIZE);
  }

  private deriveIv(): void {
    this.primitives.aes256EcbEncryptBlock(this.encryptionKey, this.ivBlock, 0, this.iv, 0);
  }

  private advance(): void {
    // u64 as two u32 (no BigInt on Espruino); 2^64 records are out of reach, the carry is for honesty.
    this.sequenceLo = (this.sequenceLo + 1) >>> 0;
    if (this.sequenceLo === 0) this.sequenceHi = (this.sequenceHi + 1) >>> 0;
  }
}
