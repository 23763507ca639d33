// The device library's module-wide settings (key, rounds, profile, entropy pool) and what the
// client and the server share: per-instance Settings, the settings methods with their C++
// names, callback slots, and sendMessage. firmware/lwstcp.ts is the module's face.

import { currentBoard } from "../board-facts.js";
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_INACTIVITY_TIMEOUT_MS, DEFAULT_KEEP_ALIVE_INTERVAL_MS, DEFAULT_ROUNDS } from "../core/constants.js";
import { type KeyInput, parseKey, validateHandshakeTimeout, validateKeepAlive } from "../core/keys.js";
import type { ProtocolConnection } from "../core/lifecycle.js";
import { type Profile, parseProfile } from "../core/profile.js";
import { createKeySchedule, type KeySchedule, validateRounds } from "../core/xtea.js";
import { createEntropyPool, type EntropyPool } from "../entropy.js";
import type { ConnectionFactory, DeviceOptions } from "../transport.js";

export type Callback = (a?: any, b?: any) => void;
export type TimerId = ReturnType<typeof setTimeout>;

let moduleKey: Uint32Array | undefined;
let moduleRounds = DEFAULT_ROUNDS;
let moduleProfile: Profile = "v1";
let moduleDeviceId: string | undefined;
/** The Storage module "lwstcp-v2" (the v2 engine, kept out of this bundle for size): loaded by the first setProfile("v2"). */
let v2: EngineV2 | undefined;

interface EngineV2 {
  createConnectionV2: ConnectionFactory;
  deviceIdProblem(id: unknown): string;
}
let pool: EntropyPool | undefined;

/** Sets the handshake key every client and server uses unless it was given its own. */
export function setHandshakeKey(key: KeyInput): void {
  moduleKey = parseKey(key);
}

/** Sets the XTEA rounds (1..128, default 32) for clients and servers without their own. */
export function setNumberOfRounds(rounds: number): void {
  moduleRounds = validateRounds(rounds);
}

/**
 * The id checked (1..32 characters 0x21..0x7E); throws naming the problem. Only v2 carries an
 * id, so its rule lives in the v2 engine, loaded here like setProfile("v2") loads it.
 */
function checkedDeviceId(id: string): string {
  const problem = engineV2().deviceIdProblem(id);
  if (problem) throw new Error(problem);
  return id;
}

/** Profile v2: the id every client names itself by in the handshake, unless it was given its own. */
export function setDeviceId(id: string): void {
  moduleDeviceId = checkedDeviceId(id);
}

/** Checks a profile name; "v2" loads the Storage module lwstcp-v2 (Espruino's require throws when it is missing). */
function loadProfile(profile: Profile): Profile {
  profile = parseProfile(profile);
  if (profile === "v2") engineV2();
  return profile;
}

/** The Storage module lwstcp-v2, required on first use. */
function engineV2(): EngineV2 {
  if (!v2) v2 = require("lwstcp-v2") as EngineV2;
  return v2;
}

/**
 * Sets the profile of clients and servers without their own: "v1" (default, pairs with the C++
 * library) or "v2" (authenticated; needs the Storage module lwstcp-v2 and a v2 peer).
 */
export function setProfile(profile: Profile): void {
  moduleProfile = loadProfile(profile);
}

/** The entropy pool, made on first use from the board's RNG register (board-facts.ts). */
export function entropy(): EntropyPool {
  if (!pool) {
    const board = currentBoard();
    pool = createEntropyPool(board.facts && board.facts.rngRegister, function (text) {
      console.log(text + " (board " + board.name + ")");
    });
  }
  return pool;
}

/** Calls an application callback; what it throws is printed, never passed into the protocol. */
export function call(fn: Callback | undefined, a?: unknown, b?: unknown): void {
  if (fn) {
    try {
      fn(a, b);
    } catch (e) {
      console.log("lwstcp: callback threw: " + e);
    }
  }
}

export function errorText(e: any): string {
  return e && e.message ? e.message : String(e);
}

/** Installs `setOn<Name>(fn)` for each name, storing fn as `this.on<Name>`. */
export function callbackSetters(type: Function, names: string): void {
  names.split(" ").forEach(function (name) {
    type.prototype["setOn" + name] = function (this: any, fn: Callback) {
      this["on" + name] = fn;
    };
  });
}

