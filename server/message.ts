// Turning what the application sends into message bytes, and the checks every send makes
// (shared by Session and LightweightSecureClient): text is UTF-8 on the wire, 1..65528
// bytes, only on an open session, and never past the session's send-queue cap or the
// server's budget for all its queues.

import { MAX_MESSAGE_LENGTH } from "../firmware/core/index.js";
import { ERR_MESSAGE_SIZE, ERR_NOT_OPEN, ERR_SEND_QUEUE_FULL, LwstcpError } from "./errors.js";
import type { SocketDriver } from "./socket-driver.js";

export type Message = string | Uint8Array;

/** The bytes a message puts on the wire; throws ERR_LWSTCP_MESSAGE_SIZE for 0 or more than 65528 bytes. */
export function messageBytes(message: Message): Uint8Array {
  let bytes: Uint8Array;
  if (typeof message === "string") bytes = Buffer.from(message, "utf8");
  else if (message instanceof Uint8Array) bytes = message;
  else throw new LwstcpError(ERR_MESSAGE_SIZE, "a message must be a string or a Uint8Array, got " + typeof message);
  if (bytes.length === 0) throw new LwstcpError(ERR_MESSAGE_SIZE, "cannot send an empty message: the protocol has no 0-byte messages");
  if (bytes.length > MAX_MESSAGE_LENGTH) {
    throw new LwstcpError(
      ERR_MESSAGE_SIZE,
      "cannot send a message of " + bytes.length + " bytes: the protocol carries at most " + MAX_MESSAGE_LENGTH + " bytes per message (split it)",
    );
  }
  return bytes;
}

/**
 * Encrypts and queues one message on an open connection. Returns false when the socket's
 * buffer is over its high-water mark (wait for 'drain' before sending much more).
 */
export function sendMessageOn(driver: SocketDriver | null, message: Message, maxQueuedBytes: number, onSent?: () => void): boolean {
  const bytes = messageBytes(message);
  if (!driver || !driver.connection.isOpen) {
    throw new LwstcpError(
      ERR_NOT_OPEN,
      "cannot send: " + (driver && driver.connection.state === 0 ? "the handshake has not completed" : "the session is not open"),
    );
  }
  // Wire bytes, as the queue holds them: a 1-byte message costs a whole block and its header.
  const size = driver.wireSize(bytes.length);
  if (driver.queuedBytes + size > maxQueuedBytes) {
    throw new LwstcpError(
      ERR_SEND_QUEUE_FULL,
      "cannot send: " + driver.queuedBytes + " bytes already wait for the socket (cap " + maxQueuedBytes + "); wait for 'drain'",
      { peer: driver.peer },
    );
  }
  // A session whose queue is empty may always queue one packet: others cannot starve it of the
  // budget, and a peer that stopped reading always shows a queue that does not move (stalled).
  const budget = driver.budget;
  if (budget && driver.queuedBytes > 0 && budget.used + size > budget.limit) {
    throw new LwstcpError(
      ERR_SEND_QUEUE_FULL,
      "cannot send: the server's send queues hold " + budget.used + " bytes, its budget is " + budget.limit + "; wait for 'drain'",
      { peer: driver.peer },
    );
  }
  return driver.send(bytes, onSent ? (error) => error || onSent() : undefined);
}
