// Reconnect delays, one formula for the desktop client and the device: exponential growth
// with jitter, so a fleet that lost its server does not reconnect in lock-step when it comes
// back. Retry n (0 for the first) waits
//   ceiling = min(maxDelayMs, initialDelayMs · factor^n)
//   delay   = round(ceiling · (1 − jitter · fraction)),  fraction uniform in [0, 1)
// so with the default jitter 0.5 the delays fall in (ceiling/2, ceiling].

export const DEFAULT_RECONNECT_INITIAL_MS = 1000;
export const DEFAULT_RECONNECT_MAX_MS = 30000;
export const DEFAULT_RECONNECT_FACTOR = 2;
export const DEFAULT_RECONNECT_JITTER = 0.5;

/** Delay in ms before retry number `attempt` (0 for the first); `fraction` is a random number in [0, 1). */
export function backoffDelayMs(initialDelayMs: number, maxDelayMs: number, factor: number, jitter: number, attempt: number, fraction: number): number {
  // The exponent is capped so a long outage cannot overflow to Infinity · 0.
  const ceiling = Math.min(maxDelayMs, initialDelayMs * Math.pow(factor, Math.min(attempt, 64)));
  return Math.round(ceiling * (1 - jitter * fraction));
}
