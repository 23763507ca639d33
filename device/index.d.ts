// Types for an application that runs on an ESP32 under Espruino 2v29 and uses the lwstcp device
// module. A project gets them with one line in tsconfig.json: "types": ["lwstcp/device"].
//
// The no-default-lib directive below keeps TypeScript's default libraries (DOM, ES2015+) out of the
// program, and only the ES5 library comes in: what the device lacks (Map, Set, Symbol, Promise.allSettled,
// window, Buffer, process.argv…) is a type error, not a crash on the board. The global names declared
// here are those scripts/espruino-globals.json lists for ESP32 (a test holds this file to that list);
// the build's static check (lwstcp-firmware check) catches the members ES5's library has and
// Espruino does not (Object.freeze, Array.prototype.lastIndexOf…).
//
// Strings on the device are bytes: one char per byte, no Unicode. Messages arrive as such binary
// strings; E.toUint8Array(text) gives their bytes and E.toString(bytes) makes one from bytes.

/// <reference no-default-lib="true"/>
/// <reference lib="es5" />

// ---------------------------------------------------------------------------------------------
// The lwstcp device module: require("lwstcp") (its types are in lwstcp.d.ts)

declare namespace lwstcp {
  type KeyInput = import("./lwstcp.js").KeyInput;
  type Profile = import("./lwstcp.js").Profile;
  type Message = import("./lwstcp.js").Message;
  type Reason = import("./lwstcp.js").Reason;
  type LightweightSecureClient = import("./lwstcp.js").LightweightSecureClient;
  type LightweightSecureServer = import("./lwstcp.js").LightweightSecureServer;
  type Session = import("./lwstcp.js").Session;
  type HandshakeResult = import("./lwstcp.js").HandshakeResult;
  type Module = import("./lwstcp.js").Module;
}

// ---------------------------------------------------------------------------------------------
// Espruino 2v29 on ESP32: the globals an application uses

/** A pin object (D0..D39). Functions taking a pin also take its number. */
interface Pin {
  read(): boolean;
  write(value: boolean | number): void;
  set(): void;
  reset(): void;
  mode(mode: PinMode): void;
  getMode(): PinMode;
  toggle(): boolean;
}
type PinLike = Pin | number;
type PinMode = "analog" | "input" | "input_pullup" | "input_pulldown" | "output" | "opendrain" | "af_output" | "af_opendrain" | "opendrain_pullup" | "auto";

declare var D0: Pin;
declare var D1: Pin;
declare var D2: Pin;
declare var D3: Pin;
declare var D4: Pin;
declare var D5: Pin;
declare var D6: Pin;
declare var D7: Pin;
declare var D8: Pin;
declare var D9: Pin;
declare var D10: Pin;
declare var D11: Pin;
declare var D12: Pin;
declare var D13: Pin;
declare var D14: Pin;
declare var D15: Pin;
declare var D16: Pin;
declare var D17: Pin;
declare var D18: Pin;
declare var D19: Pin;
declare var D20: Pin;
declare var D21: Pin;
declare var D22: Pin;
declare var D23: Pin;
declare var D24: Pin;
declare var D25: Pin;
declare var D26: Pin;
declare var D27: Pin;
declare var D28: Pin;
declare var D29: Pin;
declare var D30: Pin;
declare var D31: Pin;
declare var D32: Pin;
declare var D33: Pin;
declare var D34: Pin;
declare var D35: Pin;
declare var D36: Pin;
declare var D37: Pin;
declare var D38: Pin;
declare var D39: Pin;
/** The board's LED and button pins as Espruino's ESP32 build names them. */
declare var LED1: Pin;
declare var BTN1: Pin;
declare var HIGH: 1;
declare var LOW: 0;

declare function print(...text: any[]): void;
declare var console: { log(...text: any[]): void };
/** Seconds since power-on (or since setTime), with sub-millisecond resolution. */
declare function getTime(): number;

type TimerId = number;
declare function setTimeout(fn: (...args: any[]) => void, ms?: number, ...args: any[]): TimerId;
declare function setInterval(fn: (...args: any[]) => void, ms?: number, ...args: any[]): TimerId;
/** Throws on undefined: clear only an id you hold. clearTimeout() with no argument clears every timer. */
declare function clearTimeout(id: TimerId): void;
declare function clearInterval(id: TimerId): void;
declare function changeInterval(id: TimerId, ms: number): void;

interface WatchEvent {
  state: boolean;
  time: number;
  lastTime: number;
}
interface WatchOptions {
  repeat?: boolean;
  edge?: "rising" | "falling" | "both" | 1 | -1 | 0;
  /** Debounce in ms. */
  debounce?: number;
  irq?: boolean;
}
declare function setWatch(fn: (event: WatchEvent) => void, pin: PinLike, options?: WatchOptions | number): number;
declare function clearWatch(id?: number): void;
declare function pinMode(pin: PinLike, mode?: PinMode, automatic?: boolean): void;
declare function getPinMode(pin: PinLike): PinMode;
declare function digitalRead(pin: PinLike | PinLike[]): number;
declare function digitalWrite(pin: PinLike | PinLike[], value: boolean | number): void;
declare function digitalPulse(pin: PinLike, value: boolean, time: number | number[]): void;
/** 0..1 */
declare function analogRead(pin: PinLike): number;
declare function analogWrite(pin: PinLike, value: number, options?: { freq?: number; soft?: boolean; forceSoft?: boolean }): void;

/** Reads a 32-bit word of the chip's address space (memory-mapped registers). */
declare function peek32(address: number): number;
declare function peek16(address: number): number;
declare function peek8(address: number): number;
declare function poke32(address: number, value: number): void;
declare function poke16(address: number, value: number): void;
declare function poke8(address: number, value: number): void;

