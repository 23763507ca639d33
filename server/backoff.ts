// The desktop client's reconnect options: checked here, the delays from the core's one backoff
// formula (firmware/core/backoff.ts), which the device uses too.

import {
  backoffDelayMs,
  DEFAULT_RECONNECT_FACTOR,
  DEFAULT_RECONNECT_INITIAL_MS,
  DEFAULT_RECONNECT_JITTER,
  DEFAULT_RECONNECT_MAX_MS,
} from "../firmware/core/backoff.js";
import { ERR_INVALID_OPTION, LwstcpError } from "./errors.js";
import { randomFraction } from "./random.js";

export interface BackoffOptions {
  /** Delay before the first retry, before jitter (default 1000 ms). */
  initialDelayMs?: number;
  /** Ceiling of the delay, before jitter (default 30000 ms). */
  maxDelayMs?: number;
  /** Growth per failed attempt (default 2). */
  factor?: number;
  /** Fraction of the delay drawn at random: 0.5 means delays fall in [d/2, d] (default 0.5; 0..1). */
  jitter?: number;
}

export interface Backoff {
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
  jitter: number;
}

export function readBackoff(options: BackoffOptions): Backoff {
  const b = {
    initialDelayMs: options.initialDelayMs ?? DEFAULT_RECONNECT_INITIAL_MS,
    maxDelayMs: options.maxDelayMs ?? DEFAULT_RECONNECT_MAX_MS,
    factor: options.factor ?? DEFAULT_RECONNECT_FACTOR,
    jitter: options.jitter ?? DEFAULT_RECONNECT_JITTER,
  };
  if (!(b.initialDelayMs >= 1)) throw new LwstcpError(ERR_INVALID_OPTION, "autoReconnect.initialDelayMs must be >= 1, got " + b.initialDelayMs);
  if (!(b.maxDelayMs >= b.initialDelayMs)) throw new LwstcpError(ERR_INVALID_OPTION, "autoReconnect.maxDelayMs must be >= initialDelayMs, got " + b.maxDelayMs);
  if (!(b.factor >= 1)) throw new LwstcpError(ERR_INVALID_OPTION, "autoReconnect.factor must be >= 1, got " + b.factor);
  if (!(b.jitter >= 0 && b.jitter <= 1)) throw new LwstcpError(ERR_INVALID_OPTION, "autoReconnect.jitter must be from 0 to 1, got " + b.jitter);
  return b;
}

/** Delay before retry number `attempt` (0 for the first retry). */
export function backoffDelay(backoff: Backoff, attempt: number, random: () => number = randomFraction): number {
  return backoffDelayMs(backoff.initialDelayMs, backoff.maxDelayMs, backoff.factor, backoff.jitter, attempt, random());
}
