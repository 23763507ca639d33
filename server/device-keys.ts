// Which pre-shared key a v2 server uses for a connecting device (docs/DEVICE-IDENTITY.md):
//
//   client sends            server has                     key used
//   no id                   key                            key
//   no id                   keys / keyForDevice only       none: unknown-device
//   id                      keys / keyForDevice            the one for that id, else none: unknown-device
//   id                      key only                       key (the id then names the device, it does not pick its key)
//
// The answer is remembered per connection, so that a new key table (setKeys, SIGHUP) can tell
// which open sessions lost their key: those whose device would now get another key or none.

import { type KeyInput, parseKey } from "../firmware/core/index.js";
import { pskBytes } from "../firmware/core/v2/connection.js";
import { deviceIdProblem, PSK_SIZE } from "../firmware/core/v2/constants.js";
import { equalConstantTime } from "../firmware/core/v2/hmac.js";
import { ERR_INVALID_OPTION, LwstcpError } from "./errors.js";

/** Per-device keys: id → key (64 hex digits, 8 u32 words or 32 bytes). */
export type DeviceKeyTable = Record<string, KeyInput>;
/** The key for an id, or undefined/null when there is none; may answer later (a Promise). */
export type DeviceKeyLookup = (deviceId: string) => KeyInput | null | undefined | Promise<KeyInput | null | undefined>;

/** A table's entries checked and parsed; throws ERR_LWSTCP_INVALID_OPTION naming the first bad one. */
export function parseKeyTable(table: DeviceKeyTable): Map<string, Uint8Array> {
  if (table === null || typeof table !== "object" || Array.isArray(table))
    throw new LwstcpError(ERR_INVALID_OPTION, "keys must be an object of device id → key, got " + (Array.isArray(table) ? "an array" : String(table)));
  const parsed = new Map<string, Uint8Array>();
  for (const id of Object.keys(table)) {
    const problem = deviceIdProblem(id);
    if (problem) throw new LwstcpError(ERR_INVALID_OPTION, "keys: " + JSON.stringify(id) + ": " + problem);
    try {
      parsed.set(id, pskBytes(parseKey(table[id])));
    } catch (err) {
      throw new LwstcpError(ERR_INVALID_OPTION, "keys: " + JSON.stringify(id) + ": " + (err as Error).message, { cause: err });
    }
  }
  return parsed;
}

export class DeviceKeys {
  /** The server's single key as bytes while started (null: none). */
  shared: Uint8Array | null = null;
  /** A lookup that failed (threw, rejected, or gave something that is not a key). */
  onError: (error: Error) => void = () => {};
  private table: Map<string, Uint8Array> | null;
  private lookup: DeviceKeyLookup | null;
  /** What each connection was given (null: no key), keyed by its driver. */
  private readonly granted = new WeakMap<object, Uint8Array | null>();

  constructor(table?: DeviceKeyTable, lookup?: DeviceKeyLookup) {
    if (table !== undefined && lookup !== undefined) throw new LwstcpError(ERR_INVALID_OPTION, "give either keys or keyForDevice, not both");
    if (lookup !== undefined && typeof lookup !== "function")
      throw new LwstcpError(ERR_INVALID_OPTION, "keyForDevice must be a function (deviceId) => key | undefined | Promise");
    this.table = table === undefined ? null : parseKeyTable(table);
    this.lookup = lookup ?? null;
  }

  /** True when keys or keyForDevice was given: ids choose their key. */
  get perDevice(): boolean {
    return this.table !== null || this.lookup !== null;
  }

  /** Devices in the table (0 with a lookup function or a single key). */
  get size(): number {
    return this.table ? this.table.size : 0;
  }

  /** Replaces the per-device keys with `table` (checked first: a bad table changes nothing). */
  setTable(table: DeviceKeyTable): void {
    this.table = parseKeyTable(table);
    this.lookup = null;
  }

  /** Finds the key for `id` (null: the client named none) and hands it to `done`, now or (a Promise lookup) later. */
  keyFor(holder: object, id: string | null, done: (key: Uint8Array | null) => void): void {
    const grant = (key: Uint8Array | null) => {
      this.granted.set(holder, key);
      done(key);
    };
    if (id === null || !this.perDevice) return grant(this.shared);
    if (this.table) return grant(this.table.get(id) ?? null);
    let answer: ReturnType<DeviceKeyLookup>;
    try {
      answer = (this.lookup as DeviceKeyLookup)(id);
    } catch (err) {
      this.failed(id, err);
      return grant(null);
    }
    if (answer && typeof (answer as Promise<unknown>).then === "function") {
      (answer as Promise<KeyInput | null | undefined>).then(
        (key) => this.settle(id, key, grant),
        (err) => {
          this.failed(id, err);
          this.settle(id, null, grant);
        },
      );
      return;
    }
    this.settle(id, answer as KeyInput | null | undefined, grant);
  }

  /**
   * False when the connection `holder` (device `id`) was given a key that its device would not
   * get now: removed from the table, or given another key. A lookup function cannot be asked
   * synchronously, so under one every session stays.
   */
  stillGranted(holder: object, id: string | null): boolean {
    const had = this.granted.get(holder);
    if (had === undefined) return true;
    if (this.lookup && id !== null) return true;
    const now = id === null || !this.perDevice ? this.shared : (this.table as Map<string, Uint8Array>).get(id);
    return had !== null && now !== null && now !== undefined && equalConstantTime(had, 0, now, 0, PSK_SIZE);
  }

  wipe(): void {
    if (this.shared) this.shared.fill(0);
    this.shared = null;
  }

  private settle(id: string, key: KeyInput | null | undefined, grant: (key: Uint8Array | null) => void): void {
    let bytes: Uint8Array | null = null;
    if (key !== null && key !== undefined) {
      try {
        bytes = pskBytes(parseKey(key));
      } catch (err) {
        this.failed(id, err);
      }
    }
    try {
      grant(bytes);
    } catch (err) {
      // Only an answer that came later gets here with an exception of the connection's; report it, never throw into a promise.
      this.onError(err as Error);
    }
  }

  private failed(id: string, err: unknown): void {
    this.onError(new LwstcpError(ERR_INVALID_OPTION, "keyForDevice(" + JSON.stringify(id) + ") failed: " + (err instanceof Error ? err.message : String(err))));
  }
}
