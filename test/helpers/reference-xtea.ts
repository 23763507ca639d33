// A plain, readable XTEA256 written straight from PROTOCOL.md, for diffing the optimised
// cipher against (the @noble/ciphers habit). Slow on purpose: no schedule, no tricks.

const DELTA = 0x9e3779b9;

export function referenceEncryptBlock(key: number[], rounds: number, v: [number, number]): [number, number] {
  let [v0, v1] = v;
  let sum = 0;
  for (let i = 0; i < rounds; i++) {
    v0 = (v0 + ((((v1 << 4) ^ (v1 >>> 5)) + v1) ^ (sum + key[sum & 7]))) >>> 0;
    sum = (sum + DELTA) >>> 0;
    v1 = (v1 + ((((v0 << 4) ^ (v0 >>> 5)) + v0) ^ (sum + key[(sum >>> 11) & 7]))) >>> 0;
  }
  return [v0, v1];
}

export function referenceDecryptBlock(key: number[], rounds: number, v: [number, number]): [number, number] {
  let [v0, v1] = v;
  let sum = Number((BigInt(DELTA) * BigInt(rounds)) & 0xffffffffn);
  for (let i = 0; i < rounds; i++) {
    v1 = (v1 - ((((v0 << 4) ^ (v0 >>> 5)) + v0) ^ (sum + key[(sum >>> 11) & 7]))) >>> 0;
    sum = (sum - DELTA) >>> 0;
    v0 = (v0 - ((((v1 << 4) ^ (v1 >>> 5)) + v1) ^ (sum + key[sum & 7]))) >>> 0;
  }
  return [v0, v1];
}

/** Encrypts whole blocks of `bytes` (a copy is returned), words little-endian. */
export function referenceEncrypt(key: number[], rounds: number, bytes: Uint8Array, decrypt = false): Uint8Array {
  const out = new Uint8Array(bytes);
  const view = new DataView(out.buffer);
  for (let p = 0; p < out.length; p += 8) {
    const block: [number, number] = [view.getUint32(p, true), view.getUint32(p + 4, true)];
    const [a, b] = decrypt ? referenceDecryptBlock(key, rounds, block) : referenceEncryptBlock(key, rounds, block);
    view.setUint32(p, a, true);
    view.setUint32(p + 4, b, true);
  }
  return out;
}
