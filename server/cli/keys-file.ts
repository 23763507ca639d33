// lwstcp-server --keys FILE: the per-device keys file ({"kitchen-1": "<64 hex>", …},
// docs/DEVICE-IDENTITY.md), read at start and again on SIGHUP. Keys are secrets, so a file that
// the group or others may read earns a warning (one line; the server still starts). A bad file
// is one line that names the problem: at start a UsageError (exit 2); on a reload an error
// line, and the keys already in use stay.

import type { DeviceKeyTable } from "../device-keys.js";
import { parseKeyTable } from "../device-keys.js";
import type { LogFunction } from "../log.js";
import type { LightweightSecureServer } from "../server.js";
import { readFlagFile, warnIfOthersCanRead } from "./args.js";

/** The table in `file`, checked; throws an Error whose message is one line naming the file and the problem. */
export function readKeysFile(file: string): DeviceKeyTable {
  const text = readFlagFile("keys", file).toString("utf8");
  let table: DeviceKeyTable;
  try {
    table = JSON.parse(text);
  } catch (err) {
    throw new Error("--keys " + file + " is not valid JSON: " + String((err as Error).message).split("\n")[0]);
  }
  try {
    parseKeyTable(table);
  } catch (err) {
    throw new Error("--keys " + file + ": " + (err as Error).message);
  }
  return table;
}

/** A one-line warning when `file`, which holds secrets, may be read by its group or others (undefined when only its owner can). */
export function keysFileWarning(file: string): string | undefined {
  let line: string | undefined;
  warnIfOthersCanRead(file, "holds device keys", (text) => (line = "warning: " + text), "");
  return line;
}

/** SIGHUP with --keys: reads the file again and installs it; logs keys-reloaded, or an error and keeps the old keys. */
export function reloadKeysFile(server: LightweightSecureServer, file: string, log: LogFunction): void {
  try {
    const change = server.setKeys(readKeysFile(file));
    log("keys-reloaded", { file, devices: change.devices, revoked: change.revoked, sessions: server.sessionCount });
  } catch (err) {
    log("error", { reason: (err as Error).message + " (the keys in use stay)" });
  }
}
