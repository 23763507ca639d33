// A simulated ESP32 running Espruino 2v29: one node:vm context holding only Espruino's globals, with
// its own event loop, Storage, net, Wifi and crypto. See docs/ESPRUINO.md for what each part mirrors.
import vm from "node:vm";
import { BLOCK_SIZE, MESSAGE_HEADER_SIZE } from "../firmware/core/constants.js";
import { DeviceConsole } from "./console.js";
import type { DeviceCore, DeviceFailure, DeviceResource, FailureKind } from "./core.js";
import { createAES, createCryptoModule } from "./crypto.js";
import type { DeviceSpeed } from "./device-speed.js";
import { deliverToProcess, describeThrown, type ErrorFlag, installEspruinoApi, type MemoryReport } from "./espruino-api.js";
import { installEvents } from "./events.js";
import { defineGlobal, shapeBuiltins } from "./globals.js";
import { type Board, EspruinoRand } from "./hwrand.js";
import { type LibraryEvents, LibraryRecorder } from "./library-events.js";
import { EventLoop, type UncaughtRecord } from "./loop.js";
import { MemoryEstimator, MemoryWatch } from "./memory.js";
import { createModuleSystem } from "./modules.js";
import { createNetModule, type NetHooks } from "./net.js";
import { installPins, type PinHooks, type PinOptions } from "./pins.js";
import { createStorageModule, FlashStorage } from "./storage.js";
import { createWifiModule, type WifiHooks, type WifiScript } from "./wifi.js";

export type { DeviceFailure } from "./core.js";
export type { Board } from "./hwrand.js";
export type { LibraryCounts, LibraryEvent, LibraryEvents } from "./library-events.js";
export type { UncaughtRecord } from "./loop.js";

/** JsVars per board (ESPRUINO.md §8): ESP32.py and ESP32S3 16383, ESP32C3_IDF4.py 4095. */
export const DEFAULT_JSVARS: Record<Board, number> = { ESP32: 16383, ESP32S3: 16383, ESP32C3: 4095 };

/** The module whose events `Device.library` counts. */
const LIBRARY_MODULE = "lwstcp";

/** Longest extra pause between memory walks when walks are slow. */

export interface DeviceOptions {
  /** Names the device in console prefixes and errors (default "dev"). */
  name?: string;
  board?: Board;
  /** The JsVar budget; exceeding it fails the device with "out of memory". */
  jsVars?: number;
  /** Initial Storage files, name → binary string. */
  storage?: Record<string, string>;
  wifi?: WifiScript;
  /** Receives each console line; with `prefix` true the line starts with "[name] ". */
  console?: (line: string) => void;
  prefix?: boolean;
  /** Minimum time between two memory walks during normal running (default 200 ms). */
  memoryCheckMs?: number;
  /** What the app reads from pins (D2: 1, D36: () => 0.42) and E.getTemperature(); writes are recorded in Device.pins. */
  pins?: PinOptions["pins"];
  temperature?: PinOptions["temperature"];
  /** Longest a single run() of top-level code may take (default 10 s): a stuck loop fails the test, not CI. */
  runTimeoutMs?: number;
  /** How long the device's work takes (device-speed.ts); default: no time at all. */
  speed?: DeviceSpeed;
}

