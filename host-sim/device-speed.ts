// How long device work takes on a board, so that simulated runs see the delays a real device
// has: the interpreter is busy while it ciphers, and timers, keep-alives and replies wait for it.
// Off by default (device code then costs what V8 spends on it, next to nothing). The figures are
// instructions counted on the real Espruino 2v29 interpreter (bench/device-instructions.mjs),
// turned into ESP32 time with the factor docs/PERFORMANCE.md derives ("ESP32: a projection"):
// a projection, not a measurement on a board.

/** Device CPU time the simulator charges per socket event; see EventLoop.chargeBytes. */
export interface DeviceSpeed {
  /** Per 8 bytes a socket sends or receives (the cipher's block). */
  msPerBlock: number;
  /** Per write and per received chunk (the library's path around the cipher). */
  msPerEvent: number;
}

export const DEVICE_SPEED_NAMES = ["instant", "esp32"] as const;
export type DeviceSpeedName = (typeof DEVICE_SPEED_NAMES)[number];

/** Instructions of the Linux build per block and per message (counted, 2026-12-03). */
const INSTRUCTIONS = {
  /** `lwstcp-xtea`, encrypting and decrypting about alike. */
  writtenOutBlock: 963_000,
  /** The library's own loop (a board without `lwstcp-xtea`). */
  loopBlock: 1_399_000,
  /** A 16-byte message's send and receive, less their cipher blocks: the path's fixed part. */
  messagePath: 600_000,
};

/**
 * The Linux build's instructions an ESP32 runs in a millisecond: this machine's rate on the
 * interpreter scaled by CoreMark per core, ESP32 (994 for two cores at 240 MHz) against this
 * machine's (docs/PERFORMANCE.md says how each was measured).
 */
export const ESP32_INSTRUCTIONS_PER_MS = 163_000;

/**
 * The speed of a board flashed for this profile. Profile v2 ciphers with the interpreter's native
 * AES, hundreds of times faster than interpreted XTEA, so only its path is charged.
 */
export function deviceSpeed(name: DeviceSpeedName, board: { profile: "v1" | "v2"; writtenOutCipher: boolean }): DeviceSpeed | undefined {
  if (name === "instant") return undefined;
  const perBlock = board.profile === "v2" ? 0 : board.writtenOutCipher ? INSTRUCTIONS.writtenOutBlock : INSTRUCTIONS.loopBlock;
  return {
    msPerBlock: perBlock / ESP32_INSTRUCTIONS_PER_MS,
    msPerEvent: INSTRUCTIONS.messagePath / ESP32_INSTRUCTIONS_PER_MS,
  };
}
