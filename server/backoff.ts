// Reconnect delays: exponential growth with jitter, so a fleet that lost its server does
// not reconnect in lock-step when it comes back (issue 6: no thundering herd).

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
    initialDelayMs: options.initialDelayMs ?? 1000,
    maxDelayMs: options.maxDelayMs ?? 30000,
    factor: options.factor ?? 2,
    jitter: options.jitter ?? 0.5,
  };
  if (!(b.initialDelayMs >= 1)) throw new LwstcpError(ERR_INVALID_OPTION, "autoReconnect.initialDelayMs must be >= 1, got " + b.initialDelayMs);
  if (!(b.maxDelayMs >= b.initialDelayMs)) throw new LwstcpError(ERR_INVALID_OPTION, "autoReconnect.maxDelayMs must be >= initialDelayMs, got " + b.maxDelayMs);
  if (!(b.factor >= 1)) throw new LwstcpError(ERR_INVALID_OPTION, "autoReconnect.factor must be >= 1, got " + b.factor);
  if (!(b.jitter >= 0 && b.jitter <= 1)) throw new LwstcpError(ERR_INVALID_OPTION, "autoReconnect.jitter must be from 0 to 1, got " + b.jitter);
  return b;
}

/** Delay before retry number `attempt` (0 for the first retry). */
export function backoffDelay(backoff: Backoff, attempt: number, random: () => number = randomFraction): number {
  const ceiling = Math.min(backoff.maxDelayMs, backoff.initialDelayMs * Math.pow(backoff.factor, Math.min(attempt, 64)));
  return Math.round(ceiling * (1 - backoff.jitter * random()));
}
