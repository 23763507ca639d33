// The firmware build's inputs.ts: the Espruino transport hands the core bytes only, each chunk
// a view nothing else reads.
export const TAKES_STRINGS = false;
export const OWNS_CHUNKS = true;
