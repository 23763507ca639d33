// Randomness as an ESP32 running Espruino 2v29 has it (ESPRUINO.md §4, "E.hwRand()").
import { randomBytes } from "node:crypto";

/**
 * Espruino's own rand() from src/jsutils.c: Marsaglia's multiply-with-carry with the fixed seeds
 * 0xDEADBEEF / 0xCAFEBABE and no boot-time seeding. On ESP32 `jshGetRandomNumber()` returns rand(),
 * so E.hwRand() repeats the same sequence on every boot. The first outputs, 2002641757 and
 * 1519824769, are the ones ESPRUINO.md §4 recorded on the real interpreter.
 */
export class EspruinoRand {
  private w = 0xdeadbeef;
  private z = 0xcafebabe;

  next(): number {
    this.z = (Math.imul(36969, this.z & 0xffff) + (this.z >>> 16)) >>> 0;
    this.w = (Math.imul(18000, this.w & 0xffff) + (this.w >>> 16)) >>> 0;
    return (((this.z << 16) + this.w) >>> 0) & 0x7fffffff; // RAND_MAX = 0x7fffffff
  }

  /** E.srand(seed): the same seeding as Espruino's srand(). */
  seed(seed: number): void {
    const s = seed >>> 0;
    this.w = ((s & 0xffff) | (s << 16)) >>> 0;
    this.z = ((s & 0xffff0000) | (s >>> 16)) >>> 0;
  }
}

export type Board = "ESP32" | "ESP32S3" | "ESP32C3";

/** Address of the hardware RNG data register per chip (Espressif technical reference manuals). */
export const HARDWARE_RNG_REGISTER: Record<Board, number> = {
  ESP32: 0x3ff75144,
  ESP32S3: 0x6003507c,
  ESP32C3: 0x600260b0,
};

/** peek32(addr): the RNG register gives true randomness; any other address is not simulated. */
export function peek32(board: Board, address: number): number {
  if (address >>> 0 === HARDWARE_RNG_REGISTER[board]) return randomBytes(4).readUInt32LE(0);
  throw new Error(
    `peek32(0x${(address >>> 0).toString(16)}): the simulator only models the ${board} hardware RNG ` +
      `register 0x${HARDWARE_RNG_REGISTER[board].toString(16)}; reading other memory on a device returns whatever is there`,
  );
}
