// The Espruino-specific globals: E, process, console/print, timers, getTime, peek32 (ESPRUINO.md §2.4, §4).
import { performance } from "node:perf_hooks";
import vm from "node:vm";
import type { DeviceCore } from "./core.js";
import { bytesOf } from "./crypto.js";
import { listenersOf } from "./events.js";
import { peek32 } from "./hwrand.js";
import type { MemoryEstimator } from "./memory.js";

/** Error flag names Espruino reports through E.getErrorFlags() (src/jsutils.h). */
export type ErrorFlag = "FIFO_FULL" | "BUFFER_FULL" | "CALLBACK" | "LOW_MEMORY" | "MEMORY" | "MEMORY_BUSY" | "UART_OVERFLOW";

export interface MemoryReport {
  free: number;
  usage: number;
  total: number;
}

export interface ApiState {
  readonly errorFlags: Set<ErrorFlag>;
  memoryReport(): MemoryReport;
}

/** How Espruino's console shows a value: strings as they are, other values much like JSON. */
export function formatValue(core: DeviceCore, value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "function") return "function () { ... }";
  if (value === undefined) return "undefined";
  if (typeof value === "object" && value !== null && ArrayBuffer.isView(value)) {
    const name = Object.prototype.toString.call(value).slice(8, -1);
    return `new ${name}([${Array.prototype.join.call(value, ", ")}])`;
  }
  try {
    const text = core.intrinsics.JSON.stringify(value);
    return text === undefined ? String(value) : text;
  } catch {
    return String(value);
  }
}

/** What "Uncaught …" shows: String(e) for errors, the JSON form for other thrown values. */
export function describeThrown(core: DeviceCore, value: unknown): string {
  if (typeof value === "object" && value !== null && "message" in value) {
    let text = String(value);
    if (text === "[object Object]") text = `Error: ${String((value as { message: unknown }).message)}`;
    return text;
  }
  return typeof value === "string" ? JSON.stringify(value) : formatValue(core, value);
}

