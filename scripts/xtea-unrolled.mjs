// The source of the Storage module "lwstcp-xtea" (dist/lwstcp-xtea.js): XTEA256 at the
// protocol's default 32 rounds with every round written out. The library
// (firmware/core/xtea-blocks-device.ts) uses it when the board has the file and keeps its own
// loop otherwise, and for other round counts.
//
// Why it is generated, and shaped so (docs/PERFORMANCE.md, instructions counted on the 2v29
// interpreter): Espruino interprets the source text, so a loop pays for its test and for an
// index computed on every schedule read (`s[i++]` costs ≈ 2,100 instructions more than `s[12]`);
// written out, each read has a literal index. The block's two words are read and written
// through a Uint32Array view instead of eight byte loads and stores, and the hot variables are
// the function's first parameters, which Espruino finds first in its scope scan. Together these
// make a block ≈ 1.4× cheaper than the library's loop. The text is ≈ 3 KB: as its own Storage file
// it stays in flash on an ESP32 (a module's function code is a native string there) and out of
// the library's byte budget.
//
// A range of up to 256 bytes (a short message, a handshake packet) is ciphered in place through
// a Uint32Array view of it, which saves two copies a call. A longer one goes through a 256-byte
// buffer with a view on it, which is always flat in the heap (a long message's buffer may be a
// chain of blocks, where every element access walks it); so does a short one at an offset V8,
// which runs the simulator, cannot view (it refuses an unaligned Uint32Array).
//
// Values are never wrapped inside a block: they stay exact integers far below 2^53, shifts and
// xors read them modulo 2^32 and the Uint32Array stores wrap them (docs/ESPRUINO.md §3).

/** Rounds the written-out form serves: the protocol's default (the schedule holds 2 words per round). */
export const UNROLLED_ROUNDS = 32;
/** The build fails when dist/lwstcp-xtea.js exceeds this. */
export const UNROLLED_XTEA_BUDGET_BYTES = 4 * 1024;
/** Bytes ciphered per pass through the aligned buffer. */
const SEGMENT_BYTES = 256;

/** The encryption half-rounds, schedule word 0 first. */
function encryptRounds() {
  let text = "";
  for (let k = 0; k < 2 * UNROLLED_ROUNDS; k += 2) {
    text += `v0 += (((v1 << 4) ^ (v1 >>> 5)) + v1) ^ s[${k}];\n      v1 += (((v0 << 4) ^ (v0 >>> 5)) + v0) ^ s[${k + 1}];\n      `;
  }
  return text;
}

/** The decryption half-rounds: the encryption's undone in reverse order. */
function decryptRounds() {
  let text = "";
  for (let k = 2 * UNROLLED_ROUNDS - 1; k > 0; k -= 2) {
    text += `v1 -= (((v0 << 4) ^ (v0 >>> 5)) + v0) ^ s[${k}];\n      v0 -= (((v1 << 4) ^ (v1 >>> 5)) + v1) ^ s[${k - 1}];\n      `;
  }
  return text;
}

/** A function that ciphers the block words w[q..n) in place with these half-rounds. */
function wordsFunction(name, rounds) {
  return `function ${name}(v0, v1, s, w, q, n) {
  for (; q < n; q += 2) {
      v0 = w[q];
      v1 = w[q + 1];
      ${rounds}w[q] = v0;
      w[q + 1] = v1;
  }
}
`;
}

/**
 * The module's ES5 source: `unrolledRounds` (32) and `cipher(words, buf, offset, length,
 * decrypt)`, which ciphers whole blocks of `buf` in place with a 64-word key schedule. The caller
 * has checked the range.
 * @returns {string}
 */
export function unrolledXteaSource() {
  return `var segment = new Uint8Array(${SEGMENT_BYTES});
var segmentWords = new Uint32Array(segment.buffer);
// Espruino views words at any byte offset; V8 (the simulator) only at a multiple of 4.
var anyOffset = (function () {
  try {
    return new Uint32Array(segment.buffer, 1, 1).length === 1;
  } catch (e) {
    return false;
  }
})();

${wordsFunction("encryptWords", encryptRounds())}
${wordsFunction("decryptWords", decryptRounds())}
export var unrolledRounds = ${UNROLLED_ROUNDS};

export function cipher(words, buf, offset, length, decrypt) {
  // A short range is ciphered where it lies, through a view of its words: no copy in or out.
  if (length <= ${SEGMENT_BYTES} && (anyOffset || ((buf.byteOffset + offset) & 3) === 0)) {
    var view = new Uint32Array(buf.buffer, buf.byteOffset + offset, length >> 2);
    if (decrypt) /*#__NOINLINE__*/ decryptWords(0, 0, words, view, 0, length >> 2);
    else /*#__NOINLINE__*/ encryptWords(0, 0, words, view, 0, length >> 2);
    return;
  }
  /*#__NOINLINE__*/ cipherSegments(words, buf, offset, length, decrypt);
}

function cipherSegments(words, buf, offset, length, decrypt) {
  for (var at = offset, end = offset + length; at < end; at += ${SEGMENT_BYTES}) {
    var count = Math.min(${SEGMENT_BYTES}, end - at);
    segment.set(buf.subarray(at, at + count));
    // Called, not inlined: terser would make a single-use function an expression, which
    // Espruino would create (and lex) anew on every call.
    if (decrypt) /*#__NOINLINE__*/ decryptWords(0, 0, words, segmentWords, 0, count >> 2);
    else /*#__NOINLINE__*/ encryptWords(0, 0, words, segmentWords, 0, count >> 2);
    buf.set(count < ${SEGMENT_BYTES} ? segment.subarray(0, count) : segment, at);
  }
}
`;
}

/**
 * A Rollup plugin that makes `entry` the generated module, for the espruino() pipeline.
 * @param {string} entry the id rollup.config.mjs gives as `input`
 * @returns {import("rollup").Plugin}
 */
export function unrolledXteaEntry(entry) {
  return {
    name: "lwstcp-xtea-unrolled",
    resolveId: (id) => (id === entry ? entry : null),
    load: (id) => (id === entry ? unrolledXteaSource() : null),
  };
}
