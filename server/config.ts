// Handshake key and rounds: module-level defaults as in the C++ library
// (LightweightSecureTCP::setHandshakeKey / setNumberOfRounds), overridable per instance so
// one process can run two servers with different keys. Every input is checked where it
// enters, with an error that names the problem.
//
// Profile: "v1" (default, the C++ library's wire format, XTEA with `rounds`) or "v2" (the
// authenticated profile, docs/PROTOCOL-v2.md: AES-256-CBC + HMAC-SHA256; `rounds` means nothing
// there, so an instance that asks for v2 and a non-default rounds is refused; the module-level
// rounds are simply not used by v2 instances). Both ends must use the same profile.

import { Connection } from "../firmware/core/connection.js";
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
  wipeKeySchedule,
} from "../firmware/core/index.js";
import type { ConnectionSink, LifecycleOptions, ProtocolConnection } from "../firmware/core/lifecycle.js";
import { DEFAULT_PROFILE, type Profile, parseProfile } from "../firmware/core/profile.js";
import { ConnectionV2, pskBytes } from "../firmware/core/v2/connection.js";
import { nodePrimitives } from "./crypto-v2.js";
import type { DeviceKeys } from "./device-keys.js";
import { ERR_INVALID_OPTION, ERR_NO_HANDSHAKE_KEY, LwstcpError } from "./errors.js";
import { nodeRandom } from "./random.js";

export type { KeyInput, Profile };

let defaultKey: Uint32Array | null = null;
let defaultRounds = DEFAULT_ROUNDS;
let defaultProfile: Profile = DEFAULT_PROFILE;

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

/**
 * Sets the profile ("v1", the default and the C++ library's, or "v2", authenticated) for
 * instances without a `profile` option that start from now on. Both peers must agree.
 */
export function setProfile(profile: Profile): void {
  defaultProfile = invalidOption(() => parseProfile(profile));
}

export function getProfile(): Profile {
  return defaultProfile;
}

/** Options shared by the server and the client. */
export interface SecureOptions {
  /** Handshake key for this instance: 8 u32 words, 64 hex digits (wire order) or 32 bytes. Defaults to setHandshakeKey(). */
  key?: KeyInput;
  /** XTEA rounds for this instance (1..128), profile v1 only. Defaults to setNumberOfRounds(), itself 32. */
  rounds?: number;
  /** "v1" (C++-compatible) or "v2" (authenticated, docs/PROTOCOL-v2.md). Defaults to setProfile(), itself "v1". */
  profile?: Profile;
  /** Send a KeepAlive after this long without sending (default 5000 ms). */
  keepAliveIntervalMs?: number;
  /** Close a session that received nothing for this long (default 30000 ms; -1 disables). */
  inactivityTimeoutMs?: number;
  /** Abort a handshake not finished within this time (default 5000 ms). */
  handshakeTimeoutMs?: number;
  /**
   * Sends are refused (ERR_LWSTCP_SEND_QUEUE_FULL) when the packet would take the bytes waiting
   * for the socket past this many; wire bytes, headers and padding included (default 256 KiB).
   */
  maxQueuedBytes?: number;
  /** After sending Disconnect, wait this long for the peer to close before destroying the socket (default 2000 ms). */
  closeGraceMs?: number;
}

/**
 * 256 KiB: four of the largest packets (65,531 bytes on the wire), on top of what the kernel's
 * socket buffer holds already. A sender that waits for 'drain' (sendMessage returns false past
 * Node's 16 KiB high-water mark) never comes near it; it only stops one that ignores
 * backpressure, or a peer that stopped reading. The old 16 MiB let 10,000 sessions hold 160 GB;
 * this holds them to 2.5 GiB before the server-wide budget (server.ts) caps the total.
 */
export const DEFAULT_MAX_QUEUED_BYTES = 256 * 1024;
export const DEFAULT_CLOSE_GRACE_MS = 2000;

/** Validated timing and security settings of one instance; the key stays optional until start. */
export interface Settings {
  key: Uint32Array | null;
  rounds: number | null;
  /** null: the module-level profile at start. */
  profile: Profile | null;
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
  const profile = options.profile === undefined ? null : invalidOption(() => parseProfile(options.profile));
  const rounds = options.rounds === undefined ? null : invalidOption(() => validateRounds(options.rounds as number));
  if (profile !== null) checkRoundsForProfile(profile, rounds);
  return {
    key: options.key === undefined ? null : invalidOption(() => parseKey(options.key as KeyInput)),
    rounds,
    profile,
    keepAliveIntervalMs,
    inactivityTimeoutMs,
    handshakeTimeoutMs,
    maxQueuedBytes: positiveInteger("maxQueuedBytes", options.maxQueuedBytes, DEFAULT_MAX_QUEUED_BYTES),
    closeGraceMs: positiveInteger("closeGraceMs", options.closeGraceMs, DEFAULT_CLOSE_GRACE_MS),
  };
}

