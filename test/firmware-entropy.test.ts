// The device entropy pool (firmware/entropy.ts): it reads the board's RNG register through
// peek32, never Math.random, and falls back to E.hwRand only with a loud warning.
import assert from "node:assert/strict";
// @ts-expect-error: plain ESM JavaScript with JSDoc types
import { readBoards } from "../../scripts/boards.mjs";
import { createEntropyPool } from "../firmware/entropy.js";
import { type EspruinoStubs, installEspruinoStubs, withoutMathRandom } from "./helpers/espruino-stubs.js";
import { testBytes } from "./helpers/seed.js";

const ESP32_RNG = 0x3ff75144;

describe("firmware: entropy pool", () => {
  let stubs: EspruinoStubs | undefined;
  afterEach(() => stubs?.restore());

  it("takes the ESP32 register address from boards/ESP32.json", () => {
    const esp32 = readBoards().find((b: { board: string }) => b.board === "ESP32");
    assert.equal(esp32.rngRegister, ESP32_RNG);
  });

  it("reads only the board's RNG register and never Math.random", () => {
    stubs = installEspruinoStubs({ peek32: () => testBytes(4).readUInt32LE(0) });
    const warnings: string[] = [];
    const out = new Uint8Array(64);
    const pool = withoutMathRandom(() => {
      const p = createEntropyPool(ESP32_RNG, (t) => warnings.push(t));
      p.fill(out, 0, 64);
      p.word();
      return p;
    });
    assert.equal(pool.source, "register");
    assert.deepEqual(warnings, []);
    assert.ok(stubs.peeks.length >= 8 + 16 + 1, "one register read per output word, after filling the pool");
    assert.ok(stubs.peeks.every((a) => a === ESP32_RNG));
    assert.equal(stubs.hwRandCalls, 0);
    assert.ok(new Set(out).size > 16, "64 random bytes are not a handful of values");
  });

  it("fills exactly the requested range", () => {
    stubs = installEspruinoStubs({ peek32: () => 0xffffffff });
    const out = new Uint8Array(12);
    const pool = createEntropyPool(ESP32_RNG, () => undefined);
    pool.fill(out, 3, 5);
    assert.deepEqual([...out.subarray(0, 3)], [0, 0, 0]);
    assert.deepEqual([...out.subarray(8)], [0, 0, 0, 0]);
  });

  it("still varies its output when the register is stuck (the pool mixes in its history)", () => {
    stubs = installEspruinoStubs({ peek32: () => 0x12345678 });
    const pool = createEntropyPool(ESP32_RNG, () => undefined);
    const words = new Set<number>();
    for (let i = 0; i < 32; i++) words.add(pool.word());
    assert.ok(words.size > 24);
  });

  it("without a register falls back to E.hwRand, warning loudly, and still never Math.random", () => {
    stubs = installEspruinoStubs();
    const warnings: string[] = [];
    const pool = withoutMathRandom(() => {
      const p = createEntropyPool(undefined, (t) => warnings.push(t));
      p.fill(new Uint8Array(16), 0, 16);
      return p;
    });
    assert.equal(pool.source, "hwRand");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /WARNING.*E\.hwRand.*PREDICTABLE/);
    assert.equal(stubs.peeks.length, 0);
    assert.ok(stubs.hwRandCalls > 0);
  });
});