export interface Device {
  readonly name: string;
  readonly board: Board;
  /** Every console line, unprefixed. */
  readonly consoleLines: readonly string[];
  /** Uncaught exceptions, as Espruino printed them. */
  readonly uncaught: readonly UncaughtRecord[];
  /** Set when the device stopped on its own (out of memory, interpreter crash). */
  readonly failure: DeviceFailure | undefined;
  readonly storage: FlashStorage;
  readonly wifi: WifiHooks;
  readonly net: NetHooks;
  /** Highest JsVar usage seen by the memory checks. */
  readonly peakJsVars: number;
  /** What the lwstcp library (require("lwstcp")) did: handshakes, failures by reason, messages, reconnects… */
  readonly library: LibraryEvents;
  /** The simulated GPIO: every write, what a read returns, and a way to change an input. */
  readonly pins: PinHooks;
  readonly stopped: boolean;
  /** Runs top-level code as the console/upload would; an exception is printed as "Uncaught …" and returned as undefined. */
  run(source: string, filename?: string): unknown;
  /** Modules.addCached(name, source) from outside. */
  addModule(name: string, source: string): void;
  memory(): MemoryReport;
  /** Resolves when a console line matches, rejects after timeoutMs or when the device fails. */
  waitForConsole(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /** Closes every socket, server and timer; the device runs nothing afterwards. */
  stop(): void;
}

export function createDevice(options: DeviceOptions = {}): Device {
  const name = options.name ?? "dev";
  const board: Board = options.board ?? "ESP32";
  const budget = options.jsVars ?? DEFAULT_JSVARS[board];
  const memoryCheckMs = options.memoryCheckMs ?? 200;
  const storage = new FlashStorage(options.storage);
  const echo = options.console;
  const deviceConsole = new DeviceConsole(name, echo ? (line) => echo(options.prefix ? `[${name}] ${line}` : line) : undefined);
  const lines = deviceConsole.lines;
  const print = deviceConsole.print;
  const resources = new Set<DeviceResource>();
  let failure: DeviceFailure | undefined;
  let stopped = false;
  let errorFlags: Set<ErrorFlag> | undefined;

  const context = vm.createContext({}, { name: `espruino:${name}`, codeGeneration: { strings: true, wasm: false } });
  const intrinsics = shapeBuiltins(context);
  const define = (key: string, value: unknown) => defineGlobal(intrinsics.global, key, value);

  let wifiConnected = () => false;
  // Made once the estimator exists; work before that (there is none) is not checked.
  let watch: MemoryWatch | undefined;
  const loop: EventLoop = new EventLoop(
    {
      print,
      deliverUncaught: (error) => deliverToProcess(core, error),
      describeError: (error) => describeThrown(core, error),
      afterWork: () => watch?.check(false),
    },
    options.speed,
  );

  const core: DeviceCore = {
    name,
    board,
    context,
    intrinsics,
    loop,
    resources,
    rand: new EspruinoRand(),
    print,
    fail: (kind: FailureKind, message: string) => fail(kind, message),
    networkUp: () => wifiConnected(),
  };

  installEvents(core);
  // Socket and Server are global classes on Espruino; net.ts gives them their methods.
  define("Socket", vm.runInContext("(function Socket() {})", context));
  define("Server", vm.runInContext("(function Server() {})", context));

  const modulesLoaded: unknown[] = [];
  const library = new LibraryRecorder();
  // A message is opened in one go once it is whole (3 bytes of header with it): the device is busy that long.
  if (options.speed)
    library.listen((event) => event.type === "message-received" && loop.charge(0, Math.ceil((event.bytes + MESSAGE_HEADER_SIZE) / BLOCK_SIZE)));
  const memory = new MemoryEstimator(
    core,
    () => storage.executedSources,
    () => modulesLoaded,
    library.disguise,
  );
  watch = new MemoryWatch(memory, budget, memoryCheckMs, (usage) => fail("out-of-memory", `estimated ${usage} JsVars exceed the budget of ${budget}`));
  const api = installEspruinoApi(core, memory, () => budget, define);
  errorFlags = api.errorFlags;
  const pins = installPins(core, define, intrinsics.global.E as Record<string, unknown>, { pins: options.pins, temperature: options.temperature });

  const AES = createAES(core);
  define("AES", AES);
  const net = createNetModule(core);
  const wifi = createWifiModule(core, options.wifi);
  wifiConnected = () => wifi.hooks.connected;
  const storageModule = createStorageModule(core, storage);
  const cryptoModule = createCryptoModule(core, AES);
  const modules = createModuleSystem(core, storage, {
    net: () => net.module,
    Wifi: () => wifi.module,
    Storage: () => storageModule,
    crypto: () => cryptoModule,
  });
  define("require", (moduleName: unknown) => {
    const exported = modules.require(String(moduleName));
    if (!modulesLoaded.includes(exported)) {
      modulesLoaded.push(exported);
      if (String(moduleName) === LIBRARY_MODULE) library.instrumentLibrary(exported);
    }
    return exported;
  });
  define("Modules", modules.Modules);
  memory.snapshotBuiltins();

  function fail(kind: FailureKind, message: string): void {
    if (failure) return;
    failure = { kind, message };
    if (kind === "out-of-memory") {
      errorFlags?.add("MEMORY");
      print("ERROR: Out of Memory!");
    }
    print(`host-sim: device stopped (${kind}): ${message}`);
    stop();
  }

  function stop(): void {
    if (stopped) return;
    stopped = true;
    watch?.stop();
    loop.stop();
    for (const resource of [...resources]) resource.dispose();
    resources.clear();
    deviceConsole.stopped();
  }

  return {
    name,
    board,
    storage,
    consoleLines: lines,
    uncaught: loop.uncaught,
    get failure() {
      return failure;
    },
    get peakJsVars() {
      return watch ? watch.peak : 0;
    },
    library,
    pins,
    get stopped() {
      return stopped;
    },
    wifi: wifi.hooks,
    net: net.hooks,
    run(source: string, filename = "upload.js") {
      if (stopped) throw new Error(`device ${name} is stopped`);
      let result: unknown;
      try {
        const script = new vm.Script(source, { filename });
        result = script.runInContext(context, { timeout: options.runTimeoutMs ?? 10_000 });
      } catch (error) {
        loop.reportUncaught(error);
      }
      watch?.check(true);
      return result;
    },
    addModule(moduleName: string, source: string) {
      (modules.Modules as { addCached: (n: string, s: string) => void }).addCached(moduleName, source);
    },
    memory: () => api.memoryReport(),
    waitForConsole(pattern: RegExp | string, timeoutMs = 5000) {
      return deviceConsole.waitFor(
        pattern,
        timeoutMs,
        () => stopped,
        () => (failure ? ` (${failure.kind}: ${failure.message})` : ""),
      );
    },
    stop,
  };
}
