// The outcome of one handshake, as the C++ HandshakeResult carries it (success, error
// message, peer IP), plus the short reason code that callbacks and tests check.

import { describeReason } from "./reasons.js";
import type { SocketDriver } from "./socket-driver.js";

export interface HandshakeResult {
  success: boolean;
  /** "" on success, else a reason such as "verify-failed" or "handshake-timeout". */
  reason: string;
  /** "" on success, else a sentence for people. */
  errorMessage: string;
  /** The other side as "ip:port". */
  peer: string;
  ipAddress: string;
  port: number;
}

export function makeResult(peer: string, ipAddress: string, port: number, reason: string, detail?: string): HandshakeResult {
  return {
    success: reason === "",
    reason,
    errorMessage: reason ? describeReason(reason) + (detail ? ": " + detail : "") : "",
    peer,
    ipAddress,
    port,
  };
}

export function handshakeSuccess(driver: SocketDriver): HandshakeResult {
  return makeResult(driver.peer, driver.address, driver.port, "");
}

export function handshakeFailure(driver: SocketDriver, reason: string): HandshakeResult {
  const error = driver.lastError;
  return makeResult(driver.peer, driver.address, driver.port, reason, error ? error.message : undefined);
}