/** Refuses a non-default `rounds` together with profile v2, where rounds mean nothing. */
function checkRoundsForProfile(profile: Profile, rounds: number | null): void {
  if (profile === "v2" && rounds !== null && rounds !== DEFAULT_ROUNDS) {
    throw new LwstcpError(
      ERR_INVALID_OPTION,
      "rounds (" + rounds + ") applies only to profile v1 (XTEA); profile v2 uses AES-256 and HMAC-SHA256: leave rounds unset",
    );
  }
}

/**
 * The expanded handshake key for an instance that is starting: its own key, else the
 * module-level one. Throws ERR_LWSTCP_NO_HANDSHAKE_KEY when neither was set.
 */
export function handshakeSchedule(settings: Settings, who: string): KeySchedule {
  return createKeySchedule(instanceKey(settings, who), settings.rounds ?? defaultRounds);
}

function instanceKey(settings: Settings, who: string, optional?: boolean): Uint32Array {
  const key = settings.key || defaultKey;
  if (!key) {
    if (optional) return new Uint32Array(0);
    throw new LwstcpError(
      ERR_NO_HANDSHAKE_KEY,
      who + " has no handshake key: pass { key } in its options or call setHandshakeKey(key) first (8 u32 words, 64 hex digits or 32 bytes)",
    );
  }
  return key;
}

/** Builds one connection of an instance's profile for a driver (the driver is its sink). */
export type ConnectionMaker = (role: number, sink: ConnectionSink) => ProtocolConnection;

/**
 * What a started instance keeps to make connections: its profile, its key material, and the
 * profile's connection factory, so drivers never look at the profile themselves (the device
 * does the same with lwstcp-v2's createConnectionV2).
 */
export interface Credentials {
  profile: Profile;
  /** v1: the expanded XTEA handshake key. */
  schedule: KeySchedule | null;
  /** v2: a copy of the pre-shared key's words. */
  psk: Uint32Array | null;
  create(role: number, settings: Settings, sink: ConnectionSink): ProtocolConnection;
}

/** The options every profile's connection takes from an instance's settings. */
function lifecycleOptions(settings: Settings): LifecycleOptions {
  return {
    random: nodeRandom,
    clock: Date.now,
    keepAliveIntervalMs: settings.keepAliveIntervalMs,
    inactivityTimeoutMs: settings.inactivityTimeoutMs,
    handshakeTimeoutMs: settings.handshakeTimeoutMs,
  };
}

/**
 * The profile and key material of an instance that is starting: its own, else the
 * module-level ones. Throws ERR_LWSTCP_NO_HANDSHAKE_KEY without a key, and
 * ERR_LWSTCP_INVALID_OPTION for v2 with a non-default rounds option.
 */
export function startCredentials(settings: Settings, who: string, identity: { deviceKeys?: DeviceKeys; deviceId?: string } = {}): Credentials {
  const profile = settings.profile ?? defaultProfile;
  const deviceKeys = identity.deviceKeys;
  if (profile === "v2") {
    checkRoundsForProfile(profile, settings.rounds);
    // With per-device keys a server may have no single key: then only clients with an id get in.
    const words = Uint32Array.from(instanceKey(settings, who, deviceKeys && deviceKeys.perDevice));
    const psk = words.length ? words : null;
    if (deviceKeys) deviceKeys.shared = psk && pskBytes(psk);
    const deviceId = identity.deviceId;
    return {
      profile,
      schedule: null,
      psk,
      create: (role, s, sink) =>
        new ConnectionV2(
          role,
          {
            ...lifecycleOptions(s),
            preSharedKey: psk ?? undefined,
            primitives: nodePrimitives,
            deviceId,
            keyForDevice: deviceKeys ? (id, done) => deviceKeys.keyFor(sink, id, done) : undefined,
          },
          sink,
        ),
    };
  }
  if (deviceKeys && deviceKeys.perDevice)
    throw new LwstcpError(ERR_INVALID_OPTION, "keys and keyForDevice need profile v2: the v1 wire format cannot carry a device id");
  const schedule = handshakeSchedule(settings, who);
  return { profile, schedule, psk: null, create: (role, s, sink) => new Connection(role, { ...lifecycleOptions(s), handshakeKey: schedule }, sink) };
}

export function wipeCredentials(credentials: Credentials | null): void {
  if (!credentials) return;
  if (credentials.schedule) wipeKeySchedule(credentials.schedule);
  if (credentials.psk) credentials.psk.fill(0);
}

/** How a driver makes its connection: the credentials' profile factory with these settings. */
export function connectionMaker(credentials: Credentials, settings: Settings): ConnectionMaker {
  return (role, sink) => credentials.create(role, settings, sink);
}