/** Key, rounds, profile and timing of one client or server, falling back to the module-wide ones. */
export class Settings {
  key: Uint32Array | undefined;
  rounds = 0;
  profile: Profile | undefined;
  deviceId: string | undefined;
  /** How options() says to build the connection: undefined for v1, lwstcp-v2's factory for v2. */
  create: ConnectionFactory | undefined;
  keepAliveIntervalMs = DEFAULT_KEEP_ALIVE_INTERVAL_MS;
  inactivityTimeoutMs = DEFAULT_INACTIVITY_TIMEOUT_MS;
  handshakeTimeoutMs = DEFAULT_HANDSHAKE_TIMEOUT_MS;
  private schedule: KeySchedule | undefined;

  /** Connection options for a new connection; throws a clear error when there is no key. */
  options(): DeviceOptions {
    const key = this.key || moduleKey;
    if (!key) throw new Error("lwstcp: no handshake key: call setHandshakeKey first");
    // v2 takes the key itself (rounds mean nothing there); v1 its XTEA schedule.
    const create = (this.create = (this.profile || moduleProfile) === "v2" ? (v2 as EngineV2).createConnectionV2 : undefined);
    if (!create) this.schedule = createKeySchedule(key, this.rounds || moduleRounds, this.schedule);
    return {
      preSharedKey: key,
      deviceId: this.deviceId || moduleDeviceId,
      handshakeKey: this.schedule as KeySchedule,
      random: entropy().fill,
      clock: Date.now,
      keepAliveIntervalMs: this.keepAliveIntervalMs,
      inactivityTimeoutMs: this.inactivityTimeoutMs,
      handshakeTimeoutMs: this.handshakeTimeoutMs,
    };
  }
}

/** The per-instance settings methods of client and server (C++ names), shared by both. */
export interface SettingsMethods {
  setHandshakeKey(key: KeyInput): void;
  setNumberOfRounds(rounds: number): void;
  /** "v1" or "v2" for this instance (v2 loads the Storage module lwstcp-v2). */
  setProfile(profile: Profile): void;
  /** Profile v2, clients: the id sent in the handshake (a server ignores it). */
  setDeviceId(id: string): void;
  /** Keep-alive interval and inactivity timeout in ms (timeout -1 disables the check). */
  setKeepAliveConfig(intervalMs: number, timeoutMs: number): void;
  setHandshakeTimeout(ms: number): void;
}

export const settingsMethods: SettingsMethods = {
  setHandshakeKey: function (this: { settings: Settings }, key) {
    this.settings.key = parseKey(key);
  },
  setNumberOfRounds: function (this: { settings: Settings }, rounds) {
    this.settings.rounds = validateRounds(rounds);
  },
  setProfile: function (this: { settings: Settings }, profile) {
    this.settings.profile = loadProfile(profile);
  },
  setDeviceId: function (this: { settings: Settings }, id) {
    this.settings.deviceId = checkedDeviceId(id);
  },
  setKeepAliveConfig: function (this: { settings: Settings }, intervalMs, timeoutMs) {
    validateKeepAlive(intervalMs, timeoutMs);
    this.settings.keepAliveIntervalMs = intervalMs;
    this.settings.inactivityTimeoutMs = timeoutMs;
  },
  setHandshakeTimeout: function (this: { settings: Settings }, ms) {
    validateHandshakeTimeout(ms);
    this.settings.handshakeTimeoutMs = ms;
  },
};

export function addSettingsMethods(type: Function): void {
  for (const name in settingsMethods) type.prototype[name] = (settingsMethods as any)[name];
}

/** sendMessage of client and session: false (and onError) when not open or the message is invalid. */
export function send(owner: { connection: ProtocolConnection | null; onError?: Callback; onDataSent?: Callback }, message: string | Uint8Array): boolean {
  const connection = owner.connection;
  try {
    if (!connection) throw new Error("not connected");
    if (typeof message === "string") connection.sendByteString(message);
    else connection.sendBytes(message, 0, message.length);
  } catch (e) {
    call(owner.onError, "cannot send: " + errorText(e));
    return false;
  }
  // Tested here: on Espruino the call alone costs a fortieth of a block.
  if (owner.onDataSent) call(owner.onDataSent, message.length);
  return true;
}

export function isOpen(connection: ProtocolConnection | null): boolean {
  return !!connection && connection.isOpen;
}
