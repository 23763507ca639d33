// Simulated GPIO for an app: the pins D0..D39 as Espruino objects, digitalWrite/digitalRead, pinMode,
// analogRead/analogWrite, setWatch/clearWatch, and E.getTemperature (the ESP32 build has it:
// scripts/espruino-globals.json "esp32E"). A test scripts what the app reads — a pin's level or
// analog value as a constant or a function called at each read — and reads back every write.
// Watches fire from the event loop, as Espruino queues pin events, when the test changes a
// pin's level with `set`.
import type { DeviceCore } from "./core.js";

/** A value a test gives a pin: a level (boolean, 0/1), an analog value 0..1, or a function called at each read. */
export type PinScript = boolean | number | (() => boolean | number);

export interface PinWrite {
  /** "D2" */
  pin: string;
  /** 0 or 1 from digitalWrite; 0..1 from analogWrite. */
  value: number;
  kind: "digital" | "analog";
  /** getTime() when it was written (seconds). */
  time: number;
}

export interface PinOptions {
  /** name ("D2", or "A0" for the ADC pin the app calls A0 — stored as given) → what reads return. */
  pins?: Record<string, PinScript>;
  /** E.getTemperature(): a number or a function (default 77: the ESP32's raw sensor reads roughly °F). */
  temperature?: number | (() => number);
}

export interface PinHooks {
  /** Every digitalWrite/analogWrite (and Pin.write/set/reset) in order. */
  readonly writes: readonly PinWrite[];
  /** Writes to one pin. */
  writesTo(pin: string): PinWrite[];
  /** What the app would read now: the last write, else the script, else 0. */
  read(pin: string): number;
  /** The mode pinMode set ("output", "input_pullup"…), or undefined. */
  mode(pin: string): string | undefined;
  /** Changes what the app reads; a level change fires matching watches. */
  set(pin: string, value: PinScript): void;
}

const PIN_COUNT = 40;
const DEFAULT_TEMPERATURE = 77;

