// Reasons the desktop layer adds to the core's (firmware/core/constants.ts), and the
// human text for every reason. Callbacks and logs carry the short reason; people read
// the description.

import {
  REASON_BAD_LENGTH,
  REASON_BAD_SIZE,
  REASON_DISCONNECT,
  REASON_HANDSHAKE_TIMEOUT,
  REASON_INACTIVITY_TIMEOUT,
  REASON_LOCAL_DISCONNECT,
  REASON_PEER_CLOSED,
  REASON_SOCKET_ERROR,
  REASON_UNEXPECTED_HANDSHAKE,
  REASON_UNKNOWN_TYPE,
  REASON_VERIFY_FAILED,
  REASON_WRONG_TYPE,
  REASON_ZERO_LENGTH,
} from "../firmware/core/index.js";
import { REASON_BAD_DEVICE_ID, REASON_MAC_FAILED, REASON_PROFILE_MISMATCH, REASON_PROOF_FAILED, REASON_UNKNOWN_DEVICE } from "../firmware/core/v2/constants.js";

/** Something in this process threw while handling the connection; the connection is dropped, the process lives on. */
export const REASON_INTERNAL_ERROR = "internal-error";
/** Bytes waited in the session's send queue for the stall timeout without the socket taking any: the peer stopped reading. */
export const REASON_SEND_STALLED = "send-stalled";
/** The session's device was removed from the server's key table, or given another key (setKeys, SIGHUP). */
export const REASON_REVOKED = "revoked";
/** Refusals: the server is at its cap of concurrent handshakes or of sessions, or is stopping. */
export const REFUSED_HANDSHAKE_LIMIT = "handshake-limit";
export const REFUSED_SESSION_LIMIT = "session-limit";
export const REFUSED_STOPPING = "server-stopping";
/** Refusal: the peer's address (IPv6: its /64) already holds the per-address cap of pending handshakes. */
export const REFUSED_ADDRESS_LIMIT = "address-limit";

const DESCRIPTIONS: Record<string, string> = {
  [REASON_WRONG_TYPE]: "the peer sent a packet of the wrong type for this step of the handshake",
  [REASON_BAD_SIZE]: "the peer sent a handshake packet of the wrong size",
  [REASON_VERIFY_FAILED]: "the peer's handshake answer did not verify: it uses a different handshake key or number of rounds",
  [REASON_HANDSHAKE_TIMEOUT]: "the handshake did not finish within the handshake timeout",
  [REASON_UNKNOWN_TYPE]:
    "the peer sent a packet of unknown type: the stream cannot be resynchronised (a first packet of TYPE 0x11-0x16 means the peer speaks profile v2: both ends need the same profile)",
  [REASON_PROFILE_MISMATCH]: "the peer speaks the other profile (v1 against v2): both ends need the same profile",
  [REASON_PROOF_FAILED]:
    "the peer's handshake proof did not verify: it does not hold this pre-shared key (a fake or misconfigured peer), or the handshake was altered",
  [REASON_UNKNOWN_DEVICE]:
    "the server has no key for the device id the peer named (or, with per-device keys only, the peer named none); the peer was refused exactly as for a wrong key",
  [REASON_BAD_DEVICE_ID]: "the peer's ClientHello carries a device id that is not 1-32 printable ASCII characters without spaces",
  [REASON_REVOKED]: "the device's key was removed from the server's key table or replaced",
  [REASON_MAC_FAILED]: "a record's authentication tag did not verify: the stream was altered, replayed, reordered, truncated or forged",
  [REASON_ZERO_LENGTH]: "the peer sent a message with LENGTH 0",
  [REASON_BAD_LENGTH]: "the peer sent a message longer than 65528 bytes",
  [REASON_UNEXPECTED_HANDSHAKE]: "the peer sent a handshake packet after the handshake",
  [REASON_PEER_CLOSED]: "the peer closed the connection",
  [REASON_DISCONNECT]: "the peer disconnected (sent Disconnect)",
  [REASON_LOCAL_DISCONNECT]: "this side disconnected",
  [REASON_INACTIVITY_TIMEOUT]: "nothing was received within the inactivity timeout",
  [REASON_SOCKET_ERROR]: "the socket failed",
  [REASON_INTERNAL_ERROR]: "an internal error dropped the connection",
  [REASON_SEND_STALLED]: "the peer stopped reading: bytes waited in the send queue for the stall timeout and none were taken",
  [REFUSED_HANDSHAKE_LIMIT]:
    "too many handshakes in progress (a refused connection, or a pending one that gave its slot to a newcomer from a less busy address)",
  [REFUSED_ADDRESS_LIMIT]: "too many handshakes in progress from this address",
  [REFUSED_SESSION_LIMIT]: "too many sessions",
  [REFUSED_STOPPING]: "the server is stopping",
};

export function describeReason(reason: string): string {
  return DESCRIPTIONS[reason] || reason;
}
