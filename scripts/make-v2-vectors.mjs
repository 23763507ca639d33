#!/usr/bin/env node
// Writes test/vectors/lwstcp-v2.json: test vectors of the v2 profile computed with node:crypto
// only (hkdfSync, createHmac, createCipheriv) straight from docs/PROTOCOL-v2.md, independently
// of the TypeScript engine, which the tests then check against them byte for byte.
// Inputs are fixed, so running it again gives the same file (the committed one is the reference;
// a change in the output means the wire format changed).
//
//   node scripts/make-v2-vectors.mjs [OUTPUT]   (default test/vectors/lwstcp-v2.json)

import { createCipheriv, createHmac, hkdfSync } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const output = process.argv[2] || join(root, "test", "vectors", "lwstcp-v2.json");

const hex = (b) => Buffer.from(b).toString("hex");
const seq = (n) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
const u16 = (n) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const range = (start, n) => Buffer.from(Array.from({ length: n }, (_, i) => (start + i) & 255));

const psk = range(0x00, 32);
const ns = range(0xa0, 16);
const nc = range(0xb0, 16);

const LABELS = {
  c2sEncryption: "lwstcp v2 c2s enc",
  s2cEncryption: "lwstcp v2 s2c enc",
  c2sMac: "lwstcp v2 c2s mac",
  s2cMac: "lwstcp v2 s2c mac",
  clientProof: "lwstcp v2 client proof key",
  serverProof: "lwstcp v2 server proof key",
  exporter: "lwstcp v2 exporter",
};

/**
 * The handshake for an optional device id: salt Ns ‖ Nc [‖ n ‖ id], transcript
 * ServerHello ‖ ClientHello (0x13 ‖ Nc, or 0x17 ‖ n ‖ id ‖ Nc) without the proof.
 */
function handshake(deviceId) {
  const idPart = deviceId ? Buffer.concat([Buffer.from([deviceId.length]), Buffer.from(deviceId, "ascii")]) : Buffer.alloc(0);
  const salt = Buffer.concat([ns, nc, idPart]);
  const prk = createHmac("sha256", salt).update(psk).digest();
  const keys = {};
  for (const [name, label] of Object.entries(LABELS)) keys[name] = Buffer.from(hkdfSync("sha256", psk, salt, label, 32));
  const serverHello = Buffer.concat([Buffer.from([0x12]), ns]);
  const helloHead = deviceId ? Buffer.concat([Buffer.from([0x17]), idPart]) : Buffer.from([0x13]);
  const clientTranscript = Buffer.concat([serverHello, helloHead, nc]);
  const clientProof = createHmac("sha256", keys.clientProof)
    .update(Buffer.concat([Buffer.from("lwstcp v2 client finished"), clientTranscript]))
    .digest()
    .subarray(0, 16);
  const clientHello = Buffer.concat([helloHead, nc, clientProof]);
  const serverTranscript = Buffer.concat([clientTranscript, clientProof]);
  const serverProof = createHmac("sha256", keys.serverProof)
    .update(Buffer.concat([Buffer.from("lwstcp v2 server finished"), serverTranscript]))
    .digest()
    .subarray(0, 16);
  const serverFinished = Buffer.concat([Buffer.from([0x14]), serverProof]);
  return { salt, prk, keys, serverHello, clientProof, clientHello, serverProof, serverFinished };
}

const plain = handshake(null);
const { salt, prk } = plain;
let keys = plain.keys;
const { serverHello, clientProof, clientHello, serverProof, serverFinished } = plain;

