// Stand-ins for the Espruino globals the device layer reaches (E, peek32), installed on
// globalThis for Node-side tests and removed afterwards. They are strict where Espruino is:
// E.toString accepts only what the device's does, and produces a binary string.

const g = globalThis as Record<string, unknown>;

export interface EspruinoStubs {
  /** Every address peek32 was called with. */
  peeks: number[];
  hwRandCalls: number;
  restore(): void;
}

export function installEspruinoStubs(options: { peek32?: (address: number) => number } = {}): EspruinoStubs {
  const saved = { E: g.E, peek32: g.peek32 };
  let hwRandState = 12345;
  const stubs: EspruinoStubs = {
    peeks: [],
    hwRandCalls: 0,
    restore() {
      g.E = saved.E;
      g.peek32 = saved.peek32;
    },
  };
  g.E = {
    toString(data: unknown): string {
      if (!(data instanceof Uint8Array)) throw new Error("stub E.toString: expected a Uint8Array in these tests");
      let out = "";
      for (let i = 0; i < data.length; i++) out += String.fromCharCode(data[i]);
      return out;
    },
    toArrayBuffer(text: unknown): ArrayBuffer {
      if (typeof text !== "string") throw new Error("stub E.toArrayBuffer: expected a string");
      return Uint8Array.from(text, (c) => c.charCodeAt(0) & 255).buffer;
    },
    hwRand(): number {
      stubs.hwRandCalls++;
      hwRandState = (hwRandState * 1103515245 + 12345) & 0x7fffffff; // a fixed-seed generator, as on ESP32
      return hwRandState;
    },
  };
  g.peek32 = (address: number): number => {
    stubs.peeks.push(address);
    if (!options.peek32) throw new Error("stub peek32: no register simulated");
    return options.peek32(address);
  };
  return stubs;
}

/** Makes Math.random throw for the duration of `fn`, so a test proves it is never called. */
export function withoutMathRandom<T>(fn: () => T): T {
  const original = Math.random;
  Math.random = () => {
    throw new Error("Math.random was called");
  };
  try {
    return fn();
  } finally {
    Math.random = original;
  }
}
