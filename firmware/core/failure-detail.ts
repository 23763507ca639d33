// The likely cause of a failed handshake, for people, where the reason alone cannot say it. Both
// drivers (the desktop socket driver and the Espruino transport) add it to their failure message.

import { REASON_PEER_CLOSED } from "./constants.js";

/**
 * A v1 server that cannot verify our HandshakeResponse closes without a word (the C++ server
 * does; ours too), so the client sees only peer-closed.
 */
export const CLOSED_AFTER_RESPONSE = "the server closed the connection after our HandshakeResponse: most likely a different key or number of rounds";

/** What a v1 client's failure message adds to `reason`; `sentResponse`: it had written its HandshakeResponse. */
export function clientFailureDetail(reason: string, sentResponse: boolean): string | undefined {
  return reason === REASON_PEER_CLOSED && sentResponse ? CLOSED_AFTER_RESPONSE : undefined;
}