function record(direction, sequence, type, plaintext) {
  const encKey = direction === "c2s" ? keys.c2sEncryption : keys.s2cEncryption;
  const macKey = direction === "c2s" ? keys.c2sMac : keys.s2cMac;
  const padded = Buffer.alloc((plaintext.length + 15) & ~15);
  plaintext.copy(padded);
  let iv = Buffer.alloc(0);
  let ciphertext = Buffer.alloc(0);
  if (padded.length > 0) {
    const ecb = createCipheriv("aes-256-ecb", encKey, null).setAutoPadding(false);
    iv = Buffer.concat([ecb.update(Buffer.concat([Buffer.alloc(8), seq(sequence)])), ecb.final()]);
    const cbc = createCipheriv("aes-256-cbc", encKey, iv).setAutoPadding(false);
    ciphertext = Buffer.concat([cbc.update(padded), cbc.final()]);
  }
  const header = Buffer.concat([Buffer.from([type]), u16(plaintext.length)]);
  const tag = createHmac("sha256", macKey)
    .update(Buffer.concat([seq(sequence), header, ciphertext]))
    .digest()
    .subarray(0, 16);
  return {
    direction,
    sequence,
    type,
    plaintext: hex(plaintext),
    ivBlock: padded.length > 0 ? hex(Buffer.concat([Buffer.alloc(8), seq(sequence)])) : "",
    iv: hex(iv),
    ciphertext: hex(ciphertext),
    tag: hex(tag),
    record: hex(Buffer.concat([header, ciphertext, tag])),
  };
}

// One session, in the order the records cross the wire in each direction.
const records = [
  record("c2s", 0, 0x11, Buffer.from("hello, server", "utf8")),
  record("c2s", 1, 0x11, Buffer.from("0123456789abcdef", "utf8")), // exactly one block: no padding block
  record("c2s", 2, 0x15, Buffer.alloc(0)),
  record("c2s", 3, 0x11, Buffer.from("Fizz \u263a", "utf8")),
  record("s2c", 0, 0x11, Buffer.from("hello, client: thirty-three bytes", "utf8")),
  record("s2c", 1, 0x15, Buffer.alloc(0)),
  record("s2c", 2, 0x16, Buffer.alloc(0)),
];
// A sequence number above 2^32, to pin the u64 layout of the IV block and the MAC input.
const highSequence = record("c2s", 0x1_0000_0002, 0x11, Buffer.from("sequence above 2^32", "utf8"));

const vectors = {
  description:
    "LightweightSecureTCP v2 profile test vectors (docs/PROTOCOL-v2.md), generated with node:crypto by scripts/make-v2-vectors.mjs. All byte strings are hex.",
  psk: hex(psk),
  ns: hex(ns),
  nc: hex(nc),
  salt: hex(salt),
  prk: hex(prk),
  labels: LABELS,
  keys: Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, hex(v)])),
  handshake: {
    serverHello: hex(serverHello),
    clientProof: hex(clientProof),
    clientHello: hex(clientHello),
    serverProof: hex(serverProof),
    serverFinished: hex(serverFinished),
  },
  records,
  highSequence,
};

// The same nonces and PSK with a device id: every key and both proofs change. Records use the
// identified session's keys (record() reads `keys`).
const DEVICE_ID = "kitchen-1";
const named = handshake(DEVICE_ID);
keys = named.keys;
const identified = {
  deviceId: DEVICE_ID,
  salt: hex(named.salt),
  prk: hex(named.prk),
  keys: Object.fromEntries(Object.entries(named.keys).map(([k, v]) => [k, hex(v)])),
  handshake: {
    serverHello: hex(named.serverHello),
    clientProof: hex(named.clientProof),
    clientHello: hex(named.clientHello),
    serverProof: hex(named.serverProof),
    serverFinished: hex(named.serverFinished),
  },
  records: [record("c2s", 0, 0x11, Buffer.from("hello from kitchen-1", "utf8")), record("s2c", 0, 0x11, Buffer.from("hello, kitchen-1", "utf8"))],
};
vectors.identified = identified;

mkdirSync(dirname(output), { recursive: true });
writeFileSync(output, JSON.stringify(vectors, null, 2) + "\n");
console.log("wrote " + output);
