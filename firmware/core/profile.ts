// Choosing a profile. A driver takes `profile: "v1" | "v2"` (CLI `--profile v2`), builds a
// Connection or a ConnectionV2 from it (the desktop's credentials and the device's settings
// carry the factory), and from then on uses only ProtocolConnection (lifecycle.ts).

export type Profile = "v1" | "v2";
export const PROFILE_V1: Profile = "v1";
export const PROFILE_V2: Profile = "v2";
/** v1 stays the default: it pairs with the deployed C++ peers. */
export const DEFAULT_PROFILE: Profile = PROFILE_V1;

/** Checks a profile option or flag value; undefined gives the default. */
export function parseProfile(value: unknown): Profile {
  if (value === undefined) return DEFAULT_PROFILE;
  if (value === PROFILE_V1 || value === PROFILE_V2) return value as Profile;
  throw new Error('profile must be "v1" (C++-compatible) or "v2", got ' + String(value));
}

/** The driver-facing surface common to both profiles (it lives with the shared lifecycle). */
export type { ProtocolConnection } from "./lifecycle.js";
