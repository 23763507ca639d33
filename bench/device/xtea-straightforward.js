// The straightforward device XTEA256: what a direct port of the C++ library to Espruino looks
// like — descriptive names, the key schedule (sum and key index) computed every round, each add
// wrapped with >>> 0. The baseline that bench/device-ops.mjs counts the bundle's cipher
// against. ES5, as the device would run it; never shipped.
var DELTA = 0x9e3779b9;

function encryptBlocks(keyWords, rounds, bytes, offset, length) {
  for (var position = offset; position < offset + length; position += 8) {
    // Two little-endian u32 words per 8-byte block.
    var v0 = (bytes[position] | (bytes[position + 1] << 8) | (bytes[position + 2] << 16) | (bytes[position + 3] << 24)) >>> 0;
    var v1 = (bytes[position + 4] | (bytes[position + 5] << 8) | (bytes[position + 6] << 16) | (bytes[position + 7] << 24)) >>> 0;
    var sum = 0;
    for (var round = 0; round < rounds; round++) {
      v0 = (v0 + ((((v1 << 4) ^ (v1 >>> 5)) + v1) ^ (sum + keyWords[sum & 7]))) >>> 0;
      sum = (sum + DELTA) >>> 0;
      v1 = (v1 + ((((v0 << 4) ^ (v0 >>> 5)) + v0) ^ (sum + keyWords[(sum >>> 11) & 7]))) >>> 0;
    }
    bytes[position] = v0 & 0xff;
    bytes[position + 1] = (v0 >>> 8) & 0xff;
    bytes[position + 2] = (v0 >>> 16) & 0xff;
    bytes[position + 3] = (v0 >>> 24) & 0xff;
    bytes[position + 4] = v1 & 0xff;
    bytes[position + 5] = (v1 >>> 8) & 0xff;
    bytes[position + 6] = (v1 >>> 16) & 0xff;
    bytes[position + 7] = (v1 >>> 24) & 0xff;
  }
}

function decryptBlocks(keyWords, rounds, bytes, offset, length) {
  for (var position = offset; position < offset + length; position += 8) {
    var v0 = (bytes[position] | (bytes[position + 1] << 8) | (bytes[position + 2] << 16) | (bytes[position + 3] << 24)) >>> 0;
    var v1 = (bytes[position + 4] | (bytes[position + 5] << 8) | (bytes[position + 6] << 16) | (bytes[position + 7] << 24)) >>> 0;
    var sum = (DELTA * rounds) >>> 0;
    for (var round = 0; round < rounds; round++) {
      v1 = (v1 - ((((v0 << 4) ^ (v0 >>> 5)) + v0) ^ (sum + keyWords[(sum >>> 11) & 7]))) >>> 0;
      sum = (sum - DELTA) >>> 0;
      v0 = (v0 - ((((v1 << 4) ^ (v1 >>> 5)) + v1) ^ (sum + keyWords[sum & 7]))) >>> 0;
    }
    bytes[position] = v0 & 0xff;
    bytes[position + 1] = (v0 >>> 8) & 0xff;
    bytes[position + 2] = (v0 >>> 16) & 0xff;
    bytes[position + 3] = (v0 >>> 24) & 0xff;
    bytes[position + 4] = v1 & 0xff;
    bytes[position + 5] = (v1 >>> 8) & 0xff;
    bytes[position + 6] = (v1 >>> 16) & 0xff;
    bytes[position + 7] = (v1 >>> 24) & 0xff;
  }
}