export function installEspruinoApi(core: DeviceCore, memory: MemoryEstimator, budget: () => number, define: (name: string, value: unknown) => void): ApiState {
  const { intrinsics, loop } = core;
  const errorFlags = new Set<ErrorFlag>();
  const memoryReport = (): MemoryReport => {
    const total = budget();
    const usage = memory.usage();
    return { free: Math.max(0, total - usage), usage, total };
  };

  // ---- console -------------------------------------------------------------------------------------
  const printArgs = (...args: unknown[]) => core.print(args.map((a) => formatValue(core, a)).join(" "));
  const consoleObject = new intrinsics.Object() as Record<string, unknown>;
  consoleObject.log = printArgs;
  consoleObject.info = printArgs;
  consoleObject.warn = printArgs;
  consoleObject.error = printArgs;
  consoleObject.debug = printArgs;
  define("console", consoleObject);
  define("print", printArgs);

  // ---- timers (§2.4) -------------------------------------------------------------------------------
  const asCallback = (fn: unknown): Function => {
    if (typeof fn === "function") return fn;
    if (typeof fn === "string") return vm.runInContext(`(function () {\n${fn}\n})`, core.context) as Function;
    throw new intrinsics.Error("Function or String not supplied!");
  };
  define("setTimeout", (fn: unknown, ms?: unknown, ...args: unknown[]) => loop.setTimer(asCallback(fn), ms, args, false));
  define("setInterval", (fn: unknown, ms?: unknown, ...args: unknown[]) => loop.setTimer(asCallback(fn), ms, args, true));
  const clearer =
    (name: string) =>
    (...ids: unknown[]) => {
      if (ids.length === 0) {
        loop.clearAllTimers();
        return;
      } // no argument: every timeout *and* interval
      if (ids[0] === undefined) throw new intrinsics.Error(`${name}(undefined) not allowed. Use ${name}() instead`);
      if (ids[0] !== null) loop.clearTimer(ids[0]);
    };
  define("clearTimeout", clearer("clearTimeout"));
  define("clearInterval", clearer("clearInterval"));
  define("changeInterval", (id: unknown, ms: unknown) => loop.changeInterval(id, ms));

  // ---- time ----------------------------------------------------------------------------------------
  // Date.now() has fractional milliseconds on Espruino; getTime() is seconds as a float.
  const now = () => performance.timeOrigin + performance.now();
  (intrinsics.global.Date as { now: () => number }).now = now;
  define("getTime", () => now() / 1000);

  // ---- randomness (§4): Math.random and E.hwRand draw on the same fixed-seed rand() ------------------
  (intrinsics.global.Math as { random: () => number }).random = () => core.rand.next() / 2147483648;
  define("peek32", (address: unknown) => peek32(core.board, Number(address)));

  // atob/btoa work on binary strings (one char per byte), as on the device.
  define("atob", (text: unknown) => Buffer.from(String(text), "base64").toString("latin1"));
  define("btoa", (text: unknown) => Buffer.from(String(text), "latin1").toString("base64"));

  // ---- E ------------------------------------------------------------------------------------------
  const collectBytes = (args: unknown[], out: number[]) => {
    for (const arg of args) {
      if (typeof arg === "number") out.push(arg & 0xff);
      else if (typeof arg === "object" && arg !== null && !Array.isArray(arg) && !ArrayBuffer.isView(arg) && "data" in arg && "count" in arg) {
        const { data, count } = arg as { data: unknown; count: number };
        for (let i = 0; i < count; i++) collectBytes([data], out);
      } else if (Array.isArray(arg)) collectBytes(arg, out);
      else for (const b of bytesOf(arg)) out.push(b);
    }
  };
  const E = new intrinsics.Object() as Record<string, unknown>;
  Object.assign(E, {
    toString: (...args: unknown[]) => {
      const out: number[] = [];
      collectBytes(args, out);
      return Buffer.from(out).toString("latin1");
    },
    toUint8Array: (...args: unknown[]) => {
      const out: number[] = [];
      collectBytes(args, out);
      return new intrinsics.Uint8Array(out);
    },
    // On the device the buffer shares memory with the string; strings are immutable in V8, so this is a copy.
    toArrayBuffer: (text: unknown) => {
      const out = new intrinsics.Uint8Array(bytesOf(String(text)));
      return out.buffer;
    },
    hwRand: () => core.rand.next(),
    srand: (seed: unknown) => {
      core.rand.seed(Number(seed));
    },
    getSizeOf: (value: unknown) => memory.sizeOf(value),
    getErrorFlags: () => {
      const flags = new intrinsics.Array<string>();
      flags.push(...errorFlags);
      errorFlags.clear();
      return flags;
    },
    setFlags: () => undefined,
    getFlags: () => new intrinsics.Object(),
    setTimeZone: () => undefined,
  });
  define("E", E);

  // ---- process --------------------------------------------------------------------------------------
  const processObject = new intrinsics.Object() as Record<string, unknown>;
  const env = new intrinsics.Object() as Record<string, unknown>;
  Object.assign(env, {
    VERSION: "2v29",
    BOARD: core.board,
    MODULES: "timer,Flash,Storage,heatshrink,fs,net,dgram,tls,http,NetworkJS,Wifi,TelnetServer,crypto,neopixel",
  });
  Object.assign(processObject, {
    version: "2v29",
    env,
    memory: () => Object.assign(new intrinsics.Object(), memoryReport(), { blocksize: 14 }),
  });
  define("process", processObject);

  return { errorFlags, memoryReport };
}

/** Hands an uncaught error to process.on('uncaughtException') listeners; true if there were any. */
export function deliverToProcess(core: DeviceCore, error: unknown): boolean {
  const processObject = core.intrinsics.global.process as object | undefined;
  if (!processObject) return false;
  const listeners = listenersOf(processObject, "uncaughtException");
  if (listeners.length === 0) return false;
  for (const listener of listeners) {
    try {
      Reflect.apply(listener, processObject, [error]);
    } catch (again) {
      core.print("Uncaught " + describeThrown(core, again));
    }
  }
  return true;
}
