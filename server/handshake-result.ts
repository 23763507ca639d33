// The outcome of one handshake, as the C++ HandshakeResult carries it (success, error
// message, peer IP), plus the short reason code that callbacks and tests check.

import { Connection, clientFailureDetail, ROLE_CLIENT } from "../firmware/core/index.js";
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
  /** Profile v2: the device id the client named (on the server) or sent (on the client); undefined without one. */
  deviceId?: string;
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

function withDeviceId(result: HandshakeResult, driver: SocketDriver): HandshakeResult {
  const id = (driver.connection as { deviceId?: string | null }).deviceId;
  if (id) result.deviceId = id;
  return result;
}

export function handshakeSuccess(driver: SocketDriver): HandshakeResult {
  return withDeviceId(makeResult(driver.peer, driver.address, driver.port, ""), driver);
}

export function handshakeFailure(driver: SocketDriver, reason: string): HandshakeResult {
  const error = driver.lastError;
  const connection = driver.connection;
  // A v1 client writes nothing before its HandshakeResponse (profile v2 opens with its hello).
  const cause = connection.role === ROLE_CLIENT && connection instanceof Connection ? clientFailureDetail(reason, driver.socket.bytesWritten > 0) : undefined;
  const details = [error ? error.message : "", cause || ""].filter((text) => text !== "");
  return withDeviceId(makeResult(driver.peer, driver.address, driver.port, reason, details.length ? details.join("; ") : undefined), driver);
}
