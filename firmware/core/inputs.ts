// What the core may assume of its driver's inputs. Node drivers and tests may hand binary
// strings where the core takes bytes, and may read a chunk again after handing it over. The
// Espruino transport views every string as bytes first, and each chunk it hands over is a fresh
// view of one socket \`data\` string that nothing reads afterwards, so the firmware build swaps
// in inputs-device.ts (rollup.config.mjs): the string paths drop out of the bundle, and a
// message can be deciphered inside the chunk it came in.
export const TAKES_STRINGS = true;
export const OWNS_CHUNKS = false;
