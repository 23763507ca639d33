// require("Storage"): the device's flash files, held in memory (ESPRUINO.md §11 ships the library
// as the Storage file "lwstcp"). Contents are binary strings, one char per byte, as on the device.
import type { DeviceCore } from "./core.js";

export class FlashStorage {
  private readonly files = new Map<string, string>();
  /** Texts run as code from Storage: functions defined from them live in flash and cost no RAM. */
  readonly executedSources: string[] = [];

  constructor(initial: Record<string, string> = {}) {
    for (const [name, text] of Object.entries(initial)) this.files.set(name, text);
  }

  read(name: string): string | undefined {
    return this.files.get(name);
  }
  write(name: string, data: string): void {
    this.files.set(name, data);
  }
  erase(name: string): void {
    this.files.delete(name);
  }
  list(): string[] {
    return [...this.files.keys()];
  }
}

/** The module object the firmware gets from require("Storage"). */
export function createStorageModule(core: DeviceCore, storage: FlashStorage): object {
  const { Object: CtxObject, Array: CtxArray, Error: CtxError } = core.intrinsics;
  const toBinary = (data: unknown): string => (typeof data === "string" ? data : String(data));
  const module = new CtxObject() as Record<string, unknown>;
  Object.assign(module, {
    read(name: string, offset?: number, length?: number) {
      const text = storage.read(String(name));
      if (text === undefined) return undefined;
      const from = offset ?? 0;
      return text.substr(from, length ?? text.length - from);
    },
    write(name: string, data: unknown, offset?: number, totalSize?: number) {
      const text = toBinary(data);
      if (offset === undefined) {
        storage.write(String(name), text);
        return true;
      }
      const old = storage.read(String(name)) ?? "\xff".repeat(totalSize ?? offset + text.length);
      storage.write(String(name), old.slice(0, offset) + text + old.slice(offset + text.length));
      return true;
    },
    readJSON(name: string, noExceptions?: boolean) {
      const text = storage.read(String(name));
      if (text === undefined) return undefined;
      try {
        return core.intrinsics.JSON.parse(text);
      } catch (error) {
        if (noExceptions) return undefined;
        throw error;
      }
    },
    writeJSON(name: string, value: unknown) {
      storage.write(String(name), core.intrinsics.JSON.stringify(value));
      return true;
    },
    list(pattern?: RegExp | string) {
      const out = new CtxArray<string>();
      for (const name of storage.list()) {
        if (pattern === undefined || (typeof pattern === "string" ? name.includes(pattern) : pattern.test(name))) out.push(name);
      }
      return out;
    },
    erase(name: string) {
      storage.erase(String(name));
    },
    eraseAll() {
      for (const name of storage.list()) storage.erase(name);
    },
    getFree() {
      return 3 * 1024 * 1024;
    },
    compact() {
      return undefined;
    },
    open() {
      throw new CtxError("Storage.open (StorageFile) is not simulated");
    },
  });
  return module;
}