declare function atob(text: string): string;
declare function btoa(binary: string): string;
/** Saves the interpreter state to flash, to be restored at boot. */
declare function save(): void;
/** Restarts the interpreter from the saved state (or from .bootcde). */
declare function load(filename?: string): void;
declare function reset(clearFlash?: boolean): void;
declare function setTime(seconds: number): void;
declare function dump(): void;
declare function trace(root?: any): void;
declare function echo(on: boolean): void;
declare function getSerial(): string;
declare var global: any;

/** Espruino's utility object. */
declare var E: {
  /** A binary string (one char per byte) from typed arrays, arrays, numbers and strings; undefined when it cannot be allocated. */
  toString(...data: any[]): string;
  /** Bytes from a binary string or the other inputs toString accepts. */
  toUint8Array(...data: any[]): Uint8Array;
  toArrayBuffer(binary: string): ArrayBuffer;
  /** A 31-bit number from Espruino's software generator: fixed seed on ESP32, never a secret. */
  hwRand(): number;
  srand(seed: number): void;
  /** JsVars (blocks of 14 bytes on ESP32) that a value uses. */
  getSizeOf(value: any, depth?: number): number;
  /** Flags such as "LOW_MEMORY" or "FIFO_FULL" set since the last call, or undefined. */
  getErrorFlags(): string[] | undefined;
  /**
   * The ESP32's internal sensor: the raw reading Espressif's undocumented temprature_sens_read()
   * gives (roughly °F, uncalibrated; it differs from chip to chip). Use it for trends, not as a thermometer.
   */
  getTemperature(): number;
};

interface MemoryReport {
  free: number;
  usage: number;
  total: number;
  history: number;
  gc?: number;
  gctime?: number;
  blocksize?: number;
}
declare var process: {
  readonly version: string;
  readonly env: { VERSION: string; BOARD: string; MODULES: string; [name: string]: any };
  /** Runs a garbage collection (unless gc is false) and reports JsVars. */
  memory(gc?: boolean): MemoryReport;
  on(event: "uncaughtException", fn: (error: any) => void): void;
};

interface PromiseConstructor {
  new <T>(executor: (resolve: (value: T) => void, reject: (reason?: any) => void) => void): Promise<T>;
  resolve<T>(value: T): Promise<T>;
  reject(reason?: any): Promise<never>;
  all(values: any[]): Promise<any[]>;
}
/** Espruino's Promise: then/catch, resolve, reject and all (no race, allSettled, any, finally). */
// biome-ignore lint/suspicious/noShadowRestrictedNames: the ES5 library has no Promise value; this is the device's
declare var Promise: PromiseConstructor;

declare var Modules: {
  addCached(name: string, source: string | (() => void)): void;
  removeCached(name: string): void;
  removeAllCached(): void;
  getCached(): string[];
};

declare namespace Espruino {
  interface WifiConnectOptions {
    password?: string;
    dnsServers?: string[];
    authMode?: string;
    channel?: number;
    bssid?: string;
  }
  interface WifiIP {
    ip: string;
    netmask: string;
    gw: string;
    mac?: string;
  }
  interface Wifi {
    connect(ssid: string, options: WifiConnectOptions | null, callback?: (error: string | null) => void): void;
    disconnect(callback?: () => void): void;
    getIP(callback?: (error: string | null, ip: WifiIP) => void): WifiIP;
    getStatus(callback?: (status: any) => void): { station: string; ap?: string; mode?: string; [key: string]: any };
    setConfig(settings: { powersave?: "none" | "ps-poll"; phy?: string }): void;
    save(what?: "clear" | "sta" | "ap" | "sta+ap"): void;
    restore(): void;
    on(event: "connected", fn: (details: WifiIP) => void): void;
    on(event: "disconnected", fn: (details: { ssid?: string; mac?: string; reason?: string; msg?: string }) => void): void;
    on(event: "associated", fn: (details: { ssid: string; mac: string; channel: string }) => void): void;
    on(event: string, fn: (details: any) => void): void;
    removeAllListeners(event?: string): void;
  }
  interface Storage {
    read(name: string, offset?: number, length?: number): string | undefined;
    readJSON(name: string, noExceptions?: boolean): any;
    readArrayBuffer(name: string): ArrayBuffer | undefined;
    write(name: string, data: string | ArrayBuffer | Uint8Array, offset?: number, size?: number): boolean;
    writeJSON(name: string, value: any): boolean;
    list(pattern?: RegExp | string): string[];
    erase(name: string): void;
    eraseAll(): void;
    getFree(): number;
    compact(): void;
  }
  /** An Espruino socket: `data` events carry binary strings; write() takes a string (a typed array is sent as decimal text). */
  interface Socket {
    write(data: string): boolean;
    end(data?: string): void;
    on(event: "data", fn: (data: string) => void): void;
    on(event: "close" | "drain" | "connect", fn: () => void): void;
    on(event: "error", fn: (error: { code: number; message: string }) => void): void;
    on(event: string, fn: (arg?: any) => void): void;
  }
  interface Server {
    listen(port: number): Server;
    close(): void;
  }
  interface Net {
    connect(options: { host: string; port: number }, callback?: (socket: Socket) => void): Socket;
    createServer(callback: (socket: Socket) => void): Server;
  }
}

declare function require(name: "lwstcp"): lwstcp.Module;
declare function require(name: "Wifi"): Espruino.Wifi;
declare function require(name: "Storage"): Espruino.Storage;
declare function require(name: "net"): Espruino.Net;
declare function require(name: string): any;