export function installPins(core: DeviceCore, define: (name: string, value: unknown) => void, E: Record<string, unknown>, options: PinOptions = {}): PinHooks {
  const scripts = new Map<string, PinScript>(Object.entries(options.pins || {}));
  const written = new Map<string, number>();
  const modes = new Map<string, string>();
  const writes: PinWrite[] = [];
  const watches = new Map<number, { pin: string; fn: Function; repeat: boolean; edge: number; last: number; lastTime: number }>();
  let nextWatch = 1;
  const now = () => {
    const getTime = core.intrinsics.global.getTime;
    return typeof getTime === "function" ? Number(getTime()) : Date.now() / 1000;
  };
  const pinObjects = new Map<object, string>();

  const scripted = (name: string): number | undefined => {
    const script = scripts.get(name);
    if (script === undefined) return undefined;
    const value = typeof script === "function" ? script() : script;
    return typeof value === "boolean" ? (value ? 1 : 0) : Number(value);
  };
  const read = (name: string): number => {
    if (written.has(name)) return written.get(name) as number;
    return scripted(name) ?? 0;
  };
  const nameOf = (pin: unknown): string => {
    if (typeof pin === "number") return "D" + pin;
    if (pin && typeof pin === "object" && pinObjects.has(pin)) return pinObjects.get(pin) as string;
    if (typeof pin === "string") return pin;
    throw new core.intrinsics.TypeError("Expecting a pin, got " + typeof pin);
  };
  const level = (value: unknown): number => (value === true || (typeof value === "number" && value !== 0) ? 1 : 0);
  const record = (name: string, value: number, kind: PinWrite["kind"]) => {
    const before = read(name);
    written.set(name, value);
    writes.push({ pin: name, value, kind, time: now() });
    if (kind === "digital") fireWatches(name, before, value);
  };
  const fireWatches = (name: string, before: number, after: number) => {
    if (level(before) === level(after)) return;
    const state = level(after) === 1;
    const time = now();
    for (const [id, watch] of [...watches]) {
      if (watch.pin !== name) continue;
      if ((watch.edge === 1 && !state) || (watch.edge === -1 && state)) continue;
      const event = Object.assign(new core.intrinsics.Object(), { state, time, lastTime: watch.lastTime });
      watch.lastTime = time;
      if (!watch.repeat) watches.delete(id);
      core.loop.enqueue(() => core.loop.invoke(watch.fn, undefined, [event]));
    }
  };

  for (let i = 0; i < PIN_COUNT; i++) {
    const name = "D" + i;
    const pin = Object.assign(new core.intrinsics.Object(), {
      read: () => read(name) === 1,
      write: (v: unknown) => record(name, level(v), "digital"),
      set: () => record(name, 1, "digital"),
      reset: () => record(name, 0, "digital"),
      toggle: () => {
        const v = read(name) ? 0 : 1;
        record(name, v, "digital");
        return v === 1;
      },
      mode: (m: unknown) => modes.set(name, String(m)),
      getMode: () => modes.get(name) ?? "input",
      toString: () => name,
    });
    pinObjects.set(pin, name);
    define(name, pin);
  }

  const eachPin = (pins: unknown, fn: (name: string, i: number) => void) => {
    if (Array.isArray(pins)) {
      for (let i = 0; i < pins.length; i++) fn(nameOf(pins[i]), i);
    } else fn(nameOf(pins), 0);
  };
  define("digitalWrite", (pins: unknown, value: unknown) => {
    // An array of pins takes the bits of value, the last pin the lowest bit (as on Espruino).
    if (Array.isArray(pins)) eachPin(pins, (name, i) => record(name, (Number(value) >> (pins.length - 1 - i)) & 1, "digital"));
    else record(nameOf(pins), level(value), "digital");
  });
  define("digitalRead", (pins: unknown) => {
    if (!Array.isArray(pins)) return level(read(nameOf(pins)));
    let out = 0;
    eachPin(pins, (name) => (out = (out << 1) | level(read(name))));
    return out;
  });
  define("pinMode", (pin: unknown, mode?: unknown) => {
    modes.set(nameOf(pin), mode === undefined ? "auto" : String(mode));
  });
  define("getPinMode", (pin: unknown) => modes.get(nameOf(pin)) ?? "input");
  define("analogRead", (pin: unknown) => {
    const name = nameOf(pin);
    const value = written.has(name) ? (written.get(name) as number) : (scripted(name) ?? 0);
    return Math.min(1, Math.max(0, value));
  });
  define("analogWrite", (pin: unknown, value: unknown) => record(nameOf(pin), Math.min(1, Math.max(0, Number(value))), "analog"));
  define("setWatch", (fn: unknown, pin: unknown, opts?: unknown) => {
    if (typeof fn !== "function") throw new core.intrinsics.TypeError("setWatch: Expecting a function");
    const o = (opts && typeof opts === "object" ? opts : {}) as { repeat?: boolean; edge?: unknown };
    const edge = o.edge === "rising" || o.edge === 1 ? 1 : o.edge === "falling" || o.edge === -1 ? -1 : 0;
    const id = nextWatch++;
    watches.set(id, { pin: nameOf(pin), fn, repeat: !!o.repeat, edge, last: read(nameOf(pin)), lastTime: now() });
    return id;
  });
  define("clearWatch", (id?: unknown) => {
    if (id === undefined) watches.clear();
    else watches.delete(Number(id));
  });
  E.getTemperature = () => {
    const t = options.temperature ?? DEFAULT_TEMPERATURE;
    return typeof t === "function" ? t() : t;
  };

  return {
    writes,
    writesTo: (pin) => writes.filter((w) => w.pin === pin),
    read,
    mode: (pin) => modes.get(pin),
    set(pin, value) {
      const before = read(pin);
      written.delete(pin);
      scripts.set(pin, value);
      fireWatches(pin, before, read(pin));
    },
  };
}
