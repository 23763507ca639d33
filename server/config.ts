// Handshake key and rounds: module-level defaults as in the C++ library
// (LightweightSecureTCP::setHandshakeKey / setNumberOfRounds), overridable per instance so
// one process can run two servers with different keys. Every input is checked where it
// enters, with an error that names the problem.

import {
  createKeySchedule,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_INACTIVITY_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_INTERVAL_MS,
  DEFAULT_ROUNDS,
  type KeyInput,
  type KeySchedule,
  parseKey,
  validateHandshakeTimeout,
  validateKeepAlive,
  validateRounds,
} from "../firmware/core/index.js";
import { ERR_INVALID_OPTION, ERR_NO_HANDSHAKE_KEY, LwstcpError } from "./errors.js";

export type { KeyInput };

let defaultKey: Uint32Array | null = null;
let defaultRounds = DEFAULT_ROUNDS;

/** Sets the handshake key used by servers and clients created without a `key` option. */
export function setHandshakeKey(key: KeyInput): void {
  defaultKey = invalidOption(() => parseKey(key));
}

/** Forgets the module-level key (instances already started keep theirs). */
export function clearHandshakeKey(): void {
  if (defaultKey) defaultKey.fill(0);
  defaultKey = null;
}

/** Sets the XTEA rounds (1..128, default 32) for instances created without a `rounds` option. Both peers must agree. */
export function setNumberOfRounds(rounds: number): void {
  defaultRounds = invalidOption(() => validateRounds(rounds));
}

export function getNumberOfRounds(): number {
  return defaultRounds;
}

/** Options shared by the server and the client. */
export interface SecureOptions {
  /** Handshake key for this instance: 8 u32 words, 64 hex digits (wire order) or 32 bytes. Defaults to setHandshakeKey(). */
  key?: KeyInput;
  /** XTEA rounds for this instance (1..128). Defaults to setNumberOfRounds(), itself 32. */
  rounds?: number;
  /** Send a KeepAlive after this long without sending (default 5000 ms). */
  keepAliveIntervalMs?: number;
  /** Close a session that received nothing for this long (default 30000 ms; -1 disables). */
  inactivityTimeoutMs?: number;
  /** Abort a handshake not finished within this time (default 5000 ms). */
  handshakeTimeoutMs?: number;
  /** Sends are refused (ERR_LWSTCP_SEND_QUEUE_FULL) while this many bytes wait for the socket (default 16 MiB). */
  maxQueuedBytes?: number;
  /** After sending Disconnect, wait this long for the peer to close before destroying the socket (default 2000 ms). */
  closeGraceMs?: number;
}

export const DEFAULT_MAX_QUEUED_BYTES = 16 * 1024 * 1024;
export const DEFAULT_CLOSE_GRACE_MS = 2000;

/** Validated timing and security settings of one instance; the key stays optional until start. */
export interface Settings {
  key: Uint32Array | null;
  rounds: number | null;
  keepAliveIntervalMs: number;
  inactivityTimeoutMs: number;
  handshakeTimeoutMs: number;
  maxQueuedBytes: number;
  closeGraceMs: number;
}

/** Runs a core validator and rethrows its message as an ERR_LWSTCP_INVALID_OPTION error. */
export function invalidOption<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    throw new LwstcpError(ERR_INVALID_OPTION, (err as Error).message, { cause: err });
  }
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new LwstcpError(ERR_INVALID_OPTION, name + " must be a whole number >= 1, got " + String(value));
  }
  return value;
}

export function readSettings(options: SecureOptions): Settings {
  const keepAliveIntervalMs = options.keepAliveIntervalMs ?? DEFAULT_KEEP_ALIVE_INTERVAL_MS;
  const inactivityTimeoutMs = options.inactivityTimeoutMs ?? DEFAULT_INACTIVITY_TIMEOUT_MS;
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  invalidOption(() => validateKeepAlive(keepAliveIntervalMs, inactivityTimeoutMs));
  invalidOption(() => validateHandshakeTimeout(handshakeTimeoutMs));
  return {
    key: options.key === undefined ? null : invalidOption(() => parseKey(options.key as KeyInput)),
    rounds: options.rounds === undefined ? null : invalidOption(() => validateRounds(options.rounds as number)),
    keepAliveIntervalMs,
    inactivityTimeoutMs,
    handshakeTimeoutMs,
    maxQueuedBytes: positiveInteger("maxQueuedBytes", options.maxQueuedBytes, DEFAULT_MAX_QUEUED_BYTES),
    closeGraceMs: positiveInteger("closeGraceMs", options.closeGraceMs, DEFAULT_CLOSE_GRACE_MS),
  };
}

/**
 * The expanded handshake key for an instance that is starting: its own key, else the
 * module-level one. Throws ERR_LWSTCP_NO_HANDSHAKE_KEY when neither was set.
 */
export function handshakeSchedule(settings: Settings, who: string): KeySchedule {
  const key = settings.key || defaultKey;
  if (!key) {
    throw new LwstcpError(
      ERR_NO_HANDSHAKE_KEY,
      who + " has no handshake key: pass { key } in its options or call setHandshakeKey(key) first (8 u32 words, 64 hex digits or 32 bytes)",
    );
  }
  return createKeySchedule(key, settings.rounds ?? defaultRounds);
}
