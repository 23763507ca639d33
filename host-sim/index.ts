// lwstcp/sim: test your firmware on the desktop. startDevice boots an app bundle on a simulated
// ESP32 (Espruino 2v29) set up as `lwstcp-flash` sets a board up — the library as the Storage
// module "lwstcp", your settings as "lwstcp-config.json" — with pins your test scripts, and hands
// back what a test asserts on: console lines, the library's events, pin writes, JsVars.
//
//   import { startDevice } from "lwstcp/sim";
//   const device = await startDevice({ app: "dist/app.js", config: { ssid: "lab", password: "pw", port }, pins: { D36: () => 0.42 } });
//   await device.waitForEvent("handshake");
//   await device.waitForConsole(/reading sent/);
//   device.pinWrites("D2");  // [{ pin: "D2", value: 1, kind: "digital", time }]
//   device.stop();
import { resolve } from "node:path";
import type { Device } from "./device.js";
import type { DeviceSpeed, DeviceSpeedName } from "./device-speed.js";
import type { LibraryEvent } from "./library-events.js";
import type { PinScript, PinWrite } from "./pins.js";
import { type AppConfig, bootFirmware, DEFAULT_LIBRARY_PATH } from "./runner.js";

export type { Device } from "./device.js";
export type { DeviceSpeed, DeviceSpeedName } from "./device-speed.js";
export type { LibraryCounts, LibraryEvent } from "./library-events.js";
export type { PinScript, PinWrite } from "./pins.js";
export type { AppConfig } from "./runner.js";

/** The package's own directory (build/host-sim/ is two levels down). */
const PACKAGE_ROOT = new URL("../../", import.meta.url).pathname;

export interface StartOptions {
  /** The app bundle (lwstcp-firmware build's output), a path. */
  app: string;
  /** Stored as lwstcp-config.json; its ssid and password are the simulated access point's. */
  config?: AppConfig;
  /** What the app reads: { D4: 1, D36: () => 0.42 }. */
  pins?: Record<string, PinScript>;
  /** E.getTemperature() (default 77). */
  temperature?: number | (() => number);
  /** Other Storage files, name → binary string. */
  storage?: Record<string, string>;
  /** Console prefix and device name (default "dev"). */
  name?: string;
  /** Each console line as it is printed (default: kept, not printed). */
  console?: (line: string) => void;
  /** The JsVar budget (default the ESP32's 16383). */
  jsVars?: number;
  /** The library bundle (default the package's dist/lwstcp.js); v2Library likewise for profile "v2". */
  library?: string;
  v2Library?: string;
  /** The written-out cipher a v1 board is flashed with (default the package's dist/lwstcp-xtea.js); null: a board without it. */
  xteaLibrary?: string | null;
  /** "esp32": ciphering and the library's path take the time an ESP32 would need (a projection: docs/PERFORMANCE.md), and timers wait while the device works; `speed` sets the figures. Default "instant". */
  deviceSpeed?: DeviceSpeedName;
  speed?: DeviceSpeed;
}

export interface SimulatedDevice {
  /** The whole simulated device, for what this handle does not cover (wifi.dropLink(), net, storage…). */
  readonly device: Device;
  /** Every console line so far. */
  readonly consoleLines: readonly string[];
  /** Resolves with the first console line (from boot on) matching; rejects on timeout or when the device fails. */
  waitForConsole(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /**
   * Resolves when the library has reported `count` events of this type in total (from boot on):
   * "handshake", "handshake-failed", "message-sent", "message-received", "session-ended", "connect-failed", "error", "callback-threw".
   */
  waitForEvent(type: LibraryEvent["type"], options?: { count?: number; timeoutMs?: number }): Promise<LibraryEvent>;
  /** Events of the library so far, in order. */
  readonly events: readonly LibraryEvent[];
  /** Writes to one pin (or all pins), in order. */
  pinWrites(pin?: string): PinWrite[];
  /** What the app reads from the pin now. */
  pin(pin: string): number;
  /** Changes an input (fires the app's setWatch callbacks on a level change). */
  setPin(pin: string, value: PinScript): void;
  /** JsVars in use now (the simulator's estimate) and the highest seen. */
  jsVars(): { now: number; peak: number; budget: number };
  stop(): void;
}

/** Boots an app bundle on a simulated ESP32; rejects when a bundle fails the static Espruino check. */
export async function startDevice(options: StartOptions): Promise<SimulatedDevice> {
  const events: LibraryEvent[] = [];
  const waiters: Array<() => void> = [];
  const device = await bootFirmware({
    name: options.name,
    console: options.console,
    jsVars: options.jsVars,
    storage: options.storage,
    pins: options.pins,
    temperature: options.temperature,
    app: { path: resolve(options.app) },
    library: { path: options.library ? resolve(options.library) : resolve(PACKAGE_ROOT, DEFAULT_LIBRARY_PATH) },
    // Unset: the module npm run flash puts beside the library for this profile (runner.ts).
    xteaLibrary: options.xteaLibrary === null ? null : options.xteaLibrary ? { path: resolve(options.xteaLibrary) } : undefined,
    v2Library: options.v2Library ? { path: resolve(options.v2Library) } : undefined,
    config: options.config,
    deviceSpeed: options.deviceSpeed,
    speed: options.speed,
  });
  device.library.listen((event) => {
    events.push(event);
    for (const wake of [...waiters]) wake();
  });
  const stopWatching = setInterval(() => {
    // A failed device wakes every waiter so that it can reject at once.
    if (device.failure || device.stopped) for (const wake of [...waiters]) wake();
  }, 50);
  stopWatching.unref();

  return {
    device,
    consoleLines: device.consoleLines,
    waitForConsole: (pattern, timeoutMs = 10_000) => device.waitForConsole(pattern, timeoutMs),
    events,
    waitForEvent(type, { count = 1, timeoutMs = 10_000 } = {}) {
      return new Promise((resolveEvent, reject) => {
        const check = () => {
          const matching = events.filter((e) => e.type === type);
          if (matching.length >= count) return done(() => resolveEvent(matching[count - 1]));
          if (device.failure)
            return done(() =>
              reject(new Error(`${device.name} failed (${device.failure?.kind}: ${device.failure?.message}) before ${count} ${type} event(s)`)),
            );
          if (device.stopped) return done(() => reject(new Error(`${device.name} stopped before ${count} ${type} event(s)`)));
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`no ${count} ${type} event(s) within ${timeoutMs} ms (saw: ${events.map((e) => e.type).join(", ") || "none"})`))),
          timeoutMs,
        );
        const done = (settle: () => void) => {
          clearTimeout(timer);
          const i = waiters.indexOf(check);
          if (i >= 0) waiters.splice(i, 1);
          settle();
        };
        waiters.push(check);
        check();
      });
    },
    pinWrites: (pin) => (pin === undefined ? [...device.pins.writes] : device.pins.writesTo(pin)),
    pin: (pin) => device.pins.read(pin),
    setPin: (pin, value) => device.pins.set(pin, value),
    jsVars() {
      const report = device.memory();
      return { now: report.usage, peak: Math.max(device.peakJsVars, report.usage), budget: report.total };
    },
    stop() {
      clearInterval(stopWatching);
      device.stop();
    },
  };
}
