// Boots simulated devices the way a board is flashed (ESPRUINO.md §11): the library bundle is the
// Storage file "lwstcp" (with "lwstcp-xtea", its written-out cipher, beside it), the app's settings are the Storage file "lwstcp-config.json", and the app
// bundle is the uploaded program text. Every bundle is checked statically before it runs.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createDevice, type Device, type DeviceOptions } from "./device.js";
import { type DeviceSpeedName, deviceSpeed } from "./device-speed.js";
import { PACKAGE_ROOT } from "./fresh-bundles.js";
import { assertRunsOnEspruino } from "./static-check.js";

export const LIBRARY_STORAGE_NAME = "lwstcp";
export const V2_LIBRARY_STORAGE_NAME = "lwstcp-v2";
export const DEFAULT_V2_LIBRARY_PATH = "dist/lwstcp-v2.js";
/** The 32-round cipher written out, which the library uses when Storage has it (npm run flash uploads it). */
export const XTEA_STORAGE_NAME = "lwstcp-xtea";
export const DEFAULT_XTEA_PATH = "dist/lwstcp-xtea.js";
export const CONFIG_STORAGE_NAME = "lwstcp-config.json";
export const DEFAULT_LIBRARY_PATH = "dist/lwstcp.js";
export const DEFAULT_APP_PATH = "dist/app-esp32.js";

/** The app's settings, as the demo app reads them from Storage. */
export interface FirmwareConfig {
  ssid: string;
  password: string;
  host?: string;
  port: number;
  key: string | number[];
  rounds?: number;
  profile?: "v1" | "v2";
  /** v2 client: the id the demo names itself by (setDeviceId). */
  deviceId?: string;
  role: "client" | "server";
  count?: number;
  keepAliveMs?: number;
  timeoutMs?: number;
}

/** Any app's settings: stored as lwstcp-config.json; ssid and password are the simulated Wi-Fi's. */
export interface AppConfig {
  ssid?: string;
  password?: string;
  profile?: string;
  [name: string]: unknown;
}

/** A bundle given by path (read from disk) or by its text. */
export type BundleInput = { path: string } | { source: string; filename: string };

export interface FirmwareOptions extends DeviceOptions {
  /** The library bundle stored as Storage "lwstcp" (default: dist/lwstcp.js); null: none. */
  library?: BundleInput | null;
  /** Stored as Storage "lwstcp-v2" (default: the package's dist/lwstcp-v2.js when config.profile is "v2", else none); null: none. */
  v2Library?: BundleInput | null;
  /** Stored as Storage "lwstcp-xtea" (default: the package's dist/lwstcp-xtea.js when config.profile is not "v2", as flashed, unless `library` is null); null: none, so the library ciphers with its own loop. */
  xteaLibrary?: BundleInput | null;
  /** The program uploaded and run at top level. */
  app: BundleInput;
  /** Written to Storage "lwstcp-config.json"; the device's Wi-Fi accepts its ssid/password. */
  config?: FirmwareConfig | AppConfig;
  /** Refuse bundles the static checker rejects (default true). */
  staticCheck?: boolean;
  /** "esp32": the device's work takes the time an ESP32 flashed like this would need (a projection, device-speed.ts); `speed` sets the figures instead. Default "instant". */
  deviceSpeed?: DeviceSpeedName;
}

function readBundle(input: BundleInput): { source: string; filename: string } {
  if ("source" in input) return input;
  return { source: readFileSync(input.path, "latin1"), filename: input.path };
}

/**
 * The module npm run flash puts beside the library for these settings: the v2 engine for
 * "profile": "v2", else the written-out cipher. Its path is the package's, whatever the working
 * folder.
 */
export function profileModule(config?: { profile?: unknown }): { name: string; path: string } {
  return config && config.profile === "v2"
    ? { name: V2_LIBRARY_STORAGE_NAME, path: resolve(PACKAGE_ROOT, DEFAULT_V2_LIBRARY_PATH) }
    : { name: XTEA_STORAGE_NAME, path: resolve(PACKAGE_ROOT, DEFAULT_XTEA_PATH) };
}

/** Boots one device with the library in Storage and runs the app; rejects if a bundle fails the static check. */
export async function bootFirmware(options: FirmwareOptions): Promise<Device> {
  const app = readBundle(options.app);
  const library = options.library === null ? undefined : readBundle(options.library ?? { path: DEFAULT_LIBRARY_PATH });
  const flashed = profileModule(options.config);
  const byDefault = (name: string) => (flashed.name === name && (library || name === V2_LIBRARY_STORAGE_NAME) ? { path: flashed.path } : null);
  const v2Input = options.v2Library === undefined ? byDefault(V2_LIBRARY_STORAGE_NAME) : options.v2Library;
  const v2Library = v2Input ? readBundle(v2Input) : undefined;
  const xteaInput = options.xteaLibrary === undefined ? byDefault(XTEA_STORAGE_NAME) : options.xteaLibrary;
  const xteaLibrary = xteaInput ? readBundle(xteaInput) : undefined;
  if (options.staticCheck !== false) {
    if (library) await assertRunsOnEspruino(library.source, library.filename, { module: true });
    if (v2Library) await assertRunsOnEspruino(v2Library.source, v2Library.filename, { module: true });
    if (xteaLibrary) await assertRunsOnEspruino(xteaLibrary.source, xteaLibrary.filename, { module: true });
    await assertRunsOnEspruino(app.source, app.filename);
  }
  const storage: Record<string, string> = { ...options.storage };
  if (library) storage[LIBRARY_STORAGE_NAME] = library.source;
  if (v2Library) storage[V2_LIBRARY_STORAGE_NAME] = v2Library.source;
  if (xteaLibrary) storage[XTEA_STORAGE_NAME] = xteaLibrary.source;
  if (options.config) storage[CONFIG_STORAGE_NAME] = JSON.stringify(options.config);
  const wifi =
    options.config && typeof options.config.ssid === "string"
      ? { ssid: options.config.ssid, password: String(options.config.password ?? ""), ...options.wifi }
      : options.wifi;
  const profile = flashed.name === V2_LIBRARY_STORAGE_NAME ? "v2" : "v1";
  const speed = options.speed ?? deviceSpeed(options.deviceSpeed ?? "instant", { profile, writtenOutCipher: xteaLibrary !== undefined });
  const device = createDevice({ ...options, storage, wifi, speed });
  device.run(app.source, app.filename);
  return device;
}
